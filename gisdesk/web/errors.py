"""Domain errors and HTTP errors to responses, in one place; never a stack trace to users."""
from __future__ import annotations

import logging

from flask import jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gisdesk.errors import GisdeskError, InputRejected
from gisdesk.web.auth import wants_json

LOGGER = logging.getLogger(__name__)


def _respond(status: int, message: str, **extra):
    if wants_json():
        return jsonify({"error": message, "status": status, **extra}), status
    return render_template("error.html", status=status, message=message, **extra), status


def init_app(app) -> None:
    @app.errorhandler(GisdeskError)
    def _domain(exc: GisdeskError):
        extra = {"field": exc.field} if exc.field else {}
        if isinstance(exc, InputRejected):
            extra["problems"] = [p.as_dict() for p in exc.problems]
        return _respond(exc.status, exc.message, **extra)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        # "csrf": true lets the offline queue fetch a fresh token and resend, not drop
        return _respond(400, "Token keamanan (CSRF) tidak valid atau kedaluwarsa; muat ulang "
                             "halaman atau masuk lagi.", csrf=True)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _respond(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        LOGGER.exception("unhandled error")
        return _respond(500, "Terjadi kesalahan pada server. Kejadian ini sudah dicatat.")
