"""Front-end libraries served by the app itself (/vendor/<lib>/<path>): no CDN, ever.

Files come only from the directories listed in gisdesk.maps.vendor.LIBS, through
send_from_directory (no path traversal). URLs carry the library version, so browsers may
keep them for a year.
"""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory, url_for

from gisdesk.maps.vendor import LIBS
from gisdesk.web.auth import public

bp = Blueprint("assets", __name__)
ONE_YEAR = 365 * 24 * 3600


@bp.route("/vendor/<lib>/<path:path>")
@public  # Leaflet is no secret; the login page may need it later
def vendor(lib: str, path: str):
    entry = LIBS.get(lib)
    if entry is None or not entry.directory.is_dir():
        abort(404)
    response = send_from_directory(entry.directory, path, max_age=ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True  # the URL changes with the version (?v=)
    return response


def vendor_url(lib: str, path: str) -> str:
    return url_for("assets.vendor", lib=lib, path=path, v=LIBS[lib].version)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["vendor_url"] = vendor_url
