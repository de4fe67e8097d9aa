"""Reading the stored analysis for people: the suggestion list and the gap table.

The map's tables, the API and `gisdesk suggest` all read through here, so they agree.
"""
from __future__ import annotations

import json

from sqlalchemy import Connection, text

SUGGESTION_COLUMNS = ["rank", "kecamatan", "kelurahan_kode", "kelurahan", "agency", "required",
                      "assigned", "gap", "count", "from_kind", "from_kelurahan_kode",
                      "from_nama", "distance_m", "move", "reasons"]


def suggestions(conn: Connection, election_id: int) -> list[dict]:
    rows = conn.execute(text("""
        SELECT s.rank, c.nama AS kecamatan, s.kelurahan_kode, k.nama AS kelurahan, s.agency,
               s.required, s.assigned, s.gap, s.count, s.from_kind, s.from_kelurahan_kode,
               coalesce(f.nama, s.from_unit) AS from_nama, round(s.distance_m) AS distance_m,
               s.move_text AS move, s.reasons,
               ST_X(ST_PointOnSurface(k.geom)) AS lon, ST_Y(ST_PointOnSurface(k.geom)) AS lat
        FROM suggestion s JOIN kelurahan k ON k.kode = s.kelurahan_kode
        JOIN kecamatan c ON c.kode = k.kecamatan_kode
        LEFT JOIN kelurahan f ON f.kode = s.from_kelurahan_kode
        WHERE s.election_id = :e ORDER BY s.kabkota_kode, s.rank, s.id"""), {"e": election_id}).mappings().all()
    return [dict(r) for r in rows]


def run_header(conn: Connection, election_id: int) -> tuple:
    """(as_of, pattern set name) of the stored results, for a heading."""
    row = conn.execute(text("""
        SELECT a.as_of, coalesce(s.nama, '-') AS nama FROM analysis_run a
        LEFT JOIN security_pattern_set s ON s.id = a.pattern_set_id
        WHERE a.election_id = :e"""), {"e": election_id}).one()
    return row.as_of, row.nama


def largest_gaps(conn: Connection, election_id: int, limit: int | None = None) -> list[dict]:
    rows = conn.execute(text("""
        SELECT g.kelurahan_kode, k.nama AS kelurahan, c.nama AS kecamatan, g.n_tps, g.n_by_class,
               g.polri_required, g.polri_assigned, g.polri_gap, g.linmas_required,
               g.linmas_assigned, g.linmas_gap, g.not_ready, g.incidents_recent, g.reasons
        FROM kelurahan_gap g JOIN kelurahan k ON k.kode = g.kelurahan_kode
        JOIN kecamatan c ON c.kode = g.kecamatan_kode
        WHERE g.election_id = :e
        ORDER BY g.polri_gap DESC, g.linmas_gap DESC, g.kelurahan_kode
        LIMIT :n"""), {"e": election_id, "n": limit}).mappings().all()
    return [dict(r) for r in rows]


def suggestions_geojson(rows: list[dict]) -> dict:
    features = [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(r["lon"], 6), round(r["lat"], 6)]},
        "properties": {k: (v if not isinstance(v, list) else "; ".join(v))
                       for k, v in r.items() if k not in ("lon", "lat")},
    } for r in rows]
    return {"type": "FeatureCollection", "features": features}


def dumps_geojson(rows: list[dict]) -> str:
    return json.dumps(suggestions_geojson(rows), ensure_ascii=False, default=float)
