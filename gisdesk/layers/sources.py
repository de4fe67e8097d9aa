"""The rows behind each layer: one SQL query per source, streamed as GeoJSON.

Used by the map, and later by the OGC API and the exports, so it knows nothing of Flask.
Every value reaches SQL as a bind parameter; column names come only from a source's own
declared columns (a layer's properties are checked against them when the layer is loaded),
and a filter may name only a property the layer declares.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import Connection, text

from gisdesk.errors import InputRejected
from gisdesk.quickcount.aggregate import COUNTED_SQL, NOTICE

CHUNK_ROWS = 500  # rows fetched per round trip from the server-side cursor


@dataclass(frozen=True)
class Source:
    name: str
    sql: str                     # SELECT ... with one column per property, plus geom
    columns: dict[str, str]      # column -> property type (see gisdesk.layers.TYPES)
    order_by: str                # a stable order, so paging is repeatable


_KEL_NAMES = """
    JOIN kelurahan kel ON kel.kode = {alias}.kelurahan_kode
    JOIN kecamatan kec ON kec.kode = kel.kecamatan_kode"""

SOURCES: dict[str, Source] = {}


def _source(name: str, sql: str, columns: dict[str, str], order_by: str) -> None:
    SOURCES[name] = Source(name, sql, columns, order_by)


# Per kecamatan, the sums stored with the results version (kecamatan_gap): shortfall = sum of
# the positive kelurahan gaps, surplus = of the negative ones; TNI as assigned only.
_KECAMATAN_SUMS = ("n_tps", "polri_required", "polri_assigned", "polri_short", "polri_surplus",
                   "linmas_required", "linmas_assigned", "linmas_short", "linmas_surplus",
                   "tni_assigned", "polri_reserve")
_source("kecamatan", """
    SELECT kec.kode AS kecamatan_kode, kec.nama AS kecamatan_nama,
           (SELECT count(*) FROM kelurahan k WHERE k.kecamatan_kode = kec.kode) AS n_kelurahan,
           """ + ", ".join(f"g.{c}" for c in _KECAMATAN_SUMS) + """, kec.geom
    FROM kecamatan kec
    LEFT JOIN kecamatan_gap g ON g.kecamatan_kode = kec.kode AND g.election_id = :election_id""",
        {"kecamatan_kode": "string", "kecamatan_nama": "string", "n_kelurahan": "integer",
         **{c: "integer" for c in _KECAMATAN_SUMS}},
        "kecamatan_kode")

# LEFT JOIN: a kelurahan without analysis results is still drawn (neutral, gap unknown)
_source("kelurahan_gap", """
    SELECT kel.kode AS kelurahan_kode, kel.nama AS kelurahan_nama,
           kec.kode AS kecamatan_kode, kec.nama AS kecamatan_nama,
           g.n_tps, g.polri_required, g.polri_assigned, g.polri_gap,
           g.linmas_required, g.linmas_assigned, g.linmas_gap, g.tni_assigned,
           g.not_ready, g.incidents_recent, COALESCE(g.reasons, '[]'::jsonb) AS reasons,
           kel.geom
    FROM kelurahan kel
    JOIN kecamatan kec ON kec.kode = kel.kecamatan_kode
    LEFT JOIN kelurahan_gap g ON g.kelurahan_kode = kel.kode AND g.election_id = :election_id""",
        {"kelurahan_kode": "string", "kelurahan_nama": "string", "kecamatan_kode": "string",
         "kecamatan_nama": "string", "n_tps": "integer", "polri_required": "integer",
         "polri_assigned": "integer", "polri_gap": "integer", "linmas_required": "integer",
         "linmas_assigned": "integer", "linmas_gap": "integer", "tni_assigned": "integer",
         "not_ready": "integer", "incidents_recent": "integer", "reasons": "array"},
        "kelurahan_kode")

_source("tps", """
    SELECT t.kode AS tps_kode, t.nomor, 'TPS ' || lpad(t.nomor::text, 3, '0') AS tps_label,
           kel.kode AS kelurahan_kode, kel.nama AS kelurahan_nama,
           kec.kode AS kecamatan_kode, kec.nama AS kecamatan_nama, t.dpt, t.alamat,
           t.lokasi_khusus, r.kelas, r.kelas_polri, r.kelas_kpu, r.kelas_bawaslu,
           r.kelas_kelurahan, COALESCE(r.escalated, false) AS escalated,
           COALESCE(r.disagree, false) AS disagree, COALESCE(r.reasons, '[]'::jsonb) AS reasons,
           rd.state AS kesiapan, t.geom
    FROM tps t""" + _KEL_NAMES.format(alias="t") + """
    LEFT JOIN tps_risk r ON r.tps_id = t.id AND r.election_id = t.election_id
    LEFT JOIN tps_readiness rd ON rd.tps_id = t.id
    WHERE t.election_id = :election_id""",
        {"tps_kode": "string", "nomor": "integer", "tps_label": "string",
         "kelurahan_kode": "string", "kelurahan_nama": "string", "kecamatan_kode": "string",
         "kecamatan_nama": "string", "dpt": "integer", "alamat": "string",
         "lokasi_khusus": "boolean", "kelas": "string", "kelas_polri": "string",
         "kelas_kpu": "string", "kelas_bawaslu": "string", "kelas_kelurahan": "string",
         "escalated": "boolean", "disagree": "boolean", "reasons": "array",
         "kesiapan": "string"},
        "tps_kode")

# rejected and merged reports are not incidents on the ground
_source("incidents", """
    SELECT i.id::text AS incident_id, i.category AS kategori, i.severity AS tingkat,
           i.description AS uraian, i.occurred_at, i.reported_at, i.status,
           i.kelurahan_kode, kel.nama AS kelurahan_nama, kec.kode AS kecamatan_kode,
           kec.nama AS kecamatan_nama, t.kode AS tps_kode,
           round(i.tps_distance_m::numeric)::integer AS tps_jarak_m, i.geom
    FROM incident i
    LEFT JOIN kelurahan kel ON kel.kode = i.kelurahan_kode
    LEFT JOIN kecamatan kec ON kec.kode = kel.kecamatan_kode
    LEFT JOIN tps t ON t.id = i.tps_id
    WHERE i.election_id = :election_id AND i.status NOT IN ('rejected', 'merged')""",
        {"incident_id": "string", "kategori": "string", "tingkat": "string",
         "uraian": "string", "occurred_at": "datetime", "reported_at": "datetime",
         "status": "string", "kelurahan_kode": "string", "kelurahan_nama": "string",
         "kecamatan_kode": "string", "kecamatan_nama": "string", "tps_kode": "string",
         "tps_jarak_m": "integer"},
        "occurred_at DESC, incident_id")

_source("facilities", """
    SELECT f.id AS facility_id, f.kind AS jenis, f.nama, f.alamat, f.kelurahan_kode,
           kel.nama AS kelurahan_nama, COALESCE(f.kecamatan_kode, kel.kecamatan_kode)
           AS kecamatan_kode, f.geom
    FROM facility f
    LEFT JOIN kelurahan kel ON kel.kode = f.kelurahan_kode""",
        {"facility_id": "integer", "jenis": "string", "nama": "string", "alamat": "string",
         "kelurahan_kode": "string", "kelurahan_nama": "string", "kecamatan_kode": "string"},
        "facility_id")


# The internal quick count per kelurahan (supervisor/admin only: the layer's permission is
# "quickcount"). Same rule as gisdesk.quickcount.aggregate (its COUNTED_SQL): a TPS counts
# when one agency entered it, all agree, or a supervisor resolved its flag; an open flag keeps
# it out. The election's first contest (by id) is the one shown; candidates come from the
# contest, so ``suara`` (lines for people) and ``suara_json`` (for machines) fit any number.
_QC_CONTEST = "(SELECT id FROM qc_contest)"
_source("quickcount_kelurahan", """
    WITH qc_contest AS (
        SELECT c.id, c.kode FROM contest c WHERE c.election_id = :election_id
        ORDER BY c.id LIMIT 1),
    qc_counted AS (""" + re.sub(r":c\b", _QC_CONTEST, COUNTED_SQL) + """),
    qc_tps AS (
        SELECT t.kelurahan_kode, t.dpt, e.id AS entry_id, e.valid, e.invalid, e.votes,
               coalesce(f.status = 'open', false) AS flagged
        FROM tps t
        LEFT JOIN qc_counted c ON c.tps_id = t.id
        LEFT JOIN result_entry e ON e.id = c.entry_id
        LEFT JOIN result_flag f ON f.tps_id = t.id AND f.contest_id = """ + _QC_CONTEST + """
        WHERE t.election_id = :election_id),
    qc_kel AS (
        SELECT kelurahan_kode, count(*)::int AS tps_total, count(entry_id)::int AS tps_masuk,
               (count(*) FILTER (WHERE flagged))::int AS tps_beda,
               coalesce(sum(dpt), 0)::int AS dpt_total,
               coalesce(sum(dpt) FILTER (WHERE entry_id IS NOT NULL), 0)::int AS dpt_masuk,
               coalesce(sum(valid), 0)::int AS suara_sah,
               coalesce(sum(invalid), 0)::int AS suara_tidak_sah
        FROM qc_tps GROUP BY kelurahan_kode),
    qc_cand AS (
        SELECT k.kelurahan_kode, d.nomor, d.nama,
               coalesce(sum((t.votes ->> d.nomor::text)::int), 0)::int AS suara
        FROM qc_kel k
        CROSS JOIN qc_contest q
        JOIN candidate d ON d.contest_id = q.id
        LEFT JOIN qc_tps t ON t.kelurahan_kode = k.kelurahan_kode AND t.entry_id IS NOT NULL
        GROUP BY k.kelurahan_kode, d.nomor, d.nama),
    qc_share AS (
        SELECT c.*, max(c.suara) OVER w AS top,
               CASE WHEN sum(c.suara) OVER w > 0
                    THEN round(100.0 * c.suara / sum(c.suara) OVER w, 2)::float8
                    ELSE 0::float8 END AS persen
        FROM qc_cand c WINDOW w AS (PARTITION BY c.kelurahan_kode)),
    qc_sum AS (
        SELECT kelurahan_kode,
               jsonb_agg(lpad(nomor::text, 2, '0') || ' ' || nama || ': '
                         || replace(to_char(suara, 'FM999,999,990'), ',', '.') || ' suara ('
                         || replace(to_char(persen, 'FM990.00'), '.', ',') || ' %)'
                         ORDER BY nomor) AS suara,
               jsonb_agg(jsonb_build_object('nomor', nomor, 'nama', nama, 'suara', suara,
                                            'persen', persen) ORDER BY nomor)::text AS suara_json,
               count(*) FILTER (WHERE suara = top AND top > 0) AS n_top,
               min(nomor) FILTER (WHERE suara = top AND top > 0) AS top_nomor
        FROM qc_share GROUP BY kelurahan_kode)
    SELECT kel.kode AS kelurahan_kode, kel.nama AS kelurahan_nama,
           kec.kode AS kecamatan_kode, kec.nama AS kecamatan_nama,
           (SELECT kode FROM qc_contest) AS pemilihan,
           k.tps_masuk, k.tps_total,
           CASE WHEN k.tps_total > 0 THEN round(100.0 * k.tps_masuk / k.tps_total, 2)::float8
                ELSE 0::float8 END AS progres_persen,
           k.tps_beda, k.dpt_masuk, k.dpt_total,
           CASE WHEN k.dpt_total > 0 THEN round(100.0 * k.dpt_masuk / k.dpt_total, 2)::float8
                ELSE 0::float8 END AS dpt_persen,
           k.suara_sah, k.suara_tidak_sah,
           coalesce(s.suara, '[]'::jsonb) AS suara, coalesce(s.suara_json, '[]') AS suara_json,
           w.nomor::int AS unggul_nomor, w.nama AS unggul_nama, w.persen AS unggul_persen,
           '""" + NOTICE.replace("'", "''") + """'::text AS keterangan,
           kel.geom
    FROM qc_kel k
    JOIN kelurahan kel ON kel.kode = k.kelurahan_kode
    JOIN kecamatan kec ON kec.kode = kel.kecamatan_kode
    LEFT JOIN qc_sum s ON s.kelurahan_kode = k.kelurahan_kode
    LEFT JOIN qc_share w ON w.kelurahan_kode = k.kelurahan_kode AND s.n_top = 1
                        AND w.nomor = s.top_nomor""",
        {"kelurahan_kode": "string", "kelurahan_nama": "string", "kecamatan_kode": "string",
         "kecamatan_nama": "string", "pemilihan": "string", "tps_masuk": "integer",
         "tps_total": "integer", "progres_persen": "number", "tps_beda": "integer",
         "dpt_masuk": "integer", "dpt_total": "integer", "dpt_persen": "number",
         "suara_sah": "integer", "suara_tidak_sah": "integer", "suara": "array",
         "suara_json": "string", "unggul_nomor": "integer", "unggul_nama": "string",
         "unggul_persen": "number", "keterangan": "string"},
        "kelurahan_kode")

# --- filters ------------------------------------------------------------------------------

def _coerce(name: str, kind: str, raw: Any) -> Any:
    """A filter value of the property's type; a wrong one is refused, naming the field."""
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            if isinstance(raw, bool):
                return raw
            low = str(raw).strip().lower()
            if low in ("true", "1", "ya", "yes"):
                return True
            if low in ("false", "0", "tidak", "no"):
                return False
            raise ValueError(raw)
        if kind == "datetime":
            return parse_time(raw, name)
    except (TypeError, ValueError):
        raise InputRejected(f"Nilai filter '{name}' tidak sah: {raw!r}", field=name) from None
    return str(raw)


def parse_time(raw: Any, field: str) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        try:
            value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise InputRejected(f"Waktu '{field}' tidak sah: {raw!r} (pakai ISO 8601)",
                                field=field) from None
    value = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    try:
        # PostgreSQL refuses offsets beyond +-15:59 that Python accepts: hand it UTC
        return value.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        raise InputRejected(f"Waktu '{field}' di luar jangkauan: {raw!r}", field=field) from None


def _where(layer, *, election_id, bbox, filters, since, until, cql=None,
           bbox_srid=4326) -> tuple[list[str], dict]:
    types = {p.name: p.type for p in layer.properties}
    clauses: list[str] = []
    params: dict[str, Any] = {"election_id": election_id}
    merged = dict(layer.where)
    for name, value in (filters or {}).items():
        if name not in types:
            raise InputRejected(f"Lapisan '{layer.id}' tidak punya atribut '{name}' untuk "
                                "disaring", field=name)
        merged[name] = value
    for i, (name, value) in enumerate(merged.items()):
        kind = types[name]
        key = f"f{i}"
        values = value if isinstance(value, (list, tuple, set)) else [value]
        if kind == "array":  # an array property matches when it contains the value
            params[key] = json.dumps([str(v) for v in values])
            clauses.append(f's."{name}" @> CAST(:{key} AS jsonb)')
        else:
            params[key] = [_coerce(name, kind, v) for v in values]
            clauses.append(f's."{name}" = ANY(:{key})')
    if bbox is not None:
        west, south, east, north = _bbox(bbox) if bbox_srid == 4326 else bbox
        params.update(w=west, s=south, e=east, n=north, bsrid=int(bbox_srid))
        box = "ST_Transform(ST_MakeEnvelope(:w, :s, :e, :n, :bsrid), 4326)"
        clauses.append(f"s.geom && {box} AND ST_Intersects(s.geom, {box})")
    if cql is not None:  # (fragment, params) from gisdesk.layers.cql: all values bound
        clauses.append(cql[0])
        params.update(cql[1])
    for key, when, op in (("since", since, ">="), ("until", until, "<")):
        if when is None:
            continue
        if not layer.time_field:
            raise InputRejected(f"Lapisan '{layer.id}' tidak punya waktu untuk disaring",
                                field=key)
        params[key] = parse_time(when, key)
        clauses.append(f's."{layer.time_field}" {op} :{key}')
    return clauses, params


def _bbox(bbox) -> tuple[float, float, float, float]:
    try:
        parts = [float(v) for v in (bbox.split(",") if isinstance(bbox, str) else bbox)]
    except (TypeError, ValueError):
        parts = []
    if len(parts) != 4 or not (-180 <= parts[0] <= parts[2] <= 180
                               and -90 <= parts[1] <= parts[3] <= 90):
        raise InputRejected("bbox harus 'barat,selatan,timur,utara' dalam derajat "
                            "(barat <= timur, selatan <= utara)", field="bbox")
    return parts[0], parts[1], parts[2], parts[3]


def _query(layer, select: str, *, election_id, bbox, filters, since, until, cql=None,
           bbox_srid=4326, limit=None, offset=0, ordered=True, sort=()) -> tuple[str, dict]:
    source = SOURCES[layer.source]
    clauses, params = _where(layer, election_id=election_id, bbox=bbox, filters=filters,
                             since=since, until=until, cql=cql, bbox_srid=bbox_srid)
    sql = f"SELECT {select} FROM ({source.sql}) s"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    if ordered:  # sortby names declared properties only (checked by its parser)
        sql += " ORDER BY " + ", ".join(
            [f's."{layer.property(n).name}" {"DESC" if desc else "ASC"} NULLS LAST'
             for n, desc in sort]
            + [f"s.{part.strip()}" for part in source.order_by.split(",")])
    if limit is not None:
        if int(limit) < 0:
            raise InputRejected("limit tidak boleh negatif", field="limit")
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    if offset:
        if int(offset) < 0:
            raise InputRejected("offset tidak boleh negatif", field="offset")
        sql += " OFFSET :offset"
        params["offset"] = int(offset)
    return sql, params


# --- public API -----------------------------------------------------------------------------

def features(conn: Connection, layer, *, election_id: int, bbox=None, filters=None,
             limit: int | None = None, offset: int = 0, since=None, until=None, cql=None,
             bbox_srid=4326, crs=None, properties=None, sort=()
             ) -> Iterator[tuple[dict, dict]]:
    """(properties, GeoJSON geometry) per feature, streamed from a server-side cursor.

    ``crs`` (gisdesk.layers.crs.Crs) gives coordinates in that CRS and its axis order;
    ``properties`` keeps only those declared names. Arguments are checked now (InputRejected
    before anything is sent); rows come lazily.
    """
    names = [p.name for p in layer.properties if not properties or p.name in properties]
    geom = "s.geom"
    if crs is not None and crs.srid != 4326:
        geom = f"ST_Transform({geom}, {int(crs.srid)})"
    if crs is not None and crs.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    digits = 6 if crs is None else crs.precision
    select = ", ".join([f's."{n}"' for n in names]
                       + [f"ST_AsGeoJSON({geom}, {digits}, 0) AS _geometry"])
    sql, params = _query(layer, select, election_id=election_id, bbox=bbox, filters=filters,
                         since=since, until=until, cql=cql, bbox_srid=bbox_srid,
                         limit=limit, offset=offset, sort=sort)

    def rows() -> Iterator[tuple[dict, dict]]:
        with conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(
                text(sql), params) as result:   # the server-side cursor closes with the stream
            for row in result:
                props = {n: _jsonable(row[i]) for i, n in enumerate(names)}
                yield props, json.loads(row[-1])
    return rows()


def count(conn: Connection, layer, *, election_id: int, bbox=None, filters=None,
          since=None, until=None, cql=None, bbox_srid=4326) -> int:
    sql, params = _query(layer, "count(*)", election_id=election_id, bbox=bbox,
                         filters=filters, since=since, until=until, cql=cql,
                         bbox_srid=bbox_srid, ordered=False)
    return conn.execute(text(sql), params).scalar_one()


def geojson_feature_collection(conn: Connection, layer, *, election_id: int,
                               limit: int | None = None, offset: int = 0,
                               extra: dict | None = None, **selection) -> Iterator[str]:
    """A FeatureCollection as text chunks, one feature at a time (never one huge value).

    ``selection``: the keyword arguments of ``features``. Arguments are checked and the
    query runs when called (the first row is fetched), so a bad filter, or a value the
    database refuses, fails before a response starts.
    """
    rows = features(conn, layer, election_id=election_id, limit=limit, offset=offset,
                    **selection)
    first = next(rows, None)
    rows = itertools.chain([first] if first is not None else [], rows)
    head = {"type": "FeatureCollection", "name": layer.id, **(extra or {})}
    id_field = layer.properties[0].name  # the first property is the feature's stable key

    def chunks() -> Iterator[str]:
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
        for i, (props, geometry) in enumerate(rows):
            feature = {"type": "Feature", "id": props.get(id_field), "geometry": geometry,
                       "properties": props}
            if feature["id"] is None:  # the key was left out by ``properties``
                del feature["id"]
            yield ("," if i else "") + json.dumps(feature, ensure_ascii=False)
        yield "]}"
    return chunks()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def extent(conn: Connection, layer, *, election_id: int, bbox=None, filters=None, since=None,
           until=None) -> dict:
    """The matching features' bbox [west, south, east, north] and, for a layer with a time
    field, their [first, last] time; None where there is nothing (used by the OGC API)."""
    select = ("min(ST_XMin(s.geom)), min(ST_YMin(s.geom)), max(ST_XMax(s.geom)), "
              "max(ST_YMax(s.geom))")
    if layer.time_field:
        select += f', min(s."{layer.time_field}"), max(s."{layer.time_field}")'
    sql, params = _query(layer, select, election_id=election_id, bbox=bbox, filters=filters,
                         since=since, until=until, ordered=False)
    row = conn.execute(text(sql), params).one()
    interval = [_jsonable(row[4]), _jsonable(row[5])] if layer.time_field else None
    return {"bbox": None if row[0] is None else [float(v) for v in row[:4]],
            "interval": interval if interval and interval[0] is not None else None}
