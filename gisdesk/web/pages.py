"""Plain pages: health check and the landing page."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
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


# Where each role's work is: the first page here the user's role may open is its landing
# page (petugas report, operators enter results, everyone else reads the map).
LANDING = {"desk_staff": "entry.report_page", "operator": "quickcount.input_page"}


@bp.route("/")
@requires("view", "result_entry")
def index():
    endpoint = LANDING.get(current_user.role, "mapview.map_page")
    if endpoint not in current_app.view_functions:
        endpoint = "mapview.map_page"
    return redirect(url_for(endpoint))


# The top navigation: (endpoint, label, permissions - any one suffices). Only links the
# user's role may open are shown; the quick count is absent for every other role.
NAV = [
    ("mapview.map_page", "Peta", ("view",)),
    ("entry.incidents_page", "Kejadian", ("view",)),
    ("entry.report_page", "Lapor", ("report",)),
    ("readiness.list_page", "Kesiapan TPS", ("view",)),
    ("bulk.suggestions_page", "Saran personel", ("view",)),
    ("bulk.upload_page", "Unggah berkas", ("report", "import")),
    ("quickcount.summary_page", "Hitung cepat", ("quickcount",)),
    ("quickcount.input_page", "Input hasil", ("result_entry",)),
    ("api.landing", "API", ("export",)),
    ("bulk.audit_page", "Audit", ("review",)),
    ("account.account_page", "Akun", ("view", "result_entry")),
]


@bp.app_context_processor
def _navigation():
    def nav_items():
        if not current_user.is_authenticated:
            return []
        views = current_app.view_functions
        return [{"url": url_for(ep), "label": label, "active": request.endpoint == ep}
                for ep, label, perms in NAV
                if ep in views and any(current_user.can(p) for p in perms)]
    return {"nav_items": nav_items}
