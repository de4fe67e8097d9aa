"""Bulk files through the entry rules: incident reports and TPS readiness checklists.

Every row is checked exactly as if it had been sent alone through the API (``gisdesk.entry``:
``incidents.read_payload``/``check_time``/placement, ``readiness.read_update``/``derive_state``),
the whole file first; then all rows go in, in one transaction, or none does. ``run_bulk`` is
the shared frame of every bulk kind (ratings and personnel too): one import_batch row, what the
analysis must recompute queued (gisdesk.analysis.changes), one audit entry last.

Idempotency: an incident row without an ``id`` gets a UUID derived from its content, so the
same report imported again is recognised; a readiness row without a ``client_uuid`` gets one
derived from the file's checksum and row number, so re-importing the same file changes nothing
while a later file with the same ticks is recorded as a new check.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk import audit
from gisdesk.analysis.rules import norm_word
from gisdesk.entry import UTC
from gisdesk.entry.scope import row_problem
from gisdesk.entry.incidents import check_time, read_payload
from gisdesk.entry.placement import area_centre, place_kelurahan, place_tps
from gisdesk.entry.readiness import derive_state, device_time, read_update
from gisdesk.entry.taxonomy import Taxonomy, load_taxonomy
from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka
from gisdesk.ingest.columns import header_key
from gisdesk.ingest.readers import read_vector
from gisdesk.ingest.tabular import (CellError, Row, TableRead, _blank, cells, load_csv,
                                    parse_bool, resolve_target, target_column)
from gisdesk.ingest.write_common import ImportResult, import_transaction

NAMESPACE = uuid.UUID("6d1f6a52-2f7e-4d0b-9a53-6b1b1c0e5a10")   # gisdesk bulk rows


# ------------------------------------------------------------------ the shared frame

def _active_election(conn: Connection) -> dict:
    row = conn.execute(text("SELECT id, kode, nama, campaign_start, voting_date, wilayah_kode, "
                            "max_voters_per_tps FROM election WHERE active")).mappings().first()
    if row is None:
        raise InputRejected("Belum ada pemilu aktif: muat demo atau tambahkan pemilu sebelum "
                            "mengimpor.", [Problem(None, "election", "tidak ada pemilu aktif")])
    return dict(row)


def reject_if_errors(filename: str, problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        rows = len({p.row for p in errors if p.row is not None})
        what = f"{angka(rows)} baris" if rows else "berkas"
        raise InputRejected(f"{filename}: {what} ditolak ({angka(len(errors))} masalah); tidak "
                            "ada yang ditulis.",
                            sorted(problems, key=lambda p: (p.row or 0, p.field or "")))


def run_bulk(engine: Engine, path: str | Path, *, kind: str, actor: str, check, write,
             options: dict | None = None, dry_run: bool = False, queues_itself: bool = False,
             progress=lambda message: None) -> ImportResult:
    """``check(conn, election) -> (plan, problems)`` reads and checks the whole file (raising
    or returning errors writes nothing); ``write(conn, election, plan, batch_id) -> counts``.
    ``queues_itself``: ``write`` queues the kelurahan it changed, as the single writes do
    (ratings, personnel); otherwise a change queues a whole refresh."""
    path = Path(path)
    result = ImportResult(kind, path.name, audit.file_sha256(path), dry_run=dry_run)
    with import_transaction(engine, dry_run) as conn:
        election = _active_election(conn)
        # one import of a kind at a time per election: two copies of a file cannot race
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k), :e)"),
                     {"k": f"gisdesk.import.{kind}", "e": election["id"]})
        progress(f"memeriksa {path.name}")
        plan, problems = check(conn, election)
        result.problems = list(problems)
        reject_if_errors(path.name, result.problems)
        batch = conn.execute(text(
            "INSERT INTO import_batch (kind, election_id, filename, sha256, actor, options) "
            "VALUES (:k, :e, :f, :s, :a, :o) RETURNING id").bindparams(
            bindparam("o", type_=JSONB)),
            {"k": kind, "e": election["id"], "f": path.name, "s": result.sha256,
             "a": actor, "o": options or {}}).scalar_one()
        progress(f"menulis {path.name} dalam satu transaksi")
        result.counts.update(write(conn, election, plan, batch))
        if result.changed and not queues_itself:
            from gisdesk.analysis import changes
            changes.full(conn, election["id"], f"import.{kind}")
        conn.execute(text("UPDATE import_batch SET counts = :c WHERE id = :id")
                     .bindparams(bindparam("c", type_=JSONB)),
                     {"c": result.counts, "id": batch})
        if not dry_run:
            audit.record(conn, actor, f"import.{kind}", path.name,
                         {"counts": result.counts, "import_batch": batch,
                          "warnings": len(result.problems), **(options or {})}, result.sha256)
    return result


def _at_row(i: int, exc: InputRejected, cols: dict | None = None) -> list[Problem]:
    """The entry rules' problems of one row, named by the row and the file's own column."""
    cols = {**(cols or {}), "occurred_at": (cols or {}).get("occurred_at")
            or (cols or {}).get("date", "occurred_at")}
    found = exc.problems or [Problem(None, exc.field, exc.message)]
    return [Problem(i, cols.get(p.field, p.field) if p.field else None, p.reason,
                    p.severity, p.value) for p in found]


# ------------------------------------------------------------------ incidents

def _when(v: dict) -> str | None:
    """Time of an incident as ISO text (also dd/mm/yyyy HH:MM, and date + time columns)."""
    text_ = None if _blank(v.get("occurred_at")) else str(v["occurred_at"]).strip()
    if text_ is None and not _blank(v.get("date")):
        text_ = f"{str(v['date']).strip()} {'' if _blank(v.get('time')) else v['time']}".strip()
    return _iso_text(text_)


def _iso_text(text_: str | None) -> str | None:
    """A time cell as ISO text: dd/mm/yyyy HH:MM (or with - .) turned round, else as is."""
    if text_ is None:
        return None
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[ T]+(\d{1,2})[:.](\d{2})", text_)
    if m:
        d, mo, y, h, mi = m.groups()
        return f"{y}-{int(mo):02d}-{int(d):02d}T{int(h):02d}:{mi}"
    return text_


def read_incidents(path: str | Path, tax: Taxonomy, *, layer=None, src_crs=None) -> TableRead:
    """Incident rows as API payloads (CSV with lon/lat or koordinat, GeoJSON, GeoPackage)."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt"):
        frame, geoms = load_csv(path), None
    else:
        frame = read_vector(path, layer=layer, src_crs=src_crs)
        geoms = frame.geometry
    cols = cells(frame, "incidents")
    labels = {norm_word(c.label): k for k, c in tax.categories.items()}
    out = TableRead(columns=cols)
    for i in range(len(frame)):
        v = {c: frame.iloc[i][col] for c, col in cols.items()}
        p = {k: None if _blank(v.get(k)) else str(v[k]).strip()
             for k in ("id", "severity", "description", "tps", "reporter_name")}
        cat = "" if _blank(v.get("category")) else str(v["category"]).strip()
        p["category"] = labels.get(norm_word(cat), norm_word(cat)) if cat else None
        p["occurred_at"] = _when(v)
        geom = geoms.iloc[i] if geoms is not None else None
        if geom is not None and not geom.is_empty and geom.geom_type == "Point":
            p["geometry"] = {"type": "Point", "coordinates": [geom.x, geom.y]}
        elif not (_blank(v.get("lat")) and _blank(v.get("lon"))):
            p["lat"], p["lon"] = v.get("lat"), v.get("lon")
        elif not _blank(v.get("coords")):
            p["coords"] = str(v["coords"])
        try:
            p["confirm_warnings"] = parse_bool(v.get("confirm_warnings"))
        except CellError as exc:
            out.problems.append(Problem(i + 1, cols["confirm_warnings"], str(exc)))
        out.rows.append(Row(i + 1, {k: val for k, val in p.items() if val is not None}))
    return out


def _content_id(payload: dict) -> str:
    blob = json.dumps({k: v for k, v in payload.items() if k not in ("id", "confirm_warnings")},
                      sort_keys=True, default=str, ensure_ascii=False)
    return str(uuid.uuid5(NAMESPACE, "incident:" + blob))


def _check_incidents(conn, election, read: TableRead, tax: Taxonomy, confirm_all: bool, now,
                     scope: str | None = None):
    problems, plan, seen = list(read.problems), [], {}
    for row in read.rows:
        payload = {**row.values}
        payload.setdefault("id", _content_id(payload))
        try:
            inp = read_payload(payload, tax, lambda: area_centre(conn))
        except InputRejected as exc:
            problems += _at_row(row.row, exc, read.columns)
            continue
        if inp.id in seen:
            first, digest = seen[inp.id]
            same = digest == inp.content_hash
            problems.append(Problem(row.row, "id", f"laporan sama dengan baris {first}" +
                                    ("; diimpor sekali" if same else " dengan isi lain"),
                                    "warning" if same else "error", inp.id))
            continue
        seen[inp.id] = (row.row, inp.content_hash)
        stored = conn.execute(text("SELECT content_hash FROM incident WHERE id = :id"),
                              {"id": inp.id}).scalar()
        if stored is not None:
            if stored != inp.content_hash:
                problems.append(Problem(row.row, "id", "id laporan ini sudah dipakai untuk "
                                        "laporan dengan isi lain", value=inp.id))
            continue                      # already stored: unchanged
        try:
            check_time(inp, election, tax, now)
            place = place_kelurahan(conn, inp.lon, inp.lat, wilayah=election.get("wilayah_kode"),
                                    tax=tax, field_name=inp.coord_field)
            place_tps(conn, place, inp.lon, inp.lat, election_id=election["id"], given=inp.tps,
                      tax=tax, field_name=inp.coord_field)
        except InputRejected as exc:
            problems += _at_row(row.row, exc, read.columns)
            continue
        outside = row_problem(conn, scope, place.kelurahan_kode, row.row, "lokasi baris ini",
                              read.columns.get(inp.coord_field, inp.coord_field))
        if outside:
            problems.append(outside)
            continue
        for w in place.warnings:
            blocking = w["code"] in tax.confirm and not (inp.confirm_warnings or confirm_all)
            problems.append(Problem(row.row, read.columns.get(w["field"], w["field"]),
                                    w["message"] + (
                " Konfirmasi dengan kolom konfirmasi=ya (atau --confirm-warnings)." if blocking
                else ""), "error" if blocking else "warning"))
        plan.append((inp, place))
    return plan, problems


def import_incidents(engine: Engine, path: str | Path, *, actor: str, tax: Taxonomy | None = None,
                     reporter_id: int | None = None, confirm_warnings: bool = False,
                     layer: str | None = None, src_crs: str | None = None,
                     dry_run: bool = False, now: dt.datetime | None = None,
                     progress=lambda message: None, scope: str | None = None) -> ImportResult:
    """``scope``: rows outside this kelurahan are rejected by row (scoped desk staff)."""
    tax = tax or load_taxonomy()
    read = read_incidents(path, tax, layer=layer, src_crs=src_crs)
    now = now or dt.datetime.now(UTC)

    def write(conn, election, plan, batch):
        rows = [{"id": inp.id, "e": election["id"], "category": inp.category,
                 "severity": inp.severity, "description": inp.description,
                 "occurred_at": inp.occurred_at, "reporter_id": reporter_id,
                 "reporter_name": inp.reporter_name or actor, "lon": inp.lon, "lat": inp.lat,
                 "kel": place.kelurahan_kode, "tps_id": place.tps_id,
                 "dist": place.tps_distance_m, "hash": inp.content_hash,
                 "warnings": place.warnings} for inp, place in plan]
        inserted = 0
        for r in rows:   # the same statement as entry.incidents.submit, without its audit row
            inserted += conn.execute(text("""
                INSERT INTO incident (id, election_id, category, severity, description,
                    occurred_at, reporter_id, reporter_name, geom, kelurahan_kode, tps_id,
                    tps_distance_m, content_hash, warnings)
                VALUES (:id, :e, :category, :severity, :description, :occurred_at, :reporter_id,
                    :reporter_name, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :kel, :tps_id,
                    :dist, :hash, :warnings)
                ON CONFLICT (id) DO NOTHING RETURNING id""").bindparams(
                bindparam("warnings", type_=JSONB)), r).first() is not None
        return {"inserted": inserted, "unchanged": len(read.rows) - inserted}

    return run_bulk(engine, path, kind="incidents", actor=actor,
                    check=lambda conn, e: _check_incidents(conn, e, read, tax, confirm_warnings,
                                                           now, scope),
                    write=write, options={"confirm_warnings": confirm_warnings},
                    dry_run=dry_run, progress=progress)


# ------------------------------------------------------------------ readiness

def read_readiness(path: str | Path, tax: Taxonomy) -> TableRead:
    """Checklists per TPS: a TPS code (or kelurahan code + TPS number), one column per item
    (key or label as header; 1/0, ya/tidak)."""
    frame = load_csv(path)
    cols = cells(frame, "readiness")
    names = {header_key(i.key): i.key for i in tax.readiness}
    names.update({header_key(i.label): i.key for i in tax.readiness})
    items = {col: names[header_key(col)] for col in frame.columns if header_key(col) in names}
    out = TableRead(columns=cols)
    if not items:
        out.problems.append(Problem(None, "items", "berkas tidak punya kolom daftar periksa (mis. "
                                    f"{', '.join(tax.readiness_keys[:4])}, ...)"))
        return out
    missing = [k for k in tax.readiness_keys if k not in items.values()]
    if missing:
        out.problems.append(Problem(None, "items", "kolom daftar periksa tidak ada, dibaca belum "
                                    f"siap: {', '.join(missing)}", "warning"))
    target_col = target_column(cols)
    for i in range(len(frame)):
        fr = frame.iloc[i]
        v, problems = {c: fr[col] for c, col in cols.items()}, []
        tps = None
        try:
            kind, tps = resolve_target(v)
            if kind != "tps":
                raise CellError("perlu TPS (mis. 52.71.01.1004-012, atau kolom kode + tps)")
        except CellError as exc:
            problems.append(Problem(i + 1, target_col, str(exc),
                                    value=None if _blank(fr.get(target_col)) else
                                    str(fr[target_col])))
        checked = {}
        for col, key in items.items():
            try:
                checked[key] = parse_bool(fr[col])
            except CellError as exc:
                problems.append(Problem(i + 1, col, str(exc), value=str(fr[col]).strip()))
        out.problems += problems
        if not problems:
            out.rows.append(Row(i + 1, {"tps_kode": tps, "items": checked,
                                        "note": None if _blank(v.get("note")) else
                                        str(v["note"]).strip(),
                                        "client_uuid": None if _blank(v.get("client_uuid"))
                                        else str(v["client_uuid"]).strip(),
                                        "checked_at": None if _blank(v.get("checked_at"))
                                        else _iso_text(str(v["checked_at"]).strip())}))
    return out


def _check_readiness(conn, election, read: TableRead, tax: Taxonomy, sha: str,
                     scope: str | None = None, now: dt.datetime | None = None):
    """Each row as the API checks one checklist. A row's check time (the file's column, else
    the import time ``now``) may not lie further ahead than ``readiness_clock_skew_min``;
    a TPS may come several times only with different check times (an offline log)."""
    now = now or dt.datetime.now(UTC)
    time_col = read.columns.get("checked_at", "checked_at")
    problems, plan = list(read.problems), []
    codes = sorted({r.values["tps_kode"] for r in read.rows})
    found = conn.execute(text("SELECT kode, id, kelurahan_kode FROM tps WHERE election_id = :e "
                              "AND kode IN :k").bindparams(bindparam("k", expanding=True)),
                         {"e": election["id"], "k": codes or [""]}).all()
    ids, kel_of = {r.kode: r.id for r in found}, {r.kode: r.kelurahan_kode for r in found}
    col, seen = target_column(read.columns), {}
    for row in read.rows:
        v = row.values
        payload = {"client_uuid": v["client_uuid"] or str(uuid.uuid5(NAMESPACE,
                   f"readiness:{sha}:{row.row}")), "items": v["items"], "note": v["note"]}
        try:
            client_uuid, items, note = read_update(payload, tax)
        except InputRejected as exc:
            problems += _at_row(row.row, exc)
            continue
        late: list[Problem] = []
        checked_at = device_time(v["checked_at"], now, tax, time_col, late)
        if late:
            problems += [Problem(row.row, p.field, p.reason, value=p.value) for p in late]
            continue
        if v["tps_kode"] not in ids:
            problems.append(Problem(row.row, col, "TPS tidak ada di pemilu aktif",
                                    value=v["tps_kode"]))
            continue
        outside = row_problem(conn, scope, kel_of[v["tps_kode"]], row.row,
                              f"TPS {v['tps_kode']}", col)
        if outside:
            problems.append(outside)
            continue
        once = (v["tps_kode"], checked_at)
        if once in seen:
            problems.append(Problem(row.row, col, f"TPS sama dengan baris {seen[once]} "
                                    "dengan waktu pemeriksaan yang sama", value=v["tps_kode"]))
            continue
        seen[once] = row.row
        old = conn.execute(text("SELECT tps_id, items, note FROM tps_readiness_history "
                                "WHERE client_uuid = :u"), {"u": client_uuid}).first()
        if old is not None and (old.tps_id, old.items, old.note) != (ids[v["tps_kode"]], items,
                                                                     note):
            problems.append(Problem(row.row, "client_uuid", "client_uuid ini sudah dipakai "
                                    "untuk daftar periksa lain", value=client_uuid))
            continue
        if old is None:
            plan.append({"t": ids[v["tps_kode"]], "u": client_uuid, "items": items,
                         "note": note, "state": derive_state(items, tax),
                         "checked_at": checked_at})
    return plan, problems


def import_readiness(engine: Engine, path: str | Path, *, actor: str,
                     tax: Taxonomy | None = None, dry_run: bool = False,
                     progress=lambda message: None, scope: str | None = None,
                     now: dt.datetime | None = None) -> ImportResult:
    """``scope``: rows for TPS outside this kelurahan are rejected by row (scoped staff).
    ``now``: the import time, the check time of rows that carry none."""
    tax = tax or load_taxonomy()
    read = read_readiness(path, tax)
    sha = audit.file_sha256(path)
    now = now or dt.datetime.now(UTC)
    jsonb = (bindparam("items", type_=JSONB),)

    def write(conn, election, plan, batch):
        # the statements of entry.readiness (without its audit rows): every check into the
        # history; per TPS its latest check becomes the state unless a later one is there
        latest = {}
        for r in sorted(plan, key=lambda r: r["checked_at"]):
            conn.execute(text("""
                INSERT INTO tps_readiness_history (tps_id, client_uuid, state, items, note,
                                                   recorded_by, checked_at)
                VALUES (:t, :u, :state, :items, :note, :actor, :checked_at)""")
                .bindparams(*jsonb), {**r, "actor": actor})
            latest[r["t"]] = r
        for r in latest.values():
            conn.execute(text("""
                INSERT INTO tps_readiness AS cur (tps_id, state, items, note, updated_at,
                                                  updated_by, checked_at)
                VALUES (:t, :state, :items, :note, now(), :actor, :checked_at)
                ON CONFLICT (tps_id) DO UPDATE SET state = EXCLUDED.state, items = EXCLUDED.items,
                    note = EXCLUDED.note, updated_at = EXCLUDED.updated_at,
                    updated_by = EXCLUDED.updated_by, checked_at = EXCLUDED.checked_at
                WHERE coalesce(cur.checked_at, cur.updated_at) <= EXCLUDED.checked_at""")
                .bindparams(*jsonb), {**r, "actor": actor})
        return {"inserted": len(plan), "unchanged": len(read.rows) - len(plan)}

    return run_bulk(engine, path, kind="readiness", actor=actor,
                    check=lambda conn, e: _check_readiness(conn, e, read, tax, sha, scope, now),
                    write=write, dry_run=dry_run, progress=progress)
