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
from gisdesk.indonesian import angka
from gisdesk.ingest.crs_checks import BBox
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
        raise NotFound("Belum ada pemilu aktif: buat dengan `gisdesk election add` "
                       "(atau muat demo) sebelum mengimpor TPS.")
    return dict(row)


# Above this many kelurahan the "outside the area" check runs in PostGIS instead of on a
# union of every polygon in Python (the union of 83,731 desa alone takes ~20 s).
AREA_UNION_MAX = 5000
NEAR_AREA_M = 50.0


def _prepare(engine: Engine, path: Path, kind: str, **options):
    with engine.connect() as conn:
        known = known_kelurahan(conn)
        if known.empty:
            raise InputRejected("Belum ada kelurahan yang dimuat: impor batas wilayah dulu "
                                "(`gisdesk import boundaries FILE`).")
        if len(known) <= AREA_UNION_MAX:
            return prepare_points(path, kind, area=loaded_area(conn), known_kelurahan=known,
                                  **options)
        minx, miny, maxx, maxy = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM kelurahan) x")).one()
    return prepare_points(path, kind, known_kelurahan=known,
                          expected_bbox=BBox(minx, miny, maxx, maxy).expanded(0.05), **options)


def _run(engine: Engine, result: ImportResult, actor: str, write, dry_run: bool,
         progress) -> ImportResult:
    progress(f"menulis {result.filename} dalam satu transaksi")
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
    progress(f"membaca dan memeriksa {path.name}")
    prep = _prepare(engine, path, "tps", layer=layer, src_crs=src_crs, field_map=field_map,
                    max_dpt=election["max_voters_per_tps"])
    result = ImportResult("tps", path.name, audit.file_sha256(path), problems=list(prep.problems),
                          dry_run=dry_run)
    pts = prep.points
    eid = election["id"]

    def write(conn: Connection) -> dict:
        progress(f"menyalin {angka(len(pts))} TPS")
        _copy_stage(conn, pts)
        progress("menempatkan TPS di kelurahannya (PostGIS)")
        _locate(conn, path.name)
        counts = dict(conn.execute(text("""
            WITH written AS (
              INSERT INTO tps AS t (kode, election_id, kelurahan_kode, nomor, dpt, alamat, geom,
                                    point_kelurahan_kode, flags)
              SELECT kode, :e, kel, nomor, dpt, alamat, geom,
                     CASE WHEN pk <> kel THEN pk END,
                     CASE WHEN pk <> kel THEN jsonb_build_array('outside_own_kelurahan')
                          ELSE '[]'::jsonb END
              FROM tps_located
              ON CONFLICT (election_id, kode) DO UPDATE SET dpt = EXCLUDED.dpt,
                alamat = EXCLUDED.alamat, geom = EXCLUDED.geom,
                point_kelurahan_kode = EXCLUDED.point_kelurahan_kode, flags = EXCLUDED.flags,
                updated_at = now()
              WHERE (t.dpt, t.alamat, ST_AsBinary(t.geom), t.flags)
                    IS DISTINCT FROM (EXCLUDED.dpt, EXCLUDED.alamat,
                                      ST_AsBinary(EXCLUDED.geom), EXCLUDED.flags)
              RETURNING xmax = 0 AS is_new)
            SELECT count(*) FILTER (WHERE is_new) AS inserted,
                   count(*) FILTER (WHERE NOT is_new) AS updated FROM written"""),
            {"e": eid}).mappings().one())
        flagged = conn.execute(text(
            "SELECT row, kode, kel, pk, near_m FROM tps_located "
            "WHERE pk <> kel OR near_m IS NOT NULL ORDER BY row")).all()
        for row, kode, kel, pk, near_m in flagged:
            if near_m is not None:
                result.problems.append(Problem(
                    row, "geometry", f"TPS {kode} terletak {angka(near_m)} m di luar kelurahan "
                    f"yang dimuat: dimasukkan ke yang terdekat, {pk}", "warning", kode))
            if pk != kel:
                result.problems.append(Problem(
                    row, "kode", f"TPS {kode} terletak di kelurahan {pk}, bukan di {kel} seperti "
                    "kata kodenya: tetap di bawah kodenya dan ditandai 'outside_own_kelurahan'",
                    "warning", kode))
        counts["unchanged"] = len(pts) - counts["inserted"] - counts["updated"]
        counts["flagged_outside_own_kelurahan"] = sum(1 for f in flagged if f.pk != f.kel)
        if counts["inserted"] or counts["updated"]:
            from gisdesk.analysis import changes
            changes.full(conn, eid, "import.tps")
        return counts

    return _run(engine, result, actor, write, dry_run, progress)


def _copy_stage(conn: Connection, pts) -> None:
    """The checked rows into a temporary table by COPY (one round trip, not one per row)."""
    conn.execute(text("CREATE TEMP TABLE tps_stage (row int, kode text, kel text, nomor int, "
                      "dpt int, alamat text, geom geometry(Point, 4326)) ON COMMIT DROP"))
    ewkb = shapely.to_wkb(pts.geometry.values, hex=True, include_srid=True,
                          flavor="extended") if len(pts) else []
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy("COPY tps_stage FROM STDIN") as copy:
        for i, (row, kode, kel, nomor, dpt, alamat) in enumerate(zip(
                pts["source_row"], pts["kode"], pts["kelurahan_kode"], pts["nomor"], pts["dpt"],
                pts["alamat"])):
            copy.write_row((int(row), kode, kel, int(nomor), int(dpt), alamat, ewkb[i]))


def _locate(conn: Connection, filename: str) -> None:
    """One point-in-polygon pass (GiST): each TPS's kelurahan by the DESIGN rule; points in
    no kelurahan go to the nearest one within 50 m, and further out reject the file."""
    # JIT compilation costs more than it saves on these index-driven joins
    conn.execute(text("SET LOCAL jit = off"))
    # most TPS lie in the kelurahan their code names: one primary-key probe each (the same
    # polygon repeats row after row, so PostGIS's prepared-geometry cache does the rest)
    conn.execute(text("""
        CREATE TEMP TABLE tps_located ON COMMIT DROP AS
        SELECT s.*, k.kode AS pk, NULL::float AS near_m
        FROM tps_stage s
        LEFT JOIN kelurahan k ON k.kode = s.kel AND ST_Contains(k.geom, s.geom)"""))
    conn.execute(text("CREATE INDEX ON tps_located (row)"))
    # the others: the containing kelurahan with the lowest code
    conn.execute(text("""
        UPDATE tps_located l SET pk = c.kode
        FROM (SELECT l2.row, (SELECT k.kode FROM kelurahan k WHERE ST_Contains(k.geom, l2.geom)
                              ORDER BY k.kode LIMIT 1) AS kode
              FROM tps_located l2 WHERE l2.pk IS NULL) c
        WHERE l.row = c.row AND c.kode IS NOT NULL"""))
    conn.execute(text("""
        UPDATE tps_located l SET pk = n.kode, near_m = n.d
        FROM (SELECT l2.row, k.kode, ST_Distance(k.geom::geography, l2.geom::geography) AS d
              FROM tps_located l2
              CROSS JOIN LATERAL (  -- <-> ranks polygons by bounding box: re-rank 5 exactly
                SELECT c.kode, c.geom FROM (SELECT kode, geom FROM kelurahan
                                            ORDER BY geom <-> l2.geom LIMIT 5) c
                ORDER BY ST_Distance(c.geom::geography, l2.geom::geography) LIMIT 1) k
              WHERE l2.pk IS NULL) n
        WHERE l.row = n.row"""))
    far = conn.execute(text(
        "SELECT row, kode, round(near_m::numeric) FROM tps_located "
        "WHERE pk IS NULL OR near_m > :m ORDER BY row"), {"m": NEAR_AREA_M}).all()
    if far:
        problems = [Problem(row, "geometry", f"TPS {kode} terletak {angka(metres)} m di luar "
                            f"kelurahan yang dimuat (lebih dari {angka(NEAR_AREA_M)} m)", value=kode)
                    for row, kode, metres in far]
        raise InputRejected(f"Berkas TPS {filename} ditolak dan tidak ada yang dimuat: "
                            f"{angka(len(problems))} TPS di luar wilayah.", problems)


def import_facilities(engine: Engine, path: str | Path, *, actor: str, layer: str | None = None,
                      src_crs: str | None = None, field_map: dict | None = None,
                      dry_run: bool = False, progress=lambda message: None) -> ImportResult:
    path = Path(path)
    progress(f"membaca dan memeriksa {path.name}")
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
