"""Incident reports: read and check a report, store it once per client UUID, list and show.

Idempotent entry (DESIGN.md): the client's UUID names the report's content. The same UUID
with the same content returns the stored report (even if it comes again much later, or with
``confirm_warnings``); the same UUID with other content is a conflict. Concurrent repeats
are settled by ``INSERT ... ON CONFLICT (id) DO NOTHING`` and a comparison of content hashes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk import audit
from gisdesk.analysis import changes
from gisdesk.entry import UTC, WITA, active_election, scope as scopes
from gisdesk.entry.coords import CoordsError, parse_coords
from gisdesk.db import hot
from gisdesk.db.engine import transaction
from gisdesk.entry.placement import (COVERING_KELURAHAN, NEAREST_TPS, POINT, area_centre,
                                     place_kelurahan, place_tps)
from gisdesk.entry.taxonomy import Taxonomy
from gisdesk.errors import Conflict, InputRejected, NotFound, Problem

STATUSES = ("reported", "verified", "resolved", "rejected", "merged")


class NeedsConfirmation(InputRejected):
    """The report looks doubtful; it is stored once the sender confirms the warnings."""

    def __init__(self, warnings: list[dict]):
        super().__init__("Periksa peringatan berikut; kirim lagi dengan konfirmasi bila "
                         "laporan sudah benar.",
                         [Problem(None, w["field"], w["message"], "warning") for w in warnings])
        self.warnings = warnings


@dataclass(frozen=True)
class IncidentInput:
    id: str
    category: str
    severity: str
    description: str
    occurred_at: dt.datetime      # aware, UTC
    lon: float
    lat: float
    coord_field: str              # where the point came from: geometry | lat | coords
    tps: str | None
    reporter_name: str | None
    confirm_warnings: bool

    def canonical(self) -> dict:
        """The content the UUID names (confirm_warnings is not content)."""
        return {"id": self.id, "category": self.category, "severity": self.severity,
                "description": self.description,
                "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
                "lon": round(self.lon, 7), "lat": round(self.lat, 7),
                "tps": self.tps, "reporter_name": self.reporter_name}

    @property
    def content_hash(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def parse_time(value, *, zone=WITA) -> dt.datetime:
    """ISO 8601 text to an aware UTC time; a time without offset is WITA."""
    if not isinstance(value, str) or len(value.strip()) < 16:
        raise ValueError("tulis tanggal dan jam, mis. 2024-02-14T09:30 (WITA)")
    moment = dt.datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _number(value) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
    return float(value)


def _point(fields: dict, problems: list, reference=None) -> tuple[float, float, str] | None:
    geometry = fields.get("geometry")
    if geometry is not None:
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (isinstance(geometry, dict) and geometry.get("type") == "Point"
                and isinstance(coords, list) and len(coords) in (2, 3)):
            problems.append(Problem(None, "geometry", "Geometri harus berupa Point [lon, lat]."))
            return None
        try:
            return _number(coords[0]), _number(coords[1]), "geometry"
        except (TypeError, ValueError):
            problems.append(Problem(None, "geometry", "Koordinat Point harus angka."))
            return None
    lon = next((fields[k] for k in ("lon", "lng", "longitude") if fields.get(k) not in
                (None, "")), None)
    lat = next((fields[k] for k in ("lat", "latitude") if fields.get(k) not in
                (None, "")), None)
    if lon is not None or lat is not None:
        try:
            return _number(lon), _number(lat), "lat"
        except (TypeError, ValueError):
            problems.append(Problem(None, "lat", "lat dan lon harus angka.",
                                    value=f"{lat}, {lon}"))
            return None
    typed = fields.get("coords")
    if typed not in (None, ""):
        try:
            parsed = parse_coords(str(typed), reference)
        except CoordsError as exc:
            problems.append(Problem(None, "coords", str(exc), value=str(typed)[:100]))
            return None
        return parsed.lon, parsed.lat, "coords"
    problems.append(Problem(None, "coords", "Lokasi wajib diisi (koordinat, lat/lon atau "
                                            "geometri)."))
    return None


def _text(fields: dict, key: str, limit: int, problems: list) -> str | None:
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int)):
        problems.append(Problem(None, key, "Harus berupa teks."))
        return None
    value = str(value).strip()
    if len(value) > limit:
        problems.append(Problem(None, key, f"Paling banyak {limit} karakter."))
    return value or None


def _flatten(payload: dict) -> dict:
    """A GeoJSON Feature's properties, id and geometry as one flat mapping."""
    if payload.get("type") != "Feature":
        return dict(payload)
    props = payload.get("properties")
    fields = dict(props) if isinstance(props, dict) else {}
    for key in ("id", "geometry"):
        if payload.get(key) is not None:
            fields[key] = payload[key]
    return fields


def read_payload(payload, tax: Taxonomy, reference=None) -> IncidentInput:
    """Check each field; every problem is reported at once, with the field's name.
    ``reference`` (a callable giving the work area's lat, lon) completes short Plus Codes."""
    if not isinstance(payload, dict):
        raise InputRejected("Kirim laporan sebagai objek JSON atau GeoJSON Feature.",
                            field="body")
    fields, problems = _flatten(payload), []
    try:
        ident = str(uuid.UUID(str(fields.get("id") or "")))
    except ValueError:
        ident = ""
        problems.append(Problem(None, "id", "id wajib berupa UUID dari aplikasi pengirim.",
                                value=str(fields.get("id"))[:60]))
    category = str(fields.get("category") or "").strip()
    if category not in tax.categories:
        problems.append(Problem(None, "category", "Kategori tidak dikenal; pilih dari daftar.",
                                value=category[:60]))
    severity = tax.severity(str(fields.get("severity") or ""))
    if severity is None:
        problems.append(Problem(None, "severity",
                                f"Tingkat harus salah satu dari {', '.join(tax.severities)}.",
                                value=str(fields.get("severity"))[:20]))
    occurred = None
    try:
        occurred = parse_time(fields.get("occurred_at"))
    except (ValueError, TypeError) as exc:
        reason = str(exc) if "WITA" in str(exc) else "waktu tidak terbaca (ISO 8601)"
        problems.append(Problem(None, "occurred_at", f"Waktu kejadian: {reason}.",
                                value=str(fields.get("occurred_at"))[:40]))
    description = _text(fields, "description", tax.description_max, problems) or ""
    tps = _text(fields, "tps", 40, problems)
    if tps and re.fullmatch(r"[0-9]+", tps):     # ASCII: "²".isdigit() is true
        tps = str(int(tps))
    reporter = _text(fields, "reporter_name", 200, problems)
    point = _point(fields, problems, reference)
    if problems:
        raise InputRejected(problems[0].reason if len(problems) == 1 else
                            f"Laporan ditolak: {len(problems)} isian perlu diperbaiki.",
                            problems, field=problems[0].field)
    confirm = fields.get("confirm_warnings") in (True, "true", "1", 1)
    return IncidentInput(ident, category, severity, description, occurred, point[0], point[1],
                         point[2], tps, reporter, confirm)


def check_time(inp: IncidentInput, election: dict, tax: Taxonomy, now: dt.datetime) -> None:
    limit = now + dt.timedelta(minutes=tax.future_tolerance_min)
    shown = inp.occurred_at.astimezone(WITA).strftime("%d-%m-%Y %H:%M WITA")
    if inp.occurred_at > limit:
        msg = f"Waktu kejadian ({shown}) masih di masa depan."
        raise InputRejected(msg, [Problem(None, "occurred_at", msg, value=shown)],
                            field="occurred_at")
    start = election.get("campaign_start")
    if start and inp.occurred_at < dt.datetime.combine(start, dt.time(), WITA):
        msg = (f"Waktu kejadian ({shown}) sebelum awal masa kampanye "
               f"({start:%d-%m-%Y}).")
        raise InputRejected(msg, [Problem(None, "occurred_at", msg, value=shown)],
                            field="occurred_at")


_SELECT = """
    SELECT i.id, i.election_id, i.category, i.severity, i.description, i.occurred_at,
           i.reported_at, i.reporter_id, i.reporter_name, i.status,
           ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.kelurahan_kode, k.nama AS kelurahan_nama,
           t.kode AS tps_kode, i.tps_distance_m, i.content_hash, i.warnings, i.merged_into,
           i.reviewed_by, i.reviewed_at, i.review_note
    FROM incident i
    LEFT JOIN kelurahan k ON k.kode = i.kelurahan_kode
    LEFT JOIN tps t ON t.id = i.tps_id"""


def as_dict(row, tax: Taxonomy | None = None) -> dict:
    out = dict(row)
    for key in ("id", "merged_into"):
        out[key] = str(out[key]) if out.get(key) else None
    for key in ("occurred_at", "reported_at", "reviewed_at"):
        out[key] = out[key].astimezone(UTC).isoformat() if out.get(key) else None
    out.pop("content_hash", None)
    if tax is not None and out["category"] in tax.categories:
        cat = tax.categories[out["category"]]
        out["category_label"], out["jenis"] = cat.label, cat.jenis
    return out


def get_incident(conn: Connection, incident_id, tax: Taxonomy | None = None) -> dict:
    row = conn.execute(text(_SELECT + " WHERE i.id = :id"),
                       {"id": str(incident_id)}).mappings().first()
    if row is None:
        raise NotFound(f"Laporan {incident_id} tidak ditemukan.", field="id")
    return as_dict(row, tax)


def _stored(conn: Connection, ident: str):
    return conn.execute(text("SELECT content_hash FROM incident WHERE id = :id"),
                        {"id": ident}).first()


def _same_or_conflict(stored, inp: IncidentInput) -> None:
    if stored.content_hash != inp.content_hash:
        raise Conflict("ID laporan ini sudah dipakai untuk laporan dengan isi lain; buat "
                       "laporan baru dengan ID baru.", field="id")


# The common report as one statement (on an autocommit connection, its own transaction):
# placement by the shared rules, the UUID's uniqueness, the insert, its audit entry and the
# analysis queue row (+ NOTIFY at commit). It inserts only when nothing needs the sender's
# attention (point inside a kelurahan of the area and of the writer's scope, a TPS within
# reach, no TPS named, a time within the election's span, an unused UUID); otherwise it
# inserts nothing and the report takes the full path, which says why.
_ACTIVE = "(SELECT {col} FROM election WHERE active)"
FAST_INSERT = f"""
    WITH kel AS ({COVERING_KELURAHAN.format(point=POINT, wil=_ACTIVE.format(col="wilayah_kode"))}),
    near AS ({NEAREST_TPS.format(point=POINT, election=_ACTIVE.format(col="id"))}),
    ins AS (
        INSERT INTO incident (id, election_id, category, severity, description, occurred_at,
                              reporter_id, reporter_name, geom, kelurahan_kode, tps_id,
                              tps_distance_m, content_hash, warnings)
        SELECT :id, e.id, :category, :severity, :description, :occurred_at, :reporter_id,
               :reporter_name, {POINT}, kel.kode, near.id,
               round(near.distance_m::numeric, 1)::float8, :hash, '[]'::jsonb
        FROM election e, kel, near
        WHERE e.active AND near.distance_m <= :far AND :occurred_at <= :latest
          AND (CAST(:scope AS text) IS NULL OR kel.kode = CAST(:scope AS text))
          AND (e.campaign_start IS NULL
               OR :occurred_at >= e.campaign_start::timestamp AT TIME ZONE 'Asia/Makassar')
        ON CONFLICT (id) DO NOTHING
        RETURNING id, election_id, category, severity, description, occurred_at, reported_at,
                  reporter_id, reporter_name, status, ST_X(geom) AS lon, ST_Y(geom) AS lat,
                  kelurahan_kode, tps_distance_m, content_hash, warnings, merged_into,
                  reviewed_by, reviewed_at, review_note),
    logged AS (
        INSERT INTO audit_log (actor, action, target, detail, checksum)
        SELECT :actor, 'incident.create', ins.id::text,
               jsonb_build_object('category', ins.category, 'severity', ins.severity,
                                  'kelurahan', ins.kelurahan_kode, 'tps', near.kode,
                                  'warnings', '[]'::jsonb), ins.content_hash
        FROM ins, near),
    queued AS (  -- as analysis.changes.incident: the worker refreshes around the point
        INSERT INTO analysis_queue (election_id, points, reason)
        SELECT election_id, ST_Multi({POINT}), 'incident.create' FROM ins
        RETURNING election_id)
    SELECT ins.*, kel.nama AS kelurahan_nama, near.kode AS tps_kode,
           (SELECT count(pg_notify(:channel, q.election_id::text)) FROM queued q) AS notified
    FROM ins, kel, near"""
FAST_INSERT_STMT = hot.Statement(FAST_INSERT)


def _insert_common(conn: Connection, inp: IncidentInput, *, tax: Taxonomy,
                   reporter_id: int | None, actor: str, now: dt.datetime, scope: str | None):
    """The stored report when the one-statement path took it, else None."""
    if inp.tps is not None:
        return None
    return hot.first(conn, FAST_INSERT_STMT, {
        "id": inp.id, "category": inp.category, "severity": inp.severity,
        "description": inp.description, "occurred_at": inp.occurred_at,
        "reporter_id": reporter_id, "reporter_name": inp.reporter_name or actor,
        "lon": inp.lon, "lat": inp.lat, "hash": inp.content_hash, "actor": actor,
        "far": tax.far_from_tps_m, "scope": scope, "channel": changes.CHANNEL,
        "latest": now + dt.timedelta(minutes=tax.future_tolerance_min)})


def submit(conn: Connection, payload, *, tax: Taxonomy, reporter_id: int | None,
           actor: str, now: dt.datetime | None = None,
           scope: str | None = None) -> tuple[bool, dict]:
    """Store a report once. Returns (created, report); raises InputRejected/Conflict, or
    Forbidden when the place lies outside the writer's kelurahan ``scope``.

    ``conn`` is in the caller's transaction, or in autocommit mode (the web path): the
    common report is then one round trip; the full path gets its own transaction."""
    inp = read_payload(payload, tax, lambda: area_centre(conn))
    now = now or dt.datetime.now(UTC)
    row = _insert_common(conn, inp, tax=tax, reporter_id=reporter_id, actor=actor, now=now,
                         scope=scope)
    if row is not None:
        return True, as_dict({k: v for k, v in row.items() if k != "notified"}, tax)
    with transaction(conn):
        return _submit_checked(conn, inp, tax=tax, reporter_id=reporter_id, actor=actor,
                               now=now, scope=scope)


def _submit_checked(conn: Connection, inp: IncidentInput, *, tax: Taxonomy,
                    reporter_id: int | None, actor: str, now: dt.datetime,
                    scope: str | None) -> tuple[bool, dict]:
    """Every check with its reason and warning: repeats, time, placement, named TPS."""
    stored = _stored(conn, inp.id)
    if stored is not None:
        _same_or_conflict(stored, inp)
        return False, get_incident(conn, inp.id, tax)
    election = active_election(conn)
    check_time(inp, election, tax, now)
    place = place_kelurahan(conn, inp.lon, inp.lat, wilayah=election.get("wilayah_kode"),
                            tax=tax, field_name=inp.coord_field)
    place_tps(conn, place, inp.lon, inp.lat, election_id=election["id"], given=inp.tps,
              tax=tax, field_name=inp.coord_field)
    scopes.check(conn, scope, place.kelurahan_kode, "lokasi laporan ini", inp.coord_field)
    blocking = [w for w in place.warnings if w["code"] in tax.confirm]
    if blocking and not inp.confirm_warnings:
        raise NeedsConfirmation(place.warnings)
    inserted = conn.execute(text("""
        INSERT INTO incident (id, election_id, category, severity, description, occurred_at,
                              reporter_id, reporter_name, geom, kelurahan_kode, tps_id,
                              tps_distance_m, content_hash, warnings)
        VALUES (:id, :e, :category, :severity, :description, :occurred_at, :reporter_id,
                :reporter_name, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :kel, :tps_id,
                :dist, :hash, :warnings)
        ON CONFLICT (id) DO NOTHING RETURNING id""").bindparams(
        bindparam("warnings", type_=JSONB)),
        {"id": inp.id, "e": election["id"], "category": inp.category,
         "severity": inp.severity, "description": inp.description,
         "occurred_at": inp.occurred_at, "reporter_id": reporter_id,
         "reporter_name": inp.reporter_name or actor, "lon": inp.lon, "lat": inp.lat,
         "kel": place.kelurahan_kode, "tps_id": place.tps_id, "dist": place.tps_distance_m,
         "hash": inp.content_hash, "warnings": place.warnings}).first()
    if inserted is None:  # a concurrent request with the same id won the race
        _same_or_conflict(_stored(conn, inp.id), inp)
        return False, get_incident(conn, inp.id, tax)
    changes.incident(conn, inp.id, "incident.create")
    report = get_incident(conn, inp.id, tax)
    audit.record(conn, actor, "incident.create", inp.id,
                 {"category": inp.category, "severity": inp.severity,
                  "kelurahan": place.kelurahan_kode, "tps": place.tps_kode,
                  "warnings": [w["code"] for w in place.warnings]},
                 checksum=inp.content_hash)
    return True, report


def list_incidents(conn: Connection, *, election_id: int, status: str | None = None,
                   since: dt.datetime | None = None, kelurahan: str | None = None,
                   limit: int = 50, offset: int = 0, tax: Taxonomy | None = None,
                   with_duplicates: bool = False) -> dict:
    """One page of the active election's reports, newest happening first."""
    where = ["i.election_id = :e"]
    params: dict = {"e": election_id, "limit": limit, "offset": offset}
    if status:
        if status not in STATUSES:
            raise InputRejected(f"Status harus salah satu dari {', '.join(STATUSES)}.",
                                field="status")
        where.append("i.status = :status")
        params["status"] = status
    if since:
        where.append("i.occurred_at >= :since")
        params["since"] = since
    if kelurahan:
        where.append("i.kelurahan_kode = :kel")
        params["kel"] = kelurahan
    clause = " WHERE " + " AND ".join(where)
    total = conn.execute(text("SELECT count(*) FROM incident i" + clause), params).scalar_one()
    rows = conn.execute(text(_SELECT + clause + " ORDER BY i.occurred_at DESC, i.id "
                             "LIMIT :limit OFFSET :offset"), params).mappings().all()
    items = [as_dict(r, tax) for r in rows]
    if with_duplicates and items and tax is not None:
        from gisdesk.entry.review import duplicate_counts
        counts = duplicate_counts(conn, [i["id"] for i in items], tax)
        for item in items:
            item["duplicates"] = counts.get(item["id"], 0)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
