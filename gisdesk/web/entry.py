"""Incident and readiness entry over HTTP: the JSON API and the /lapor and /insiden pages.

CSRF: API calls authenticated by a bearer token need no CSRF token; calls on a browser
session must send the page's token in ``X-CSRFToken`` (Flask-WTF reads it).
A map page can open the form at a point with ``/lapor?lat=-8.58&lon=116.08`` (prefilled), or
load ``static/entry.js`` and call ``GisdeskEntry.enqueue({...})`` (see that file).
"""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from gisdesk.entry import WITA, active_election, incidents, readiness, review, wita
from gisdesk.entry.coords import CoordsError, parse_coords
from gisdesk.entry.incidents import NeedsConfirmation, parse_time
from gisdesk.entry.placement import area_centre, locate
from gisdesk.entry.taxonomy import load_taxonomy
from gisdesk.errors import InputRejected, Problem
from gisdesk.web.auth import requires
from gisdesk.web.dbs import write_connection

bp = Blueprint("entry", __name__)
MAX_PAGE = 500


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.errorhandler(NeedsConfirmation)
def _needs_confirmation(exc: NeedsConfirmation):
    return jsonify({"error": exc.message, "warnings": exc.warnings, "needs_confirmation": True,
                    "field": exc.warnings[0]["field"] if exc.warnings else None,
                    "problems": [p.as_dict() for p in exc.problems], "status": 422}), 422


def _engine():
    return current_app.extensions["gisdesk.engine"]


def _tax():
    settings = current_app.extensions["gisdesk.settings"]
    return load_taxonomy(settings.extra.get("incident_types_file"))


def _body() -> dict:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else {}


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise InputRejected(f"{name} harus bilangan {low}..{high}.",
                            [Problem(None, name, "di luar rentang", value=raw)], field=name)
    return value


def _filters() -> dict:
    since = request.args.get("since") or None
    if since:
        since = re.sub(r" (\d{2}:?\d{2})$", r"+\1", since)  # an unencoded "+" in the URL
        try:
            since = parse_time(since if len(since) > 10 else since + "T00:00")
        except ValueError:
            raise InputRejected("since: waktu ISO 8601, mis. 2024-02-14 atau "
                                "2024-02-14T07:00 (WITA).", field="since") from None
    return {"status": request.args.get("status") or None, "since": since,
            "kelurahan": request.args.get("kelurahan") or None,
            "limit": _int_arg("limit", 50, 1, MAX_PAGE),
            "offset": _int_arg("offset", 0, 0, 10**9)}


# --- JSON API --------------------------------------------------------------------------

@bp.post("/api/incidents")
@requires("report")
def create_incident():
    created, report = incidents.submit(write_connection(), request.get_json(silent=True),
                                       tax=_tax(), reporter_id=current_user.id,
                                       actor=current_user.username,
                                       scope=current_user.write_scope)
    response = jsonify(report)
    response.status_code = 201 if created else 200
    response.headers["Location"] = url_for("entry.get_incident", incident_id=report["id"])
    return response


@bp.get("/api/incidents")
@requires("view")
def list_incidents():
    filters = _filters()
    with _engine().connect() as conn:
        election = active_election(conn)
        page = incidents.list_incidents(conn, election_id=election["id"], tax=_tax(), **filters)
    if page["offset"] + len(page["items"]) < page["total"]:
        args = {**request.args.to_dict(), "offset": page["offset"] + page["limit"]}
        page["next"] = url_for("entry.list_incidents", **args)
    return jsonify(page)


@bp.get("/api/incidents/<uuid:incident_id>")
@requires("view")
def get_incident(incident_id):
    with _engine().connect() as conn:
        return jsonify(incidents.get_incident(conn, incident_id, _tax()))


@bp.post("/api/incidents/<uuid:incident_id>/<any(verify, reject, resolve, merge):action>")
@requires("review")
def review_incident(incident_id, action):
    body = _body()
    with _engine().begin() as conn:
        report = review.review(conn, incident_id, action, actor=current_user.username,
                               note=body.get("reason") or body.get("note"),
                               into=body.get("into"), tax=_tax())
    return jsonify(report)


@bp.get("/api/incidents/<uuid:incident_id>/duplicates")
@requires("review")
def incident_duplicates(incident_id):
    with _engine().connect() as conn:
        items = review.duplicates(conn, incident_id, _tax())
    return jsonify({"items": items, "radius_m": _tax().duplicate_radius_m,
                    "window_hours": _tax().duplicate_window_hours})


@bp.get("/api/incidents/<uuid:incident_id>/candidates")
@requires("review")
def merge_candidates(incident_id):
    """Reports this one may be merged into: likely duplicates first, then nearby ones."""
    with _engine().connect() as conn:
        return jsonify({"items": review.merge_candidates(conn, incident_id, _tax())})


@bp.post("/api/tps/<tps_kode>/readiness")
@requires("report")
def update_readiness(tps_kode):
    created, result = readiness.update(write_connection(), tps_kode,
                                       request.get_json(silent=True), tax=_tax(),
                                       actor=current_user.username,
                                       scope=current_user.write_scope)
    return jsonify(result), 201 if created else 200


@bp.post("/api/readiness")
@requires("report")
def update_readiness_batch():
    """Many TPS checklists in one request (an offline queue): all stored, or none."""
    result = readiness.update_batch(write_connection(), request.get_json(silent=True),
                                    tax=_tax(), actor=current_user.username,
                                    scope=current_user.write_scope)
    return jsonify(result), 201 if result["created"] else 200


@bp.get("/api/tps/<tps_kode>/readiness")
@requires("view")
def get_readiness(tps_kode):
    with _engine().connect() as conn:
        return jsonify(readiness.readiness(conn, tps_kode, _tax()))


@bp.get("/api/coords/parse")
@requires("report", "view")
def parse_coordinates():
    """The typed point read back, with where it falls (so the form warns before sending a
    point outside the work area)."""
    with _engine().connect() as conn:
        try:
            parsed = parse_coords(request.args.get("q", ""), lambda: area_centre(conn))
        except CoordsError as exc:
            raise InputRejected(str(exc), field="coords") from None
        where = locate(conn, parsed.lon, parsed.lat, tax=_tax(),
                       wilayah=active_election(conn).get("wilayah_kode"))
    return jsonify({**parsed.as_dict(), **where})


# --- pages -----------------------------------------------------------------------------

def _prefill() -> dict:
    out = {}
    for key in ("lat", "lon"):
        try:
            out[key] = float(request.args.get(key, ""))
        except ValueError:
            return {"tps": request.args.get("tps", "")[:40]}
    out["coords"] = f"{out['lat']:.6f}, {out['lon']:.6f}"
    out["tps"] = request.args.get("tps", "")[:40]
    return out


@bp.get("/lapor")
@requires("report")
def report_page():
    tax = _tax()
    groups = {}
    for cat in tax.categories.values():
        groups.setdefault(tax.jenis.get(cat.jenis, cat.jenis), []).append(cat)
    return render_template("entry/lapor.html", groups=groups, tax=tax, prefill=_prefill(),
                           reporter=current_user.row.get("full_name") or current_user.username)


@bp.get("/insiden")
@requires("view")
def incidents_page():
    tax, filters = _tax(), _filters()
    can_review = current_user.can("review")
    with _engine().connect() as conn:
        election = active_election(conn)
        page = incidents.list_incidents(conn, election_id=election["id"], tax=tax,
                                        with_duplicates=can_review, **filters)
        kelurahan = conn.execute(text(
            "SELECT DISTINCT k.kode, k.nama FROM incident i JOIN kelurahan k "
            "ON k.kode = i.kelurahan_kode WHERE i.election_id = :e ORDER BY k.kode"),
            {"e": election["id"]}).all()
    for item in page["items"]:
        item["occurred_wita"] = wita(dt.datetime.fromisoformat(item["occurred_at"]))
    since = filters["since"].astimezone(WITA).date().isoformat() if filters["since"] else ""
    return render_template("entry/insiden.html", page=page, tax=tax, election=election,
                           can_review=can_review, kelurahan=kelurahan, since=since,
                           args=request.args.to_dict(), can_report=current_user.can("report"))
