"""WSGI entry for gunicorn: `gunicorn gisdesk.web.wsgi:app` (what `gisdesk serve --workers N`
runs). Each worker builds its own app (and connection pools) after the fork.

Behind a reverse proxy (nginx, Caddy) set GISDESK_TRUSTED_PROXIES to the number of proxies
in front, so the client address (login throttling per address, audit log) and https come
from X-Forwarded-For / X-Forwarded-Proto (and the host from X-Forwarded-Host unless
GISDESK_PUBLIC_URL names it). Never set it when clients can reach the app directly: they
could then choose their own address. The app factory applies both (gisdesk.web.public_url),
so every way of serving the app (this module, tests, `gisdesk serve`) behaves the same.
"""
from __future__ import annotations

from gisdesk.web import create_app

app = create_app()
