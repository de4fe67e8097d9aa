"""`gisdesk import tps|facilities`: checked point files into the database, atomically.

The kelurahan of a point is found by PostGIS while inserting (DESIGN: the one its code names
if that contains the point, otherwise the containing one with the lowest code; a point
outside every kelurahan but within 50 m goes to the nearest one). A TPS outside the
kelurahan its code names is flagged, never silently moved.
"""
from __future__ import annotations

from pathlib import Path

import shapely
from sqlalchemy import Connection, Engine, text

from gisdesk import audit
from gisdesk.errors import InputRejected, NotFound, Problem
from gisdesk.ingest.points import prepare_points
from gisdesk.ingest.write_common import (ImportResult, import_transaction, known_kelurahan,
                                         loaded_area, upsert_counts)

# the file's facility kinds (ingest.point_rules) as stored in facility.kind
DB_FACILITY_KIND = {"sekretariat_pps": "pps", "sekretariat_ppk": "ppk", "kantor_kpu": "kpu",
                    "kantor_bawaslu": "bawaslu", "polres": "polresta"}

# a point's kelurahan, by the rule above; :kel is the kelurahan its code names (may be NULL)
POINT_KELURAHAN_SQL = """
    coalesce(
      (SELECT k.kode FROM kelurahan k WHERE ST_Contains(k.geom, {pt})
        ORDER BY (k.kode = {kel}) DESC NULLS LAST, k.kode LIMIT 1),
      (SELECT k.kode FROM kelurahan k ORDER BY k.geom <-> {pt} LIMIT 1))"""


def _election(conn: Connection, election_id: int | None) -> dict:
    sql = "SELECT * FROM election WHERE " + ("id = :e" if election_id else "active")
    row = conn.execute(text(sql), {"e": election_id}).mappings().first()
    if row is None:
        raise NotFound("No active election: create one with `gisdesk election add` "
                       "(or load the demo) before importing TPS.")
    return dict(row)


def _prepare(engine: Engine, path: Path, kind: str, **options):
    with engine.connect() as conn:
        known = known_kelurahan(conn)
        if known.empty:
            raise InputRejected("No kelurahan are loaded yet: import boundaries first "
                                "(`gisdesk import boundaries FILE`).")
        area = loaded_area(conn)
    return prepare_points(path, kind, area=area, known_kelurahan=known, **options)


def _run(engine: Engine, result: ImportResult, actor: str, write, dry_run: bool,
         progress) -> ImportResult:
    progress(f"writing {result.filename} in one transaction")
    with import_transaction(engine, dry_run) as conn:
        result.counts.update(write(conn))
        if not dry_run:
            audit.record(conn, actor, f"import.{result.kind}", result.filename,
                         {"counts": result.counts, "warnings": len(result.problems)},
                         result.sha256)
    return result


def import_tps(engine: Engine, path: str | Path, *, actor: str, election_id: int | None = None,
               layer: str | None = None, src_crs: str | None = None,
               field_map: dict | None = None, dry_run: bool = False,
               progress=lambda message: None) -> ImportResult:
    path = Path(path)
    with engine.connect() as conn:
        election = _election(conn, election_id)
    progress(f"reading and checking {path.name}")
    prep = _prepare(engine, path, "tps", layer=layer, src_crs=src_crs, field_map=field_map,
                    max_dpt=election["max_voters_per_tps"])
    result = ImportResult("tps", path.name, audit.file_sha256(path), problems=list(prep.problems),
                          dry_run=dry_run)
    pts = prep.points
    wkb = shapely.to_wkb(pts.geometry.values)
    rows = [{"e": election["id"], "kode": r["kode"], "kel": r["kelurahan_kode"],
             "nomor": int(r["nomor"]), "dpt": int(r["dpt"]), "alamat": r.get("alamat"),
             "wkb": wkb[i]}
            for i, r in enumerate(pts.drop(columns="geometry").to_dict("records"))]

    def write(conn: Connection) -> dict:
        conn.execute(text("CREATE TEMP TABLE tps_stage (e int, kode text, kel text, nomor int, "
                          "dpt int, alamat text, geom geometry(Point, 4326)) ON COMMIT DROP"))
        conn.execute(text("INSERT INTO tps_stage VALUES (:e, :kode, :kel, :nomor, :dpt, "
                          ":alamat, ST_GeomFromWKB(:wkb, 4326))"), rows)
        pt_kel = POINT_KELURAHAN_SQL.format(pt="s.geom", kel="s.kel")
        flags = conn.execute(text(f"""
            WITH located AS (
              SELECT s.*, {pt_kel} AS pk FROM tps_stage s)
            INSERT INTO tps AS t (kode, election_id, kelurahan_kode, nomor, dpt, alamat, geom,
                                  point_kelurahan_kode, flags)
            SELECT kode, e, kel, nomor, dpt, alamat, geom,
                   CASE WHEN pk <> kel THEN pk END,
                   CASE WHEN pk <> kel THEN jsonb_build_array('outside_own_kelurahan')
                        ELSE '[]'::jsonb END
            FROM located
            ON CONFLICT (election_id, kode) DO UPDATE SET dpt = EXCLUDED.dpt,
              alamat = EXCLUDED.alamat, geom = EXCLUDED.geom,
              point_kelurahan_kode = EXCLUDED.point_kelurahan_kode, flags = EXCLUDED.flags,
              updated_at = now()
            WHERE (t.dpt, t.alamat, ST_AsBinary(t.geom), t.flags)
                  IS DISTINCT FROM (EXCLUDED.dpt, EXCLUDED.alamat, ST_AsBinary(EXCLUDED.geom),
                                    EXCLUDED.flags)
            RETURNING xmax = 0""")).scalars().all()
        outside = conn.execute(text(f"""
            SELECT s.kode, s.kel, {pt_kel} AS pk FROM tps_stage s""")).all()
        for kode, kel, pk in outside:
            if pk != kel:
                result.problems.append(Problem(
                    None, "kode", f"TPS {kode} lies in kelurahan {pk}, not in {kel} as its "
                    "code says: kept under its code and flagged 'outside_own_kelurahan'",
                    "warning", kode))
        counts = upsert_counts(flags)
        counts["unchanged"] = len(rows) - counts["inserted"] - counts["updated"]
        counts["flagged_outside_own_kelurahan"] = sum(1 for _, k, p in outside if p != k)
        from gisdesk.analysis.store import mark_stale
        if counts["inserted"] or counts["updated"]:
            mark_stale(conn, election["id"])
        return counts

    return _run(engine, result, actor, write, dry_run, progress)


def import_facilities(engine: Engine, path: str | Path, *, actor: str, layer: str | None = None,
                      src_crs: str | None = None, field_map: dict | None = None,
                      dry_run: bool = False, progress=lambda message: None) -> ImportResult:
    path = Path(path)
    progress(f"reading and checking {path.name}")
    prep = _prepare(engine, path, "facility", layer=layer, src_crs=src_crs, field_map=field_map)
    result = ImportResult("facilities", path.name, audit.file_sha256(path),
                          problems=list(prep.problems), dry_run=dry_run)
    pts = prep.points
    wkb = shapely.to_wkb(pts.geometry.values)
    rows = [{"kind": DB_FACILITY_KIND.get(r["jenis"], r["jenis"]), "nama": r["nama"], "alamat": r.get("alamat"),
             "kel": r.get("kelurahan_kode"), "wkb": wkb[i], "src": path.name}
            for i, r in enumerate(pts.drop(columns="geometry").to_dict("records"))]
    pt_kel = POINT_KELURAHAN_SQL.format(pt="ST_GeomFromWKB(:wkb, 4326)", kel="CAST(:kel AS text)")

    def write(conn: Connection) -> dict:
        flags = [conn.execute(text(f"""
            INSERT INTO facility AS f (kind, nama, alamat, kelurahan_kode, kecamatan_kode,
                                       geom, source)
            SELECT :kind, :nama, :alamat, pk, left(pk, 8), ST_GeomFromWKB(:wkb, 4326), :src
            FROM (SELECT {pt_kel} AS pk) x
            ON CONFLICT (kind, nama) DO UPDATE SET alamat = EXCLUDED.alamat,
              kelurahan_kode = EXCLUDED.kelurahan_kode, kecamatan_kode = EXCLUDED.kecamatan_kode,
              geom = EXCLUDED.geom
            WHERE (f.alamat, f.kelurahan_kode, ST_AsBinary(f.geom))
                  IS DISTINCT FROM (EXCLUDED.alamat, EXCLUDED.kelurahan_kode,
                                    ST_AsBinary(EXCLUDED.geom))
            RETURNING xmax = 0"""), r).scalar() for r in rows]
        counts = upsert_counts(flags)
        counts["unchanged"] = len(rows) - counts["inserted"] - counts["updated"]
        return counts

    return _run(engine, result, actor, write, dry_run, progress)
