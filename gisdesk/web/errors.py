"""Domain errors and HTTP errors to responses, in one place; never a stack trace to users.

Also the two answers that must not tell anything: a 404 is the same for an unknown URL and a
secret one (a 405 on a URL whose every route is hidden from the caller becomes that 404), and
while the database is down every URL gets one 503 (``gisdesk.web.db_health``).
"""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from gisdesk.errors import DatabaseUnavailable, GisdeskError, InputRejected
from gisdesk.web.auth import hidden_from_caller, login_manager, wants_json
from gisdesk.web.db_health import MESSAGE as DB_DOWN, health

LOGGER = logging.getLogger(__name__)
# Werkzeug's English descriptions, said in Indonesian (every word on screen)
HTTP_MESSAGES = {
    400: "Permintaan tidak dapat dibaca.",
    404: "Alamat yang diminta tidak ditemukan.",
    405: "Metode ini tidak diizinkan untuk alamat ini.",
    413: "Kiriman terlalu besar.",
    415: "Jenis isi kiriman tidak didukung.",
    429: "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.",
}


def _respond(status: int, message: str, **extra):
    if wants_json():
        return jsonify({"error": message, "status": status, **extra}), status
    return render_template("error.html", status=status, message=message, **extra), status


def _unavailable():
    # the user is not loaded (that needs the database): the page renders as signed out
    g._login_user = login_manager.anonymous_user()
    body, status = _respond(503, DB_DOWN)
    return body, status, {"Retry-After": "5"}


def _allowed_endpoints(exc: MethodNotAllowed) -> list[str]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    found = []
    for method in exc.valid_methods or ():
        try:
            found.append(adapter.match(method=method)[0])
        except HTTPException:
            continue
    return found


def init_app(app) -> None:
    @app.errorhandler(GisdeskError)
    def _domain(exc: GisdeskError):
        extra = {"field": exc.field} if exc.field else {}
        if isinstance(exc, InputRejected):
            extra["problems"] = [p.as_dict() for p in exc.problems]
        return _respond(exc.status, exc.message, **extra)

    @app.errorhandler(DatabaseUnavailable)
    def _db_down(exc: DatabaseUnavailable):
        return _unavailable()

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        # "csrf": true lets the offline queue fetch a fresh token and resend, not drop
        return _respond(400, "Token keamanan (CSRF) tidak valid atau kedaluwarsa; muat ulang "
                             "halaman atau masuk lagi.", csrf=True)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if isinstance(exc, (NotFound, MethodNotAllowed)) and not health().ping():
            return _unavailable()      # an unknown URL must not answer otherwise than a known one
        if isinstance(exc, MethodNotAllowed) and hidden_from_caller(_allowed_endpoints(exc)):
            exc = NotFound()
        code = exc.code or 500
        default = type(exc).description
        message = HTTP_MESSAGES.get(code) if exc.description == default else exc.description
        return _respond(code, message or exc.description or exc.name)

    @app.errorhandler(sa_exc.DataError)
    def _data(exc: sa_exc.DataError):
        # a value PostgreSQL cannot take (out of range, bad text): the caller's input
        LOGGER.warning("input refused by the database: %s", str(exc.orig)[:200])
        return _respond(422, "Isian tidak dapat diproses: nilainya di luar batas atau tidak "
                             "sah.")

    app.register_error_handler(Exception, _unexpected)


def _unexpected(exc: Exception):
    if health().explains(exc):
        return _unavailable()
    LOGGER.exception("unhandled error")
    return _respond(500, "Terjadi kesalahan pada server. Kejadian ini sudah dicatat.")


DB_ERRORS = (DatabaseUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError)


def claim_database_errors(app) -> None:
    """Flask asks a blueprint's handlers before the app's, whatever the class: a blueprint
    with its own catch-all (the API's) would answer "database down" in its own shape. Call
    after every blueprint is registered: database errors get the app's one answer everywhere."""
    for name, by_code in list(app.error_handler_spec.items()):
        if name is not None and by_code.get(None):
            for cls in DB_ERRORS:
                by_code[None][cls] = _unexpected
