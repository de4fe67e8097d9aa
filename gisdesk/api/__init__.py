"""The HTTP API: OGC API Features under /api, its OpenAPI document, and file downloads.

Errors under /api are JSON ``{"code", "description"}`` (plus ``field`` when one is at fault),
400/401/403/404, never a stack trace. Registered by the app factory through ``init_app``.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from gisdesk import layers as registry
from gisdesk.errors import GisdeskError, InputRejected

LOGGER = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api")
downloads = Blueprint("downloads", __name__)
CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden",
         404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable", 429: "TooManyRequests",
         500: "ServerError",
         503: "ServiceUnavailable"}


def error(status: int, description: str, field: str | None = None):
    body = {"code": CODES.get(status, "Error"), "description": description}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        # a Bearer challenge only: a Basic one would make browsers ask for (and cache) a
        # password; QGIS and GDAL send their Basic credentials without being asked
        response.headers["WWW-Authenticate"] = 'Bearer realm="gisdesk"'
    return response


def _domain_error(exc: GisdeskError):
    # input problems in a query are the client's: 400 as OGC API Features asks
    status = 400 if isinstance(exc, InputRejected) else exc.status
    if status >= 500:
        LOGGER.error("API error %s: %s", status, exc.message)
    return error(status, exc.message, exc.field)


def _http_error(exc: HTTPException):
    return error(exc.code or 500, exc.description or exc.name)


def _unexpected(exc: Exception):
    LOGGER.exception("unhandled API error")
    return error(500, "Terjadi kesalahan pada server. Kejadian ini sudah dicatat.")


for _blueprint in (bp, downloads):
    _blueprint.register_error_handler(GisdeskError, _domain_error)
    _blueprint.register_error_handler(HTTPException, _http_error)
    _blueprint.register_error_handler(Exception, _unexpected)


def _api_401():
    """Anonymous calls to /api get the API's own 401 JSON (the app's check would answer too,
    in its own shape). Runs before the app's access check and can only refuse."""
    if request.blueprint == "api" and not current_user.is_authenticated:
        return error(401, "Silakan masuk (login), atau kirim token API pribadi: "
                          "'Authorization: Bearer <token>', atau HTTP Basic dengan nama "
                          "pengguna dan token sebagai kata sandi (buat token di /akun).")
    return None


def init_app(app) -> None:
    if "gisdesk.layers" not in app.extensions:  # the map module normally loads them
        app.extensions["gisdesk.layers"] = registry.load(
            app.extensions["gisdesk.settings"].layers_dir)
    from gisdesk.api import ogc, openapi  # noqa: F401  (routes attach to bp / downloads)
    app.register_blueprint(bp)
    app.register_blueprint(downloads)
    app.before_request_funcs.setdefault(None, []).insert(0, _api_401)
