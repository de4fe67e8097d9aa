"""`gisdesk serve`: the web app under gunicorn, with the background worker beside it.

The app runs under gunicorn: ``--workers`` processes, each with ``--threads`` threads, all
sharing the database (sessions are signed cookies, login failure counters live in the
database, so any worker can answer any request). ``--dev`` serves with Werkzeug's
development server instead. Beside the web workers it starts ONE `gisdesk worker` process
(analysis queue and clock), stopped with it; ``--no-worker`` when a worker runs elsewhere.
Layout for several machines: docs/DEPLOYMENT.md.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys

import click


@click.command()
@click.option("--host", default=None, help="Alamat yang didengarkan (bawaan 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (bawaan GISDESK_PORT atau 5000).")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Proses pekerja web gunicorn (produksi: sekitar 2 x inti CPU + 1).")
@click.option("--dev", is_flag=True,
              help="Server pengembangan Werkzeug (satu proses) sebagai ganti gunicorn.")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Jalankan pekerja latar (analisis) di samping pekerja web; "
                   "--no-worker bila `gisdesk worker` berjalan di tempat lain.")
@click.option("--threads", type=int, default=4, show_default=True,
              help="Utas per pekerja gunicorn (halaman peta memantau; ekspor mengalir).")
@click.option("--timeout", type=int, default=300, show_default=True,
              help="Detik yang boleh dipakai pekerja gunicorn untuk satu permintaan sebelum "
                   "dimulai ulang (ekspor panjang lapisan nasional).")
@click.option("--access-log", default="-", show_default=True,
              help="Berkas log akses gunicorn ('-' = stdout, '' = tidak ada).")
@click.option("--proxies", type=int, default=None,
              help="Jumlah reverse proxy tepercaya di depan (nginx/Caddy): alamat klien "
                   "dan skema diambil dari header X-Forwarded-* mereka "
                   "(bawaan GISDESK_TRUSTED_PROXIES atau 0).")
@click.option("--max-requests", type=int, default=0, show_default=True,
              help="Mulai ulang pekerja gunicorn setelah sekian permintaan (0 = tidak pernah).")
@click.option("--demo-banner", is_flag=True, hidden=True,
              help="Cetak akun demo (dipakai `make run`).")
@click.pass_obj
def serve(obj, host, port, workers, dev, with_worker, threads, timeout, access_log, proxies,
          max_requests, demo_banner):
    """Jalankan aplikasi web."""
    host = host or obj.settings.host
    port = port or obj.settings.port
    from gisdesk.config import secret_key
    from gisdesk.db.engine import database_url
    database_url(obj.settings)  # start the embedded cluster before the app needs it
    # created once here, not raced by N workers each generating their own
    secret_key(obj.settings)
    # one pooled connection per request thread (plus the token check's sharing it): a pool
    # sized to the threads, so N workers stay well under the server's max_connections
    os.environ.setdefault("GISDESK_DB_POOL_SIZE", str(max(threads, 1) + 1))
    if proxies is not None:
        os.environ["GISDESK_TRUSTED_PROXIES"] = str(proxies)
    click.echo(f"gisdesk: http://{host}:{port}/")
    if demo_banner:
        from gisdesk.cli.demo_banner import banner
        click.echo(banner(obj))
    if with_worker:
        start_worker()
    if workers and not dev:
        from gunicorn.app.wsgiapp import run as gunicorn_run
        sys.argv = gunicorn_argv(host, port, workers=workers, threads=threads,
                                 timeout=timeout, access_log=access_log,
                                 max_requests=max_requests)
        gunicorn_run()
        return
    from werkzeug.serving import run_simple
    from gisdesk.web.wsgi import app  # the same app gunicorn serves (ProxyFix included)
    run_simple(host, port, app, threaded=True, use_reloader=False)


def start_worker() -> subprocess.Popen:
    """One `gisdesk worker` process beside the web server (never one per web worker); it
    stops with this process (atexit here, and it watches its parent)."""
    proc = subprocess.Popen([sys.executable, "-m", "gisdesk.cli", "worker", "--exit-with-parent"])
    owner = os.getpid()

    def stop() -> None:
        # gunicorn forks its web workers from this process: they inherit this handler
        if os.getpid() == owner and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    atexit.register(stop)
    return proc


def gunicorn_argv(host: str, port: int, *, workers: int, threads: int = 4,
                  timeout: int = 300, access_log: str = "-", max_requests: int = 0) -> list:
    """The gunicorn command line for ``gisdesk serve --workers N`` (GUNICORN_CMD_ARGS and a
    gunicorn.conf.py in the working directory still apply, as gunicorn documents)."""
    argv = ["gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}",
            "--timeout", str(timeout), "--graceful-timeout", "30", "--keep-alive", "5",
            # several servers (or checkouts) on one machine: no shared ~/.gunicorn socket
            "--no-control-socket"]
    if threads > 1:
        argv += ["--worker-class", "gthread", "--threads", str(threads)]
    if access_log:
        argv += ["--access-logfile", access_log]
    if max_requests:
        argv += ["--max-requests", str(max_requests),
                 "--max-requests-jitter", str(max(1, max_requests // 10))]
    if os.path.isdir("/dev/shm"):
        argv += ["--worker-tmp-dir", "/dev/shm"]   # heartbeat files off slow disks
    return argv + ["gisdesk.web.wsgi:app"]
