"""WSGI entry for gunicorn: `gunicorn gisdesk.web.wsgi:app` (what `gisdesk serve --workers N`
runs). Each worker builds its own app (and connection pools) after the fork.

Behind a reverse proxy (nginx, Caddy) set GISDESK_TRUSTED_PROXIES to the number of proxies
in front, so the client address (login rate limit per address, audit log) and https come
from X-Forwarded-For / X-Forwarded-Proto / X-Forwarded-Host. Never set it when clients can
reach the app directly: they could then choose their own address.
"""
from __future__ import annotations

import os

from gisdesk.web import create_app


def wrap(flask_app):
    """The app as served: behind ProxyFix when GISDESK_TRUSTED_PROXIES > 0."""
    proxies = int(os.environ.get("GISDESK_TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix
        flask_app.wsgi_app = ProxyFix(flask_app.wsgi_app, x_for=proxies, x_proto=proxies,
                                      x_host=proxies)
    return flask_app


app = wrap(create_app())
