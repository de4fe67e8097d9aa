"""Bulk uploads (/unggah), acting on suggestions (/saran, /api/moves, /api/personnel) and the
audit page (/audit). Views parse the request, call one domain function and render.

CSRF: calls authenticated by a bearer token need none; browser sessions send the form's
``csrf_token`` or the page's token in ``X-CSRFToken``. Uploaded files are written under a
fresh temporary directory with a sanitised name (the client's filename is never a path);
what one upload may cost (rows, problems, parallel uploads) is bounded in ``uploads``.
"""
from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect,
                   render_template, request, url_for)
from flask_login import current_user
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from gisdesk import audit, audit_anchor, audit_words, moves, plans
from gisdesk.analysis.store import active_election
from gisdesk.entry import wita
from gisdesk.errors import Conflict, Forbidden, GisdeskError, InputRejected
from gisdesk.ingest.examples import example_csv
from gisdesk.maps import data as map_data
from gisdesk.people import author_labels
from gisdesk.web import uploads
from gisdesk.web.auth import requires, wants_json
from gisdesk.web.input_guard import int_param

bp = Blueprint("bulk", __name__)
# kind -> (label, permission, accepted file types)
KINDS = {
    "ratings": ("Penilaian kerawanan (Polri/KPU/Bawaslu)", "import", (".csv", ".zip")),
    "personnel": ("Penugasan personel", "import", (".csv", ".zip")),
    "incidents": ("Laporan kejadian", "report", (".csv", ".geojson", ".json", ".gpkg", ".zip")),
    "readiness": ("Kesiapan TPS", "report", (".csv", ".zip")),
}
AUDIT_PAGE = 50
COUNT_LABELS = {"inserted": "baru", "updated": "diperbarui", "unchanged": "tidak berubah"}


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    message = (f"Berkas terlalu besar: batas unggah {limit / 1024 / 1024:.0f} MB. Pecah berkas "
               "menjadi beberapa bagian atau kompres (zip).")
    if wants_json():
        return jsonify({"error": message, "status": 413, "field": "file"}), 413
    return render_template("bulk/unggah.html", kinds=KINDS, kind=None, problems=None,
                           result=None, report_url=None, error=message), 413


def _engine():
    return current_app.extensions["gisdesk.engine"]


def _settings():
    return current_app.extensions["gisdesk.settings"]


# --- uploads -----------------------------------------------------------------------------

def _run(kind: str, path: Path, form) -> object:
    actor, dry = current_user.username, form.get("dry_run") == "1"
    tax_file = _settings().extra.get("incident_types_file")
    if kind == "ratings":
        from gisdesk.ingest.write_ratings import import_ratings
        from gisdesk.analysis import load_rules
        return import_ratings(_engine(), path, actor=actor, source=form.get("source") or None,
                              rules=load_rules(_settings().rules_file), dry_run=dry)
    if kind == "personnel":
        from gisdesk.ingest.write_personnel import import_personnel
        return import_personnel(_engine(), path, actor=actor, dry_run=dry)
    from gisdesk.entry.taxonomy import load_taxonomy
    from gisdesk.ingest import write_bulk_entry as w
    if kind == "incidents":
        return w.import_incidents(_engine(), path, actor=actor, tax=load_taxonomy(tax_file),
                                  reporter_id=current_user.id, dry_run=dry,
                                  confirm_warnings=form.get("confirm_warnings") == "1",
                                  scope=current_user.write_scope)
    return w.import_readiness(_engine(), path, actor=actor, tax=load_taxonomy(tax_file),
                              dry_run=dry, scope=current_user.write_scope)


@bp.get("/unggah")
@requires("report")
def upload_page():
    return render_template("bulk/unggah.html", kinds=KINDS, kind=request.args.get("jenis"),
                           problems=None, result=None, report_url=None, error=None)


@bp.post("/unggah")
@requires("report")
def upload():
    kind, upload_ = request.form.get("kind", ""), request.files.get("file")
    if kind not in KINDS:
        raise InputRejected("Pilih jenis berkas.", field="kind")
    if not current_user.can(KINDS[kind][1]):
        raise Forbidden(f"Peran Anda tidak berwenang mengunggah {KINDS[kind][0].lower()}.")
    if upload_ is None or not upload_.filename:
        raise InputRejected("Pilih berkas untuk diunggah.", field="file")
    settings = _settings()
    uploads.sweep_stale()
    with uploads.upload_slot(_engine(), settings.upload_parallel), \
            tempfile.TemporaryDirectory(prefix=uploads.PREFIX) as folder:
        try:
            path = uploads.save(upload_, Path(folder), KINDS[kind][2], KINDS[kind][0],
                                unzip=kind != "incidents")
            uploads.check_rows(path, settings.upload_max_rows)
            result = _run(kind, path, request.form)
        except InputRejected as exc:
            return _rejected(kind, exc)
    problems, more = uploads.capped(result.problems, settings.upload_max_problems)
    if wants_json():
        return jsonify({"kind": kind, "counts": result.counts, "dry_run": result.dry_run,
                        "problems": [p.as_dict() for p in problems], "problems_more": more})
    return render_template("bulk/unggah.html", kinds=KINDS, kind=kind, result=result,
                           problems=problems[:uploads.PAGE_PROBLEMS],
                           more=uploads.more_text(more + max(0, len(problems)
                                                             - uploads.PAGE_PROBLEMS)),
                           report_url=None, error=None)


def _rejected(kind: str, exc: InputRejected):
    """A refused file: the first problems on the page, at most ``upload_max_problems`` in the
    answer and the stored report, the rest counted."""
    problems, more = uploads.capped(exc.problems, _settings().upload_max_problems)
    message = exc.message + (f" ({uploads.more_text(more)} tidak dicantumkan)" if more else "")
    if wants_json():
        return jsonify({"error": message, "status": 422, "field": exc.field,
                        "problems": [p.as_dict() for p in problems],
                        "problems_more": more}), 422
    token = None if not problems else uploads.store_report(_settings().var, current_user.id, problems, more)
    return render_template("bulk/unggah.html", kinds=KINDS, kind=kind, result=None,
                           error=message, problems=problems[:uploads.PAGE_PROBLEMS],
                           more=uploads.more_text(more + max(0, len(problems)
                                                             - uploads.PAGE_PROBLEMS)),
                           report_url=token and url_for("bulk.report_csv", token=token)), 422


@bp.get("/unggah/contoh/<any(ratings, personnel, incidents, readiness):kind>.csv")
@requires("report")
def example_file(kind):
    """A template for the kind: the columns the importer reads and two example rows."""
    from gisdesk.entry.taxonomy import load_taxonomy
    body = example_csv(kind, load_taxonomy(_settings().extra.get("incident_types_file")))
    return Response(body.encode("utf-8-sig"), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=contoh-{kind}.csv"})


@bp.get("/unggah/laporan/<token>.csv")
@requires("report")
def report_csv(token):
    path = uploads.reports_dir(_settings().var) / f"{current_user.id}-{secure_filename(token)}.csv"
    if not path.is_file():
        return render_template("error.html", status=404,
                               message="Laporan tidak ditemukan atau sudah kedaluwarsa."), 404
    return Response(path.read_bytes(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=laporan-penolakan.csv"})


# --- suggestions and moves -----------------------------------------------------------------

@bp.get("/saran")
@requires("view")
def suggestions_page():
    return _render_suggestions()


def _render_suggestions(error: str | None = None, status: int = 200):
    with _engine().connect() as conn:   # the stored results: this page never computes
        election = active_election(conn)
        eid = election["id"]
        analysis = map_data.results_state(map_data.election(conn, eid))
        blocks = plans.kelurahan_plans(conn, eid)
        applied = plans.applied_plans(conn, analysis["version"])
        done = moves.list_moves(conn, eid)
    for m in done:
        m["moved_wita"] = wita(m["moved_at"])
    return render_template("bulk/saran.html", election=election, blocks=blocks, moves=done,
                           analysis=analysis, version=analysis["version"], error=error,
                           applied=applied,
                           new_uuid=uuid.uuid4, can_apply=current_user.can("review")), status


@bp.post("/saran/rencana")
@requires("review")
def apply_plan():
    """"Terapkan rencana" of one kelurahan: all its moves as one recorded action, or a 409
    page when the results shown have moved on."""
    payload = {k: request.form.get(k) for k in ("kelurahan_kode", "based_on_version",
                                                 "client_uuid")}
    try:
        with _engine().begin() as conn:
            plan = plans.apply_plan(conn, payload, actor=current_user.username)
    except Conflict as exc:
        return _render_suggestions(exc.message, 409)
    except GisdeskError as exc:
        return _render_suggestions(f"Rencana ditolak: {exc.message}", exc.status)
    n = sum(m["count"] for m in plan["moves"])
    flash(f"Rencana diterapkan: {len(plan['moves'])} perpindahan, {n} personel ke kelurahan "
          f"{_kelurahan_name(plan['kelurahan_kode'])}." if plan["created"]
          else "Rencana ini sudah diterapkan.")
    return redirect(url_for("bulk.suggestions_page")), 303


@bp.post("/api/plans")
@requires("review")
def create_plan():
    with _engine().begin() as conn:
        plan = plans.apply_plan(conn, request.get_json(silent=True),
                                actor=current_user.username)
    return jsonify(plan), 201 if plan["created"] else 200


def _kelurahan_name(kode: str) -> str:
    with _engine().connect() as conn:
        return conn.execute(text("SELECT nama FROM kelurahan WHERE kode = :k"),
                            {"k": kode}).scalar() or kode


@bp.post("/api/moves")
@requires("review")
def create_move():
    with _engine().begin() as conn:
        created, move = moves.apply_move(conn, request.get_json(silent=True),
                                         actor=current_user.username)
    return jsonify(move), 201 if created else 200


@bp.put("/api/personnel/<int:assignment_id>")
@requires("review")
def update_personnel(assignment_id):
    body = request.get_json(silent=True) or {}
    with _engine().begin() as conn:
        return jsonify(moves.set_assignment_count(conn, assignment_id, body.get("count"),
                                                  actor=current_user.username))


# --- audit ---------------------------------------------------------------------------------

@bp.get("/audit")
@requires("review")
def audit_page():
    action = request.args.get("action") or None
    page = int_param(request.args.get("page"), "page", lo=1, hi=10 ** 7, default=1)
    with _engine().connect() as conn:
        where = "WHERE action = :a OR action LIKE :p" if action else ""
        params = {"a": action, "p": f"{action}.%", "n": AUDIT_PAGE,
                  "o": (page - 1) * AUDIT_PAGE}
        total = conn.execute(text(f"SELECT count(*) FROM audit_log {where}"), params).scalar()
        rows = conn.execute(text(f"SELECT id, at, actor, action, target, detail, checksum "
                                 f"FROM audit_log {where} ORDER BY id DESC LIMIT :n OFFSET :o"),
                            params).mappings().all()
        actions = conn.execute(text("SELECT DISTINCT action FROM audit_log ORDER BY 1")).scalars()
        actions = list(actions)
        broken = audit.verify_chain(conn) + audit_anchor.check(
            conn, audit_anchor.load(_settings().var))    # a deleted tail shows too
        authors = author_labels(conn, (r["actor"] for r in rows))
    entries = [{**r, "at_wita": wita(r["at"]), "summary": audit_words.detail_words(r["detail"]),
                "action_label": audit_words.action_label(r["action"]),
                "actor_label": authors.get(r["actor"], r["actor"])} for r in rows]
    return render_template("bulk/audit.html", entries=entries, total=total, page=page,
                           pages=max(1, -(-total // AUDIT_PAGE)), action=action,
                           actions=[(a, audit_words.action_label(a)) for a in actions],
                           broken=broken)
