"""Bulk uploads (/unggah), acting on suggestions (/saran, /api/moves, /api/personnel) and the
audit page (/audit). Views parse the request, call one domain function and render.

CSRF: calls authenticated by a bearer token need none; browser sessions send the form's
``csrf_token`` or the page's token in ``X-CSRFToken``. Uploaded files are written under a
fresh temporary directory with a sanitised name (the client's filename is never a path).
"""
from __future__ import annotations

import csv
import io
import secrets
import shutil
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect,
                   render_template, request, url_for)
from flask_login import current_user
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from gisdesk import audit, moves
from gisdesk.analysis.store import active_election
from gisdesk.entry import wita
from gisdesk.errors import Forbidden, GisdeskError, InputRejected, Problem
from gisdesk.ingest.readers import check_zip
from gisdesk.maps import data as map_data
from gisdesk.web.auth import requires, wants_json

bp = Blueprint("bulk", __name__)
# kind -> (label, permission, accepted file types)
KINDS = {
    "ratings": ("Penilaian kerawanan (Polri/KPU/Bawaslu)", "import", (".csv", ".zip")),
    "personnel": ("Penugasan personel", "import", (".csv", ".zip")),
    "incidents": ("Laporan kejadian", "report", (".csv", ".geojson", ".json", ".gpkg", ".zip")),
    "readiness": ("Kesiapan TPS", "report", (".csv", ".zip")),
}
AUDIT_PAGE = 50


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

def _save(upload, folder: Path, kind: str) -> Path:
    """The upload under ``folder`` with a safe name; a zip is checked, then its one table
    (or, for incidents, the zip itself for the vector reader) is used."""
    name = secure_filename(upload.filename or "") or "unggahan"
    suffix = Path(name).suffix.lower()
    if suffix not in KINDS[kind][2]:
        raise InputRejected(f"Jenis berkas {suffix or '(tanpa ekstensi)'} tidak diterima untuk "
                            f"{KINDS[kind][0]}: kirim {', '.join(KINDS[kind][2])}.",
                            [Problem(None, "file", "jenis berkas tidak diterima", value=suffix)],
                            field="file")
    path = folder / name
    upload.save(path)
    if suffix == ".zip" and kind != "incidents":
        members = [m for m in check_zip(path) if m.lower().endswith(".csv")
                   and not Path(m).name.startswith(".")]
        if len(members) != 1:
            raise InputRejected("Zip harus berisi tepat satu berkas CSV.",
                                [Problem(None, "file", "zip tanpa tepat satu CSV")], field="file")
        inner = folder / (secure_filename(Path(members[0]).name) or "tabel.csv")
        with zipfile.ZipFile(path) as archive, archive.open(members[0]) as src, \
                open(inner, "wb") as dst:
            shutil.copyfileobj(src, dst)         # streamed; sizes were checked above
        return inner
    return path


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
                                  confirm_warnings=form.get("confirm_warnings") == "1")
    return w.import_readiness(_engine(), path, actor=actor, tax=load_taxonomy(tax_file),
                              dry_run=dry)


def _reports_dir() -> Path:
    folder = _settings().var / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):          # rejection reports live one day
        if old.stat().st_mtime < time.time() - 86400:
            old.unlink(missing_ok=True)
    return folder


def _store_report(problems: list[Problem]) -> str:
    token = secrets.token_urlsafe(16)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["row", "field", "severity", "reason", "value"])
    writer.writeheader()
    writer.writerows({k: p.as_dict()[k] for k in writer.fieldnames} for p in problems)
    (_reports_dir() / f"{current_user.id}-{token}.csv").write_text(buffer.getvalue(),
                                                                   encoding="utf-8-sig")
    return token


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
    with tempfile.TemporaryDirectory(prefix="gisdesk-upload-") as folder:
        try:
            result = _run(kind, _save(upload_, Path(folder), kind), request.form)
        except InputRejected as exc:
            if wants_json():
                raise
            token = _store_report(exc.problems) if exc.problems else None
            return render_template("bulk/unggah.html", kinds=KINDS, kind=kind, result=None,
                                   error=exc.message, problems=exc.problems,
                                   report_url=token and url_for("bulk.report_csv", token=token)
                                   ), 422
    if wants_json():
        return jsonify({"kind": kind, "counts": result.counts, "dry_run": result.dry_run,
                        "problems": [p.as_dict() for p in result.problems]})
    return render_template("bulk/unggah.html", kinds=KINDS, kind=kind, result=result,
                           problems=result.problems, report_url=None, error=None)


@bp.get("/unggah/laporan/<token>.csv")
@requires("report")
def report_csv(token):
    path = _reports_dir() / f"{current_user.id}-{secure_filename(token)}.csv"
    if not path.is_file():
        return render_template("error.html", status=404,
                               message="Laporan tidak ditemukan atau sudah kedaluwarsa."), 404
    return Response(path.read_bytes(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=laporan-penolakan.csv"})


# --- suggestions and moves -----------------------------------------------------------------

@bp.get("/saran")
@requires("view")
def suggestions_page():
    with _engine().connect() as conn:   # the stored results: this page never computes
        election = active_election(conn)
        eid = election["id"]
        analysis = map_data.results_state(map_data.election(conn, eid))
        rows = conn.execute(text("""
            SELECT s.*, k.nama AS kelurahan_nama, f.nama AS from_nama FROM suggestion s
            JOIN kelurahan k ON k.kode = s.kelurahan_kode
            LEFT JOIN kelurahan f ON f.kode = s.from_kelurahan_kode
            WHERE s.election_id = :e ORDER BY s.kabkota_kode, s.rank, s.id"""), {"e": eid}).mappings().all()
        done = moves.list_moves(conn, eid)
    for m in done:
        m["moved_wita"] = wita(m["moved_at"])
    return render_template("bulk/saran.html", election=election, suggestions=rows, moves=done,
                           analysis=analysis,
                           can_apply=current_user.can("review"), new_uuid=uuid.uuid4)


@bp.post("/saran/terapkan")
@requires("review")
def apply_suggestion():
    form = request.form
    payload = {k: form.get(k) or None for k in ("agency", "count", "to_kelurahan_kode",
                                                 "from_kelurahan_kode", "from_reserve",
                                                 "reason", "client_uuid")}
    try:
        with _engine().begin() as conn:
            created, move = moves.apply_move(conn, payload, actor=current_user.username)
    except GisdeskError as exc:
        flash(f"Perpindahan ditolak: {exc.message}")
        return redirect(url_for("bulk.suggestions_page")), 303
    flash(f"Diterapkan: {move['count']} {moves.AGENCY_LABEL[move['agency']]} ke "
          f"{move['to_kelurahan_kode']}." if created else "Perpindahan ini sudah diterapkan.")
    return redirect(url_for("bulk.suggestions_page")), 303


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
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
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
        broken = audit.verify_chain(conn)
    entries = [{**r, "at_wita": wita(r["at"]), "summary": _summary(r["detail"])} for r in rows]
    return render_template("bulk/audit.html", entries=entries, total=total, page=page,
                           pages=max(1, -(-total // AUDIT_PAGE)), action=action,
                           actions=actions, broken=broken)


def _summary(detail: dict | None) -> str:
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value[:5])) + (" …" if len(value) > 5 else "")
        if value not in (None, "", []):
            parts.append(f"{key}: {value}")
    text_ = "; ".join(parts)
    return text_ if len(text_) <= 240 else text_[:237] + "…"
