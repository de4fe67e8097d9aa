"""Internal quick count pages and API (hitung cepat): entry by agency operators, tables,
flags and the kelurahan layer for supervisors/admins. NOT official, never cached.

Secrecy is the server's job: a signed-in user whose role may not use a quick-count URL gets
the same 404 as for a URL that does not exist (not 403, not 405, same headers: decided in
``gisdesk.web.auth`` and ``gisdesk.web.errors``), so nothing reveals it; responses are
``no-store`` like every dynamic response of the app; operators
only ever see their own agency's entries. Every view of results is audited.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from gisdesk import audit
from gisdesk import quickcount as qc
from gisdesk.errors import InputRejected
from gisdesk.quickcount.rules import NUMBER_FIELDS
from gisdesk.web.auth import requires

bp = Blueprint("quickcount", __name__)


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.app_template_filter("qc_wita")
def _wita(value: str | None) -> str:
    """An ISO time (UTC) as people at the desk read it: WITA."""
    if not value:
        return "-"
    zone = ZoneInfo(current_app.extensions["gisdesk.settings"].timezone)
    return datetime.fromisoformat(value).astimezone(zone).strftime("%d-%m-%Y %H:%M WITA")


def _engine():
    return current_app.extensions["gisdesk.engine"]


def _actor() -> qc.Actor:
    return qc.Actor(current_user.username, current_user.id, current_user.role,
                    current_user.agency, current_user.kelurahan_kode)


def _rules() -> qc.QuickCountRules:
    return qc.QuickCountRules.from_mapping(current_app.config.get("QUICKCOUNT_RULES"))


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InputRejected("Kirim laporan sebagai JSON (Content-Type: application/json).")
    return body


def _viewed(conn, what: str, **detail) -> None:
    audit.record(conn, current_user.username, "quickcount.view", what,
                 {"path": request.path, **detail})


# --- entry by agency operators ----------------------------------------------------------

@bp.get("/hasil/input")
@requires("result_entry")
def input_page():
    actor = _actor()
    with _engine().begin() as conn:
        election = qc.active_election(conn)
        tps = qc.tps_choices(conn, election.id, actor.kelurahan_kode)
        contests = qc.list_contests(conn, election.id)
        mine = qc.agency_entries(conn, election.id, actor.agency) if actor.agency else []
        _viewed(conn, "hasil.input", agency=actor.agency)
    return render_template("quickcount/input.html", election=election, tps=tps,
                           contests=contests, mine=mine, agency=actor.agency,
                           notice=qc.NOTICE)


@bp.post("/api/results")
@requires("result_entry")
def post_result():
    body = _json_body()
    with _engine().begin() as conn:
        done = qc.submit_entry(conn, _actor(), body, _rules())
    tps_label = f"TPS {done.entry.tps_kode[-3:]}"
    message = (f"Laporan {tps_label} tersimpan." if done.created
               else f"Laporan {tps_label} sudah diterima sebelumnya; tidak ada perubahan.")
    return jsonify({"id": str(done.entry.id), "created": done.created, "message": message,
                    "entry": done.entry.as_json(), "keterangan": qc.NOTICE}), \
        201 if done.created else 200


@bp.get("/api/results/mine")
@requires("result_entry")
def my_results():
    actor = _actor()
    history = request.args.get("riwayat") in ("1", "true", "ya")
    with _engine().begin() as conn:
        election = qc.active_election(conn)
        entries = (qc.agency_entries(conn, election.id, actor.agency,
                                     include_superseded=history) if actor.agency else [])
        _viewed(conn, "results.mine", agency=actor.agency, count=len(entries))
    return jsonify({"keterangan": qc.NOTICE, "agency": actor.agency,
                    "entries": [e.as_json() for e in entries]})


# --- supervisors and admins -------------------------------------------------------------

def _load(conn, what: str, fmt: str):
    election = qc.active_election(conn)
    contest = qc.contest(conn, election.id, request.args.get("contest"))
    _viewed(conn, what, contest=contest.kode, format=fmt)
    return election, contest


@bp.get("/hitung-cepat")
@requires("quickcount")
def summary_page():
    with _engine().begin() as conn:
        election, contest = _load(conn, "hitung-cepat", "html")
        data = qc.summary(conn, election.id, contest)
        flags = qc.list_flags(conn, election.id, contest.id)
        all_contests = qc.list_contests(conn, election.id)
    return render_template("quickcount/summary.html", election=election, contest=contest,
                           contests=all_contests, data=data, flags=flags, notice=qc.NOTICE,
                           names=dict(contest.candidates))


@bp.post("/hitung-cepat/tanda/<int:flag_id>")
@requires("quickcount")
def resolve_form(flag_id: int):
    form = request.form
    corrected = None
    if form.get("mode") == "koreksi":
        corrected = {k: v for k, v in form.items() if k in NUMBER_FIELDS}
        corrected["votes"] = {k[6:]: v for k, v in form.items() if k.startswith("votes.")}
    with _engine().begin() as conn:
        done = qc.resolve(conn, flag_id, _actor(), _rules(), entry_id=form.get("entry_id"),
                          corrected=corrected, note=form.get("note"))
    flash(f"Beda angka diselesaikan: {done['resolution']}.")
    return redirect(url_for("quickcount.summary_page", contest=request.args.get("contest")))


@bp.get("/api/quickcount/summary")
@requires("quickcount")
def summary_json():
    with _engine().begin() as conn:
        election, contest = _load(conn, "summary", "json")
        data = qc.summary(conn, election.id, contest)
    return jsonify({**data, "election": {"kode": election.kode, "nama": election.nama}})


@bp.get("/api/quickcount/flags")
@requires("quickcount")
def flags_json():
    with _engine().begin() as conn:
        election, contest = _load(conn, "flags", "json")
        flags = qc.list_flags(conn, election.id, contest.id)
    return jsonify({"keterangan": qc.NOTICE, "contest": contest.kode, "flags": flags})


@bp.post("/api/quickcount/flags/<int:flag_id>/resolve")
@requires("quickcount")
def resolve_json(flag_id: int):
    body = _json_body()
    with _engine().begin() as conn:
        done = qc.resolve(conn, flag_id, _actor(), _rules(), entry_id=body.get("entry_id"),
                          corrected=body.get("corrected"), note=body.get("note"))
    return jsonify(done)


@bp.get("/api/quickcount/kelurahan.geojson")
@requires("quickcount")
def kelurahan_layer():
    with _engine().begin() as conn:
        election, contest = _load(conn, "kelurahan.geojson", "geojson")
        collection = qc.kelurahan_geojson(conn, election.id, contest)
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return response
