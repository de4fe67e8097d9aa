"""Plain pages: health check and the landing page."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, url_for
from sqlalchemy import text

from gisdesk.web.auth import public, requires

bp = Blueprint("pages", __name__)


@bp.route("/healthz")
@public
def healthz():
    try:
        with current_app.extensions["gisdesk.engine"].connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "database": "ok"})
    except Exception:  # the health check reports, it does not raise
        return jsonify({"status": "degraded", "database": "unreachable"}), 503


@bp.route("/")
@requires("view", "result_entry")
def index():
    return redirect(url_for("mapview.map_page")) if "mapview.map_page" in \
        current_app.view_functions else "gisdesk"
