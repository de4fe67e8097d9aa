"""`gisdesk serve`: the web app (development server, or gunicorn with --workers)."""
from __future__ import annotations

import click


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default GISDESK_PORT or 5000).")
@click.option("--workers", type=int, default=0,
              help="Run under gunicorn with this many worker processes (production).")
@click.option("--demo-banner", is_flag=True, hidden=True,
              help="Print the demo logins (used by `make run`).")
@click.pass_obj
def serve(obj, host, port, workers, demo_banner):
    """Serve the web app."""
    host = host or obj.settings.host
    port = port or obj.settings.port
    from gisdesk.db.engine import database_url
    database_url(obj.settings)  # start the embedded cluster before the app needs it
    click.echo(f"gisdesk: http://{host}:{port}/")
    if demo_banner:
        from gisdesk.cli.demo_banner import banner
        click.echo(banner(obj))
    if workers:
        from gunicorn.app.wsgiapp import run as gunicorn_run
        import sys
        sys.argv = ["gunicorn", "-w", str(workers), "-b", f"{host}:{port}",
                    "gisdesk.web.wsgi:app"]
        gunicorn_run()
        return
    from werkzeug.serving import run_simple
    from gisdesk.web import create_app
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)
