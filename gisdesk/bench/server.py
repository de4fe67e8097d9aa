"""A real app server for the browser and concurrency measurements: `gisdesk serve` in a
child process on a free port (werkzeug threaded, or gunicorn with ``workers``), with its
analysis worker beside it (as `make run` and production run it)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(url: str, home: Path, *, workers: int | None = None, log=print):
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GISDESK_DATABASE_URL": url, "GISDESK_HOME": str(home),
           "GISDESK_SECRET_KEY": "bench-secret", "GISDESK_LOGIN_RATE_LIMIT": "100000/60",
           "GISDESK_PORT": str(port), "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-c", "from gisdesk.cli import main; main()", "serve",
           "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers)] if workers else ["--dev"]
    out = open(home / "server.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except Exception:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("server did not start: "
                                       + (home / "server.log").read_text()[-800:])
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        out.close()
