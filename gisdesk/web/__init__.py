"""The Flask app factory: settings, extensions, blueprints; nothing is built at import."""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

from flask import Flask, g, request
from flask_wtf.csrf import CSRFProtect

from gisdesk.config import cookie_secure, hsts_seconds, load_settings, secret_key
from gisdesk.db.engine import engine_for, read_engine_for
from gisdesk.web import public_url

ROOT = Path(__file__).resolve().parent.parent.parent
csrf = CSRFProtect()
LOGGER = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    settings = load_settings(test_config)
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(Path(__file__).parent / "static"), static_url_path="/static")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure(settings),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=cookie_secure(settings),
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the session (long election days)
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by auth after the caller is known (tokens skip it)
        TESTING=settings.testing,
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    app.extensions["gisdesk.settings"] = settings
    app.wsgi_app = public_url.wrap(app.wsgi_app, settings)
    hsts = hsts_seconds(settings)
    app.extensions["gisdesk.engine"] = engine_for(settings)
    # the streaming replica for read-only views, or the primary itself (gisdesk.web.dbs)
    app.extensions["gisdesk.read_engine"] = read_engine_for(settings)

    csrf.init_app(app)
    from gisdesk.web import auth, db_health, dbs, errors, filters, input_guard, pages
    db_health.init_app(app)
    dbs.init_app(app)
    filters.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    for module in _blueprint_modules():
        module.init_app(app)
    errors.claim_database_errors(app)

    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    # Ahead of every other check (modules may have put theirs first): the nonce, so every
    # answer (a refusal too) carries it; one 503 while the database is down, before anything
    # loads the user; one 422 for input no view should see (NUL, surrogates, deep JSON).
    app.before_request_funcs.setdefault(None, [])[:0] = [
        _nonce, db_health.before_request, input_guard.guard]

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        # static files may be cached; their error answers (a 503 too) may not
        if (request.endpoint not in ("static", "assets.vendor") or response.status_code >= 400) \
                and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", _csp(g.get("csp_nonce", "")))
        return response

    return app


# Scripts only from the app itself or inline with this request's nonce (Folium's map script
# carries it); styles may be inline because Leaflet positions everything with style attributes.
# Base tiles are the one outside host, and only when the user picks the OSM base layer.
def _csp(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https://tile.openstreetmap.org https://*.tile.openstreetmap.org",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _blueprint_modules():
    """Every blueprint module, registered through one door: each exposes init_app(app)."""
    from gisdesk import api
    from gisdesk.web import (account, assets, bulk, entry, map_download, mapview, quickcount,
                             readiness_pages, tiles_view)
    return (assets, mapview, api, quickcount, entry, bulk, readiness_pages, tiles_view,
            account, map_download)
