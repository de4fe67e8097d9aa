"""Importers against a real PostGIS: boundaries, TPS and facilities, atomic and idempotent.

The module database is loaded once with the project's boundary file (``loaded``); tests that
need an empty database get a clone of their own (``fresh_engine``). Every rejection is
checked to leave the database exactly as it was (rows, their digest and the audit log).
"""
from __future__ import annotations

import os
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from ingest.ingest_helpers import KECAMATAN_COUNTS, SHIPPED, gadm_frame, hdx_frame, rbi_frame, write
from pyproj import Geod
from sqlalchemy import make_url, text

from gisdesk import audit
from gisdesk.db import testing as dbtesting
from gisdesk.db.engine import get_engine
from gisdesk.errors import InputRejected
from gisdesk.ingest import write_boundaries
from gisdesk.ingest.crs_checks import swap_xy
from gisdesk.ingest.write_boundaries import import_boundaries
from gisdesk.ingest.write_points import import_facilities, import_tps

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GEOD = Geod(ellps="WGS84")
ACTOR = "test:import"


# --------------------------------------------------------------------------- helpers

def geodesic_m2(geom) -> float:
    """Area on the WGS 84 ellipsoid with pyproj (independent of PostGIS and of gisdesk)."""
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def boundary_digest(conn) -> str:
    """Every kelurahan/kecamatan row, geometry and updated_at included."""
    return conn.execute(text("""
        SELECT md5(string_agg(r, '|' ORDER BY r)) FROM (
          SELECT concat_ws(';', 'kel', kode, nama, kecamatan_kode, kode_bps, area_km2, source,
                           md5(ST_AsEWKB(geom)), updated_at) AS r FROM kelurahan
          UNION ALL
          SELECT concat_ws(';', 'kec', kode, nama, kode_bps, source, md5(ST_AsEWKB(geom)),
                           updated_at) FROM kecamatan) x""")).scalar()


def point_digest(conn) -> str:
    return conn.execute(text("""
        SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM (
          SELECT concat_ws(';', 'tps', kode, election_id, kelurahan_kode, nomor, dpt, alamat,
                           point_kelurahan_kode, flags, md5(ST_AsEWKB(geom)), updated_at) AS r
          FROM tps
          UNION ALL
          SELECT concat_ws(';', 'fac', kind, nama, alamat, kelurahan_kode, kecamatan_kode,
                           md5(ST_AsEWKB(geom))) FROM facility) x""")).scalar()


def snapshot(engine) -> dict:
    """What "nothing changed" compares: row counts, the audit log and digests of the rows."""
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("kecamatan", "kelurahan", "tps", "facility", "audit_log",
                            "analysis_run")}
        return {**counts, "boundaries": boundary_digest(conn), "points": point_digest(conn)}


def rejected(call) -> InputRejected:
    with pytest.raises(InputRejected) as err:
        call()
    return err.value


def errors(exc: InputRejected):
    return [p for p in exc.problems if p.severity == "error"]


def stored_codes(engine) -> tuple[dict, dict]:
    with engine.connect() as conn:
        kel = dict(conn.execute(text("SELECT kode, nama FROM kelurahan")).all())
        kec = dict(conn.execute(text("SELECT kode, nama FROM kecamatan")).all())
    return kel, kec


def stored_areas_m2(engine) -> dict[str, float]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT kode, ST_Area(geom::geography) FROM kelurahan")).all())


def fmt(value: float) -> str:
    """A coordinate as an Indonesian spreadsheet writes it: decimal comma."""
    return f"{value:.7f}".replace(".", ",")


def tps_csv(path: Path, rows: list[tuple]) -> Path:
    """KPU-style CSV: BOM, ';', decimal commas, Indonesian headers.
    rows: (kelurahan code, TPS number, DPT, address, lon, lat)."""
    lines = ["Kode Kelurahan;No TPS;Jumlah DPT;Alamat;Lintang;Bujur"]
    lines += [f"{kode};{nomor:03d};{dpt};{alamat};{fmt(lat)};{fmt(lon)}"
              for kode, nomor, dpt, alamat, lon, lat in rows]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def source() -> gpd.GeoDataFrame:
    """The shipped kelurahan read with plain pyogrio (not through gisdesk's readers)."""
    return pyogrio.read_dataframe(SHIPPED)


@pytest.fixture(scope="module")
def interior(source) -> dict[str, shapely.Point]:
    """A point well inside each kelurahan (and inside no other one)."""
    out = {}
    for i, (kode, geom) in enumerate(zip(source["kode"], source.geometry)):
        others = shapely.union_all([g for j, g in enumerate(source.geometry) if j != i])
        core = geom.difference(others.buffer(0.0005))   # ~50 m away from any neighbour
        out[kode] = core.representative_point()
    return out


@pytest.fixture(scope="module")
def loaded(engine):
    """The module database with the shipped boundaries: the result of the first import."""
    return import_boundaries(engine, SHIPPED, actor=ACTOR)


@pytest.fixture
def fresh_engine(server_url, template_url):
    """An empty migrated database of this test's own."""
    name = f"gt_{os.getpid()}_imp_{uuid.uuid4().hex[:10]}"
    url = dbtesting.clone(server_url, make_url(template_url).database, name)
    eng = get_engine(url)
    yield eng
    eng.dispose()
    dbtesting.drop_database(server_url, name)


@pytest.fixture(scope="module")
def election(engine, loaded) -> int:
    """An active election allowing at most 300 voters per TPS."""
    with engine.begin() as conn:
        return conn.execute(text("""
            INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, active)
            VALUES ('uji-2024', 'Pemilu uji', 'pemilu', '2024-02-14', 300, true)
            RETURNING id""")).scalar_one()


@pytest.fixture(scope="module")
def tps_rows(source, interior) -> list[tuple]:
    """Two TPS per kelurahan at its interior point (the second ~11 m north)."""
    rows = []
    for kode in sorted(source["kode"]):
        p = interior[kode]
        rows.append((kode, 1, 250, f"Jl. Uji {kode} No. 1", p.x, p.y))
        rows.append((kode, 2, 300, f"Jl. Uji {kode} No. 2", p.x, p.y + 0.0001))
    return rows


@pytest.fixture(scope="module")
def tps_file(tmp_path_factory, tps_rows) -> Path:
    return tps_csv(tmp_path_factory.mktemp("tps") / "dpt_tps_mataram.csv", tps_rows)


# --------------------------------------------------------------------------- boundaries

def test_shipped_boundaries_load_50_kelurahan_and_6_derived_kecamatan(engine, loaded, source):
    assert loaded.counts["kelurahan_inserted"] == 50 and loaded.counts["kecamatan_inserted"] == 6
    assert loaded.changed == 56
    kel, kec = stored_codes(engine)
    assert kel == dict(zip(source["kode"], source["nama"]))
    assert kec == {kode: nama for kode, (nama, _) in KECAMATAN_COUNTS.items()}
    with engine.connect() as conn:
        per_kec = dict(conn.execute(text(
            "SELECT kecamatan_kode, count(*) FROM kelurahan GROUP BY 1")).all())
        sources = set(conn.execute(text("SELECT source FROM kecamatan")).scalars())
        entry = conn.execute(text("SELECT actor, checksum, detail FROM audit_log "
                                  "WHERE action = 'import.boundaries'")).one()
    assert per_kec == {kode: n for kode, (_, n) in KECAMATAN_COUNTS.items()}
    assert sources == {"derived from kelurahan"}
    assert entry.actor == ACTOR and entry.checksum == audit.file_sha256(SHIPPED)
    assert entry.detail["counts"]["kelurahan_inserted"] == 50


def test_stored_areas_are_within_half_a_percent_of_the_source(engine, loaded, source):
    stored = stored_areas_m2(engine)
    with engine.connect() as conn:
        column = dict(conn.execute(text("SELECT kode, area_km2 FROM kelurahan")).all())
        kec_areas = dict(conn.execute(text(
            "SELECT kode, ST_Area(geom::geography) FROM kecamatan")).all())
    for kode, geom in zip(source["kode"], source.geometry):
        expected = geodesic_m2(geom)
        assert stored[kode] == pytest.approx(expected, rel=0.005), kode
        assert column[kode] * 1e6 == pytest.approx(expected, rel=0.005), kode
    for kode in KECAMATAN_COUNTS:
        union = shapely.union_all(source.geometry[source["kecamatan_kode"] == kode].values)
        assert kec_areas[kode] == pytest.approx(geodesic_m2(union), rel=0.005), kode


def test_reimporting_the_same_boundary_file_changes_nothing(engine, loaded):
    before = snapshot(engine)
    again = import_boundaries(engine, SHIPPED, actor=ACTOR)
    after = snapshot(engine)
    assert again.changed == 0
    assert {k: v for k, v in again.counts.items() if k != "overlapping_pairs"} == {
        "kecamatan_inserted": 0, "kecamatan_updated": 0,
        "kelurahan_inserted": 0, "kelurahan_updated": 0}
    assert after["boundaries"] == before["boundaries"]
    assert {k: after[k] for k in ("kelurahan", "kecamatan")} == \
        {k: before[k] for k in ("kelurahan", "kecamatan")}


def test_a_file_with_some_kelurahan_of_a_kecamatan_does_not_shrink_it(engine, loaded, source,
                                                                      tmp_path):
    # Two Ampenan kelurahan, unchanged: the dissolved kecamatan keeps all ten of them.
    before = snapshot(engine)
    path = write(source.head(2), tmp_path / "dua_kelurahan.geojson")
    result = import_boundaries(engine, path, actor=ACTOR)
    assert result.changed == 0
    assert snapshot(engine)["boundaries"] == before["boundaries"]


def test_rbi_zipped_shapefile_in_utm_50s_loads_the_same_codes(fresh_engine, source, tmp_path):
    write(rbi_frame(source).to_crs(32750), tmp_path / "ADMINISTRASIDESA_AR_25K.shp")
    archive = tmp_path / "rbi_mataram.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in tmp_path.glob("ADMINISTRASIDESA_AR_25K.*"):
            zf.write(part, part.name)
    result = import_boundaries(fresh_engine, archive, actor=ACTOR)
    assert result.counts["kelurahan_inserted"] == 50
    kel, kec = stored_codes(fresh_engine)
    assert kel == dict(zip(source["kode"], source["nama"]))
    assert set(kec) == set(KECAMATAN_COUNTS)
    stored = stored_areas_m2(fresh_engine)
    for kode, geom in zip(source["kode"], source.geometry):
        assert stored[kode] == pytest.approx(geodesic_m2(geom), rel=0.005), kode


def test_hdx_geopackage_loads_the_same_codes(fresh_engine, source, tmp_path):
    path = write(hdx_frame(source), tmp_path / "idn_admbnda_adm4.gpkg", layer="adm4")
    result = import_boundaries(fresh_engine, path, actor=ACTOR, layer="adm4")
    assert result.counts["kelurahan_inserted"] == 50
    kel, kec = stored_codes(fresh_engine)
    assert kel == dict(zip(source["kode"], source["nama"]))
    assert kec == {kode: nama for kode, (nama, _) in KECAMATAN_COUNTS.items()}


def test_a_whole_file_with_lat_lon_swapped_is_fixed_reported_and_loaded(fresh_engine, source,
                                                                        tmp_path):
    path = tmp_path / "tertukar.geojson"
    path.write_text(source.set_geometry(swap_xy(source.geometry.values)).to_json())
    result = import_boundaries(fresh_engine, path, actor=ACTOR)
    [fix] = [p for p in result.problems if "tertukar" in p.reason]
    assert fix.severity == "fixed" and fix.row is None
    assert result.counts["kelurahan_inserted"] == 50
    stored = stored_areas_m2(fresh_engine)
    for kode, geom in zip(source["kode"], source.geometry):
        assert stored[kode] == pytest.approx(geodesic_m2(geom), rel=0.005), kode
    with fresh_engine.connect() as conn:
        # the fixed geometry is where Mataram is (lon ~116.1, lat ~-8.6)
        x, y = conn.execute(text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid("
                                 "ST_Collect(geom)) c FROM kelurahan) s")).one()
    assert 116.0 < x < 116.2 and -8.7 < y < -8.5


def _duplicate_codes(source, tmp_path):
    frame = source.copy()
    frame.loc[8, "kode"] = frame.loc[2, "kode"]
    return write(frame, tmp_path / "kode_ganda.geojson"), {}


def _truncated(source, tmp_path):
    data = SHIPPED.read_bytes()
    path = tmp_path / "terpotong.geojson"
    path.write_bytes(data[: len(data) // 2])
    return path, {}


def _points(source, tmp_path):
    frame = source.set_geometry(source.geometry.representative_point())
    return write(frame, tmp_path / "titik.geojson"), {}


def _unknown_kecamatan(source, tmp_path):
    # Kelurahan of kab. Lombok Barat (52.01), codes and names only: their kecamatan are not
    # loaded and the file does not name them.
    frame = gpd.GeoDataFrame({"IDDESA": source["kode"].str.replace("52.71.", "52.01.", n=1),
                              "DESA_NM": source["nama"]}, geometry=source.geometry, crs=4326)
    return (write(frame, tmp_path / "desa_lobar.geojson"),
            {"code_field": "IDDESA", "name_field": "DESA_NM"})


def _unknown_kelurahan_name(source, tmp_path):
    # a GADM file (names only) with one kelurahan that is not loaded
    frame = gadm_frame(source)
    frame.loc[11, "NAME_4"] = "TamansariLama"
    return write(frame, tmp_path / "gadm41_IDN_4.gpkg"), {}


@pytest.mark.parametrize("build, row, field, says", [
    (_duplicate_codes, 9, "kode", "baris 3 dan 9"),
    (_truncated, None, None, "terpotong.geojson"),
    (_points, 1, "geometry", "bukan poligon"),
    (_unknown_kecamatan, 1, "IDDESA", "belum dimuat"),
    (_unknown_kelurahan_name, 12, "NAME_4", "TamansariLama"),
], ids=["duplicate-codes", "truncated", "points", "unknown-kecamatan",
        "unknown-kelurahan-name"])
def test_a_bad_boundary_file_is_rejected_and_nothing_changes(engine, loaded, source, tmp_path,
                                                             build, row, field, says):
    path, options = build(source, tmp_path)
    before = snapshot(engine)
    error = rejected(lambda: import_boundaries(engine, path, actor=ACTOR, **options))
    assert snapshot(engine) == before
    text_all = error.message + " ".join(p.reason for p in error.problems)
    assert says in text_all
    if row is not None:
        first = errors(error)[0]
        assert (first.row, first.field) == (row, field)
        # a wrong kind of file is said once for the file; row errors are summed up by row
        assert f"baris {row}" in error.message or "bukan poligon" in error.message


def test_a_crash_in_the_middle_of_an_import_leaves_the_database_as_it_was(fresh_engine,
                                                                          monkeypatch):
    seen = {}

    def crash_after_kecamatan(conn, prep, source):
        seen["kecamatan_written"] = conn.execute(text("SELECT count(*) FROM kecamatan")).scalar()
        raise RuntimeError("disk full")

    monkeypatch.setattr(write_boundaries, "_write_kelurahan", crash_after_kecamatan)
    before = snapshot(fresh_engine)
    with pytest.raises(RuntimeError, match="disk full"):
        import_boundaries(fresh_engine, SHIPPED, actor=ACTOR)
    assert seen["kecamatan_written"] == 6          # it did get that far...
    assert snapshot(fresh_engine) == before        # ...and all of it was rolled back
    assert before["kecamatan"] == 0


def test_a_dry_run_reports_the_counts_and_writes_nothing(fresh_engine):
    before = snapshot(fresh_engine)
    result = import_boundaries(fresh_engine, SHIPPED, actor=ACTOR, dry_run=True)
    assert result.dry_run
    assert result.counts["kelurahan_inserted"] == 50 and result.counts["kecamatan_inserted"] == 6
    assert "uji coba, tidak ada yang ditulis" in result.summary()
    assert snapshot(fresh_engine) == before


# --------------------------------------------------------------------------- TPS

def test_a_kpu_style_tps_csv_loads_with_each_tps_in_its_kelurahan(engine, election, tps_file,
                                                                  tps_rows):
    result = import_tps(engine, tps_file, actor=ACTOR)
    assert result.counts == {"inserted": 100, "updated": 0, "unchanged": 0,
                             "flagged_outside_own_kelurahan": 0}
    assert [p for p in result.problems if p.severity != "fixed"] == []
    with engine.connect() as conn:
        rows = {r.kode: r for r in conn.execute(text("""
            SELECT kode, election_id, kelurahan_kode, nomor, dpt, alamat, point_kelurahan_kode,
                   flags, ST_X(geom) AS x, ST_Y(geom) AS y,
                   (SELECT k.kode FROM kelurahan k WHERE ST_Contains(k.geom, t.geom)) AS inside
            FROM tps t"""))}
        logged = conn.execute(text("SELECT checksum FROM audit_log WHERE action = "
                                   "'import.tps'")).scalars().all()
    assert len(rows) == 100
    for kode, nomor, dpt, alamat, lon, lat in tps_rows:
        r = rows[f"{kode}-{nomor:03d}"]
        assert (r.election_id, r.kelurahan_kode, r.nomor, r.dpt, r.alamat) == \
            (election, kode, nomor, dpt, alamat)
        assert r.inside == kode and r.point_kelurahan_kode is None and r.flags == []
        assert (r.x, r.y) == (pytest.approx(lon, abs=1e-6), pytest.approx(lat, abs=1e-6))
    assert logged == [audit.file_sha256(tps_file)]


def test_reimporting_the_same_tps_file_changes_nothing(engine, election, tps_file):
    before = snapshot(engine)
    result = import_tps(engine, tps_file, actor=ACTOR)
    assert result.counts["unchanged"] == 100 and result.changed == 0
    after = snapshot(engine)
    assert after["points"] == before["points"] and after["tps"] == before["tps"]


def test_a_tps_lying_in_another_kelurahan_is_kept_under_its_code_and_flagged(
        engine, election, interior, tmp_path):
    # TPS 050 of Ampenan Selatan (1004) placed inside Ampenan Tengah (1005)
    p = interior["52.71.01.1005"]
    path = tps_csv(tmp_path / "tps_salah_tempat.csv",
                   [("52.71.01.1004", 50, 120, "Salah tempat", p.x, p.y + 0.0002)])
    result = import_tps(engine, path, actor=ACTOR)
    assert result.counts["inserted"] == 1 and result.counts["flagged_outside_own_kelurahan"] == 1
    [warning] = [p for p in result.problems if p.severity == "warning"]
    assert warning.field == "kode" and warning.value == "52.71.01.1004-050"
    assert "52.71.01.1005" in warning.reason and "outside_own_kelurahan" in warning.reason
    with engine.connect() as conn:
        row = conn.execute(text("SELECT kelurahan_kode, point_kelurahan_kode, flags FROM tps "
                                "WHERE kode = '52.71.01.1004-050'")).one()
    assert tuple(row) == ("52.71.01.1004", "52.71.01.1005", ["outside_own_kelurahan"])


def test_a_point_in_an_overlap_is_assigned_by_the_rule_and_counted_once(engine, election,
                                                                        tmp_path):
    with engine.connect() as conn:
        a, b, x, y = conn.execute(text("""
            SELECT a.kode, b.kode, ST_X(p), ST_Y(p) FROM kelurahan a
            JOIN kelurahan b ON a.kode < b.kode AND ST_Intersects(a.geom, b.geom),
            LATERAL (SELECT ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) AS p) s
            ORDER BY ST_Area(ST_Intersection(a.geom, b.geom)::geography) DESC
            LIMIT 1""")).one()
        containing = conn.execute(text(
            "SELECT kode FROM kelurahan WHERE ST_Contains(geom, ST_Point(:x, :y, 4326)) "
            "ORDER BY kode"), {"x": x, "y": y}).scalars().all()
    assert containing == [a, b]  # the point really lies in both
    elsewhere = "52.71.06.1001" if not a.startswith("52.71.06") else "52.71.01.1004"
    path = tps_csv(tmp_path / "tps_tumpang_tindih.csv", [
        (b, 60, 100, "Di tumpang tindih, kode B", x, y),          # its own kelurahan contains it
        (elsewhere, 61, 100, "Di tumpang tindih, kode lain", x, y + 1e-7)])
    result = import_tps(engine, path, actor=ACTOR)
    assert result.counts["inserted"] == 2 and result.counts["flagged_outside_own_kelurahan"] == 1
    with engine.connect() as conn:
        rows = dict(conn.execute(text("""
            SELECT nomor, (kelurahan_kode, point_kelurahan_kode)::text FROM tps
            WHERE nomor IN (60, 61)""")).all())
        n_by_kelurahan = conn.execute(text(
            "SELECT sum(n) FROM (SELECT kelurahan_kode, count(*) AS n FROM tps "
            "GROUP BY 1) s")).scalar()
        n_tps = conn.execute(text("SELECT count(*) FROM tps")).scalar()
    assert rows == {60: f"({b},)", 61: f"({elsewhere},{a})"}   # own code wins; else lowest
    assert n_by_kelurahan == n_tps                             # never counted twice


def _duplicate_tps(rows):
    return rows[:4] + [rows[2]], 5, "No TPS", "ganda: muncul di baris"


def _swapped_row(rows):
    kode, nomor, dpt, alamat, lon, lat = rows[3]
    return rows[:3] + [(kode, nomor, dpt, alamat, lat, lon)], 4, "geometry", "tertukar"


def _too_many_voters(rows):
    kode, nomor, _, alamat, lon, lat = rows[1]
    return [rows[0], (kode, nomor, 301, alamat, lon, lat)], 2, "Jumlah DPT", "melebihi batas 300"


@pytest.mark.parametrize("build", [_duplicate_tps, _swapped_row, _too_many_voters],
                         ids=["duplicate-key", "swapped-row", "dpt-above-max"])
def test_a_bad_tps_file_is_rejected_and_nothing_is_written(engine, election, tps_rows,
                                                           tmp_path, build):
    # the changed rows would otherwise update existing TPS: nothing of it may land
    rows, row, field, says = build([(k, n, 199, a, x, y) for k, n, _, a, x, y
                                    in tps_rows[:5]])
    before = snapshot(engine)
    error = rejected(lambda: import_tps(engine, tps_csv(tmp_path / "tps.csv", rows),
                                        actor=ACTOR))
    assert snapshot(engine) == before
    problem = errors(error)[0]
    assert (problem.row, problem.field) == (row, field) and says in problem.reason
    assert f"baris {row}" in error.message


def test_tps_without_an_active_election_are_refused(fresh_engine, tps_file):
    from gisdesk.errors import NotFound
    import_boundaries(fresh_engine, SHIPPED, actor=ACTOR)
    with pytest.raises(NotFound, match="election"):
        import_tps(fresh_engine, tps_file, actor=ACTOR)


# --------------------------------------------------------------------------- facilities

def test_facilities_load_with_their_kind_and_kelurahan_and_reload_unchanged(engine, loaded):
    path = FIXTURES / "facilities_desk.geojson"
    result = import_facilities(engine, path, actor=ACTOR)
    assert result.counts == {"inserted": 3, "updated": 0, "unchanged": 0}
    with engine.connect() as conn:
        rows = {r.nama: r for r in conn.execute(text("""
            SELECT f.nama, f.kind, f.alamat, f.kelurahan_kode, f.kecamatan_kode,
                   (SELECT min(k.kode) FROM kelurahan k WHERE ST_Contains(k.geom, f.geom)) AS inside
            FROM facility f"""))}
    assert {n: r.kind for n, r in rows.items()} == {
        "Puskesmas Ampenan": "puskesmas", "Polsek Ampenan": "polsek",
        "Sekretariat PPK Mataram": "ppk"}
    for r in rows.values():
        assert r.kelurahan_kode == r.inside and r.kecamatan_kode == r.inside[:8]
    before = snapshot(engine)
    again = import_facilities(engine, path, actor=ACTOR)
    assert again.counts == {"inserted": 0, "updated": 0, "unchanged": 3}
    assert snapshot(engine)["points"] == before["points"]
