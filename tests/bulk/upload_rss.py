"""Run by test_upload_limits in its own process: post one garbage file to /unggah and print
the status and how much the process's peak RSS grew during the request (MB), as JSON."""
from __future__ import annotations

import io
import json
import re
import resource
import sys


def rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    return kb / 1024


def main(url: str, home: str, user: str, password: str, rows: int) -> None:
    from gisdesk.web import create_app
    app = create_app({"database_url": url, "testing": True, "home": home,
                      "secret_key": "rss", "login_rate_limit": "1000/300"})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": token}).status_code == 302
    body = b"kode_tps,kelas,tanggal,skor,catatan\n" + b"x,y,z,1,2\n" * rows
    client.get("/unggah")                       # warm up templates and imports
    before = rss_now_mb()
    response = client.post("/unggah", data={
        "kind": "ratings", "source": "polri", "csrf_token": token,
        "file": (io.BytesIO(body), "sampah.csv")}, content_type="multipart/form-data")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"status": response.status_code, "bytes": len(response.get_data()),
                      "file_mb": len(body) / 1e6, "grew_mb": peak - before,
                      "text": response.get_data(as_text=True)[:20000]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
