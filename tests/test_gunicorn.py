"""Production serving: `gisdesk serve --workers 2` under gunicorn, against a demo database.

Two sync workers (one request at a time each), so concurrent requests must spread over both;
the access log names the worker (pid) of every request. A session made by one worker is
honoured by the other (shared GISDESK_SECRET_KEY), and the login rate limit holds across
workers because the failures are counted in the database.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from gisdesk.cli.serve import gunicorn_argv
from gisdesk.demo.taxonomy import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
GISDESK = ROOT / ".venv" / "bin" / "gisdesk"
LIMIT = 3                        # failed logins per user name and address within the window
SERVER: dict = {}               # the pid of `gisdesk serve`
LOG_LINE = re.compile(r"^ACCESS <?(\d+)>? (\S+) (\S+) (\d{3})$")   # %(p)s is "<pid>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_engine, tmp_path_factory):
    """(base URL, access log path) of a running `gisdesk serve --workers 2`."""
    home = tmp_path_factory.mktemp("gunicorn-home")
    log = home / "server.log"
    port = _free_port()
    env = {**os.environ,
           "GISDESK_DATABASE_URL": demo_engine.url.render_as_string(hide_password=False),
           "GISDESK_HOME": str(home),
           "GISDESK_SECRET_KEY": "uji-" + "k" * 40,
           # the first delay as long as the window: refused for the whole test once slowed
           "GISDESK_LOGIN_RATE_LIMIT": f"{LIMIT}/300/300",
           "GUNICORN_CMD_ARGS": "--access-logformat 'ACCESS %(p)s %(m)s %(U)s?%(q)s %(s)s'"}
    env.pop("GISDESK_READ_DATABASE_URL", None)
    exe = str(GISDESK) if GISDESK.exists() else "gisdesk"
    with open(log, "w") as out:
        proc = subprocess.Popen([exe, "serve", "--workers", "2", "--threads", "1",
                                 "--host", "127.0.0.1", "--port", str(port)],
                                cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    SERVER["pid"] = proc.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if requests.get(base + "/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:   # not listening yet, or workers still booting
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield base, log
    finally:
        proc.send_signal(signal.SIGTERM)     # gunicorn: graceful shutdown of the workers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _children(pid: int) -> list[str]:
    """Command lines of the processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:     # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(cmdline)
    return found


def test_serve_runs_one_analysis_worker_beside_the_web_workers(server):
    children = _children(SERVER["pid"])
    workers = [c for c in children if "gisdesk.cli worker" in c]
    assert len(workers) == 1, children          # one per deployment, not one per web worker
    assert len(children) == 3, children         # and the two gunicorn web workers


def served(log: Path) -> dict[str, tuple[int, str]]:
    """probe id -> (worker pid, status) from the access log."""
    out = {}
    for line in log.read_text().splitlines():
        m = LOG_LINE.match(line.strip())
        if m:
            probe = re.search(r"probe=([0-9a-f]+)", m.group(3))
            if probe:
                out[probe.group(1)] = (int(m.group(1)), m.group(4))
    return out


def _wait_logged(log: Path, probes: list[str]) -> dict[str, tuple[int, str]]:
    deadline = time.monotonic() + 10
    while True:
        seen = served(log)
        if all(p in seen for p in probes) or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def _workers_answering(log, call, status: int) -> int:
    """Send ``call`` in parallel bursts until both workers have answered (or 10 bursts);
    every answer must be ``status``. Returns how many workers answered."""
    answered_by: set[int] = set()
    probes: list[str] = []
    with ThreadPoolExecutor(4) as pool:
        for _ in range(10):
            results = list(pool.map(call, range(8)))
            assert all(got == status for _, got in results), results
            probes += [p for p, _ in results]
            seen = _wait_logged(log, probes)
            answered_by = {seen[p][0] for p in probes if p in seen}
            if len(answered_by) >= 2:
                break
    return len(answered_by)


def _csrf(session: requests.Session, base: str) -> str:
    page = session.get(base + "/login", headers={"Connection": "close"}).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


CLOSE = {"Connection": "close"}      # a new connection per request: any worker may take it


def test_gunicorn_command_line():
    argv = gunicorn_argv("0.0.0.0", 8000, workers=5, threads=4, timeout=600, access_log="-")
    assert argv[-1] == "gisdesk.web.wsgi:app"
    joined = " ".join(argv)
    for part in ("--workers 5", "--bind 0.0.0.0:8000", "--timeout 600",
                 "--worker-class gthread", "--threads 4", "--access-logfile -",
                 "--no-control-socket"):
        assert part in joined
    assert "gthread" not in " ".join(gunicorn_argv("h", 1, workers=2, threads=1))


def test_healthz_and_workers(server):
    base, log = server
    resp = requests.get(base + "/healthz", headers=CLOSE, timeout=10)
    assert resp.status_code == 200 and resp.json() == {"status": "ok", "database": "ok"}
    assert "gunicorn" in log.read_text().lower()
    assert requests.get(base + "/map", headers=CLOSE, allow_redirects=False,
                        timeout=10).status_code == 302   # login first


def test_one_login_serves_requests_on_both_workers(server):
    base, log = server
    session = requests.Session()
    resp = session.post(base + "/login", headers=CLOSE, allow_redirects=False, timeout=30,
                        data={"username": "perencana", "password": DEMO_PASSWORD,
                              "csrf_token": _csrf(session, base)})
    assert resp.status_code == 302, resp.text[:300]
    cookies = session.cookies.get_dict()

    def fetch(i: int) -> tuple[str, int]:
        probe = uuid.uuid4().hex
        path = ("/map/summary.json", "/map/gaps.json", "/api/collections",
                "/api/collections/kecamatan")[i % 4]
        r = requests.get(f"{base}{path}?probe={probe}", cookies=cookies, headers=CLOSE,
                         allow_redirects=False, timeout=60)
        return probe, r.status_code

    pids: set[int] = set()
    probes: list[str] = []
    with ThreadPoolExecutor(6) as pool:
        for _ in range(10):                      # at most 10 bursts; usually one is enough
            results = list(pool.map(fetch, range(12)))
            assert all(status == 200 for _, status in results), results
            probes += [p for p, _ in results]
            seen = _wait_logged(log, probes)
            pids = {seen[p][0] for p in probes if p in seen}
            if len(pids) >= 2:
                break
    assert len(pids) == 2, f"all {len(probes)} requests were served by one worker"


def test_login_rate_limit_is_shared_by_the_workers(server, demo_engine):
    from sqlalchemy import text

    base, log = server
    user = f"tebak_{uuid.uuid4().hex[:8]}"
    session = requests.Session()
    token = _csrf(session, base)
    cookies = session.cookies.get_dict()

    def attempt(_=None) -> tuple[str, int]:
        probe = uuid.uuid4().hex
        r = requests.post(f"{base}/login?probe={probe}", cookies=cookies, headers=CLOSE,
                          allow_redirects=False, timeout=60,
                          data={"username": user, "password": "salah", "csrf_token": token})
        return probe, r.status_code

    for _ in range(LIMIT):                               # one after another: exactly LIMIT
        assert attempt()[1] == 401
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rate_limit_hit WHERE bucket = :b"),
                            {"b": f"login:ua:{user}|127.0.0.1"}).scalar() == LIMIT
    # from now on every worker refuses, including one that counted none of the failures
    assert _workers_answering(log, attempt, 429) == 2


def test_logout_on_one_worker_ends_the_session_on_every_worker(server):
    base, log = server
    session = requests.Session()
    token = _csrf(session, base)
    resp = session.post(base + "/login", headers=CLOSE, allow_redirects=False, timeout=30,
                        data={"username": "supervisor", "password": DEMO_PASSWORD,
                              "csrf_token": token})
    assert resp.status_code == 302, resp.text[:300]
    copied = session.cookies.get_dict()                  # what a thief would have kept
    assert requests.get(base + "/audit", cookies=copied, headers=CLOSE, allow_redirects=False,
                        timeout=30).status_code == 200
    assert session.post(base + "/logout", headers=CLOSE, allow_redirects=False, timeout=30,
                        data={"csrf_token": token}).status_code == 302

    def fetch(_=None) -> tuple[str, int]:
        probe = uuid.uuid4().hex
        r = requests.get(f"{base}/api/quickcount/summary?probe={probe}", cookies=copied,
                         headers=CLOSE, allow_redirects=False, timeout=60)
        return probe, r.status_code

    assert _workers_answering(log, fetch, 401) == 2       # both workers refused the cookie
