"""TPS readiness pages: ``/kesiapan`` (TPS of one kelurahan with their state and a roll-up of
every kelurahan) and ``/kesiapan/<tps_kode>`` (the checklist, its state and history).

Everybody who may view sees both; the checklist form is rendered only for roles that may
report, and it posts with fetch to ``POST /api/tps/<tps_kode>/readiness`` (gisdesk.web.entry),
which is where the permission is enforced. Times are stored UTC and shown in WITA.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from gisdesk.entry import active_election, readiness, wita
from gisdesk.entry.taxonomy import load_taxonomy
from gisdesk.people import author_labels
from gisdesk.web.auth import requires

bp = Blueprint("readiness", __name__)
STATES = ("siap", "sebagian", "belum")


def init_app(app) -> None:
    app.register_blueprint(bp)


def _engine():
    return current_app.extensions["gisdesk.engine"]


def _tax():
    settings = current_app.extensions["gisdesk.settings"]
    return load_taxonomy(settings.extra.get("incident_types_file"))


def _wita(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return wita(value)


def kelurahan_rollup(conn, election_id: int) -> list[dict]:
    """Every kelurahan with TPS: counts per state (a TPS never reported counts as 'belum')."""
    rows = conn.execute(text("""
        SELECT k.kode, k.nama, kc.kode AS kecamatan_kode, kc.nama AS kecamatan_nama,
               count(t.id) AS tps,
               count(t.id) FILTER (WHERE r.state = 'siap') AS siap,
               count(t.id) FILTER (WHERE r.state = 'sebagian') AS sebagian,
               count(t.id) FILTER (WHERE r.state = 'belum' OR r.tps_id IS NULL) AS belum,
               count(t.id) FILTER (WHERE r.tps_id IS NULL) AS tanpa_laporan,
               max(r.updated_at) AS last_update
        FROM kelurahan k
        JOIN kecamatan kc ON kc.kode = k.kecamatan_kode
        JOIN tps t ON t.kelurahan_kode = k.kode AND t.election_id = :e
        LEFT JOIN tps_readiness r ON r.tps_id = t.id
        GROUP BY k.kode, k.nama, kc.kode, kc.nama
        ORDER BY kc.kode, k.kode"""), {"e": election_id}).mappings().all()
    return [{**dict(r), "last_update_wita": _wita(r["last_update"]).removesuffix(" WITA")}
            for r in rows]


def tps_rows(conn, election_id: int, kelurahan_kode: str, tax) -> list[dict]:
    rows = conn.execute(text("""
        SELECT t.kode, t.nomor, t.alamat, t.dpt, r.state, r.items, r.note, r.updated_at,
               r.updated_by
        FROM tps t LEFT JOIN tps_readiness r ON r.tps_id = t.id
        WHERE t.election_id = :e AND t.kelurahan_kode = :k
        ORDER BY t.nomor, t.kode"""), {"e": election_id, "k": kelurahan_kode}).mappings().all()
    labels = {item.key: item.label for item in tax.readiness}
    out = []
    for r in rows:
        items = r["items"] or {}
        missing = [labels[key] for key in labels if r["state"] and not items.get(key, False)]
        # the column header says WITA
        out.append({**dict(r), "missing": missing,
                    "updated_wita": _wita(r["updated_at"]).removesuffix(" WITA")})
    authors = author_labels(conn, (r["updated_by"] for r in out))
    for r in out:
        r["updated_by"] = authors.get(r["updated_by"], "")
    return out


def _default_kelurahan(rollup: list[dict]) -> str | None:
    """The user's own kelurahan, else the first whose TPS are not all ready, else the first."""
    codes = [k["kode"] for k in rollup]
    scope = getattr(current_user, "kelurahan_kode", None)
    if scope in codes:
        return scope
    for k in rollup:  # reported problems first, then kelurahan still waiting for reports
        if k["belum"] - k["tanpa_laporan"] > 0 or k["sebagian"] > 0:
            return k["kode"]
    for k in rollup:
        if k["siap"] < k["tps"]:
            return k["kode"]
    return codes[0] if codes else None


@bp.get("/kesiapan")
@requires("view")
def list_page():
    tax = _tax()
    with _engine().connect() as conn:
        election = active_election(conn)
        rollup = kelurahan_rollup(conn, election["id"])
        codes = {k["kode"] for k in rollup}
        chosen = request.args.get("kelurahan") or ""
        if chosen not in codes:
            chosen = _default_kelurahan(rollup)
        rows = tps_rows(conn, election["id"], chosen, tax) if chosen else []
    selected = next((k for k in rollup if k["kode"] == chosen), None)
    totals = {s: sum(k[s] for k in rollup) for s in (*STATES, "tps", "tanpa_laporan")}
    return render_template("readiness/list.html", election=election, rollup=rollup,
                           selected=selected, rows=rows, totals=totals,
                           state_labels=readiness.STATE_LABELS,
                           can_report=current_user.can("report"))


@bp.get("/kesiapan/<tps_kode>")
@requires("view")
def tps_page(tps_kode: str):
    tax = _tax()
    with _engine().connect() as conn:
        data = readiness.readiness(conn, tps_kode, tax)
        tps = conn.execute(text(
            "SELECT t.alamat, t.dpt, kc.nama AS kecamatan_nama FROM tps t "
            "JOIN kelurahan k ON k.kode = t.kelurahan_kode "
            "JOIN kecamatan kc ON kc.kode = k.kecamatan_kode "
            "WHERE t.kode = :k AND t.election_id = (SELECT id FROM election WHERE active)"),
            {"k": tps_kode}).mappings().first()
        authors = author_labels(conn, [h["recorded_by"] for h in data["history"]] +
                                [(data["current"] or {}).get("updated_by")])
    current = data["current"]
    if current:
        current["updated_by"] = authors.get(current["updated_by"], "")
        current["updated_wita"] = _wita(current["updated_at"])
    for h in data["history"]:
        h["checked_wita"] = _wita(h["checked_at"])   # when it was ticked on the device
        h["recorded_by"] = authors.get(h["recorded_by"], "")
    # scoped desk staff see other kelurahan's TPS read-only (the API refuses their writes)
    can_report = current_user.can("report") and \
        current_user.write_scope in (None, data["kelurahan_kode"])
    return render_template(
        "readiness/tps.html", r=data, tps=tps or {}, current=current,
        state_labels=readiness.STATE_LABELS, can_report=can_report,
        api_url=url_for("entry.update_readiness", tps_kode=data["tps_kode"])
        if "entry.update_readiness" in current_app.view_functions else None,
        batch_url=url_for("entry.update_readiness_batch")
        if "entry.update_readiness_batch" in current_app.view_functions else None,
        list_url=url_for(".list_page", kelurahan=data["kelurahan_kode"]),
        report_url=url_for("entry.report_page", tps=data["tps_kode"])
        if can_report and "entry.report_page" in current_app.view_functions else None)
