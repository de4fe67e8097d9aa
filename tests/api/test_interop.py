"""GDAL's OAPIF driver reads the live API like QGIS would: counts, attributes and positions
match the database."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import text


# pyogrio keeps the GIL while GDAL reads, which would starve the in-process server: read
# in a child process. Its GDAL (newer than the system's) sets its own headers for OAPIF, so
# the token goes through GDAL_HTTP_AUTH=BEARER (GDAL >= 3.9).
READER = """
import json, sys, pyogrio
pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": sys.argv[2]})
frame = pyogrio.read_dataframe(sys.argv[1])
rows = json.loads(frame.drop(columns="geometry").to_json(orient="records"))
for row, geom in zip(rows, frame.geometry):
    row["_type"], row["_bounds"] = geom.geom_type, list(geom.bounds)
print(json.dumps(rows))
"""


def read_remote(url: str, token: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-c", READER, url, token], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def gdal_auth(demo):
    """GDAL sends the viewer's token (paged reading is a viewer's right)."""
    return ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {demo['tokens']['viewer']}"]


def _tps_rows(engine) -> dict:
    with engine.connect() as conn:
        return {r.kode: r for r in conn.execute(text(
            "SELECT t.kode, t.kelurahan_kode, t.dpt, ST_X(t.geom) x, ST_Y(t.geom) y "
            "FROM tps t JOIN election e ON e.id = t.election_id AND e.active"))}


def test_ogrinfo_sees_the_tps_collection_with_its_feature_count(live, gdal_auth):
    out = subprocess.run(["ogrinfo", "-ro", "-so", *gdal_auth,
                          f"OAPIF:{live.url}/api/collections/tps", "tps"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Feature Count: 1248" in out.stdout
    assert "tps_kode: String" in out.stdout and "kelurahan_kode: String" in out.stdout


def test_pyogrio_reads_tps_matching_the_database(live, demo, engine):
    records = read_remote(f"OAPIF:{live.url}/api/collections/tps", demo["tokens"]["viewer"])
    rows = _tps_rows(engine)
    assert len(records) == len(rows) == 1248
    assert {r["tps_kode"] for r in records} == set(rows)
    for rec in records:
        db = rows[rec["tps_kode"]]
        assert rec["kelurahan_kode"] == db.kelurahan_kode and rec["dpt"] == db.dpt
        assert rec["_type"] == "Point"
        x, y = rec["_bounds"][:2]
        assert abs(x - db.x) < 1e-6 and abs(y - db.y) < 1e-6


def test_pyogrio_reads_kelurahan_polygons_matching_the_database(live, demo, engine):
    records = read_remote(f"OAPIF:{live.url}/api/collections/kelurahan",
                          demo["tokens"]["viewer"])
    with engine.connect() as conn:
        rows = {r.kode: r for r in conn.execute(text(
            "SELECT kode, nama, ST_XMin(geom) w, ST_YMin(geom) s, ST_XMax(geom) e, "
            "ST_YMax(geom) n, ST_NPoints(geom) np FROM kelurahan"))}
    assert len(records) == len(rows) == 50
    for rec in records:
        db = rows[rec["kelurahan_kode"]]
        assert rec["kelurahan_nama"] == db.nama and rec["_type"] == "MultiPolygon"
        assert rec["_bounds"] == pytest.approx([db.w, db.s, db.e, db.n], abs=1e-6)


def test_ogr2ogr_copies_the_collection_to_geojson(live, gdal_auth, tmp_path, engine):
    out = tmp_path / "tps.geojson"
    proc = subprocess.run(["ogr2ogr", *gdal_auth, "-f", "GeoJSON", str(out),
                           f"OAPIF:{live.url}/api/collections/tps"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    features = json.loads(out.read_text())["features"]
    rows = _tps_rows(engine)
    assert sorted(f["properties"]["tps_kode"] for f in features) == sorted(rows)


def test_gdal_without_a_token_is_refused(live):
    proc = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live.url}/api/collections/tps"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "401" in proc.stderr
