"""Fixtures for the demo tests: the Kota Mataram boundaries inserted straight into a test
database (the boundary importer is tested elsewhere; the demo only needs the polygons)."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Connection, text

ROOT = Path(__file__).resolve().parents[2]
# The project's own copy once it ships one; the shared copy until then.
CANDIDATES = (ROOT / "data/boundaries/mataram_kelurahan.geojson",
              Path("/work/shared/data/boundaries/mataram_kelurahan.geojson"))


@pytest.fixture(scope="session")
def boundaries_path() -> Path:
    for path in CANDIDATES:
        if path.exists():
            return path
    pytest.fail("No Mataram kelurahan GeoJSON found; looked in: "
                + ", ".join(str(p) for p in CANDIDATES), pytrace=False)


@pytest.fixture(scope="session")
def kelurahan_frame(boundaries_path: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(boundaries_path)


def insert_boundaries(conn: Connection, frame: gpd.GeoDataFrame) -> None:
    """Kelurahan as given (made valid, multi); kecamatan = union of their kelurahan."""
    conn.execute(text("CREATE TEMP TABLE demo_test_kel (kode text, nama text, kec text, "
                      "kec_nama text, gj text) ON COMMIT DROP"))
    conn.execute(text("INSERT INTO demo_test_kel VALUES (:kode, :nama, :kec, :kec_nama, :gj)"),
                 [{"kode": r.kode, "nama": r.nama, "kec": r.kecamatan_kode,
                   "kec_nama": r.kecamatan, "gj": json.dumps(r.geometry.__geo_interface__)}
                  for r in frame.itertuples()])
    conn.execute(text("""
        UPDATE demo_test_kel SET gj = ST_AsText(ST_Multi(ST_CollectionExtract(
            ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326)), 3)))"""))
    conn.execute(text("""
        INSERT INTO kecamatan (kode, nama, geom, source)
        SELECT kec, min(kec_nama),
               ST_Multi(ST_CollectionExtract(ST_Union(ST_GeomFromText(gj, 4326)), 3)), 'test'
        FROM demo_test_kel GROUP BY kec"""))
    conn.execute(text("""
        INSERT INTO kelurahan (kode, nama, kecamatan_kode, area_km2, geom, source)
        SELECT kode, nama, kec, ST_Area(ST_GeomFromText(gj, 4326)::geography) / 1e6,
               ST_GeomFromText(gj, 4326), 'test'
        FROM demo_test_kel"""))
    conn.execute(text("DROP TABLE demo_test_kel"))


@pytest.fixture(scope="session")
def insert_mataram(kelurahan_frame):
    """``insert_mataram(conn)`` puts the 50 kelurahan and 6 kecamatan into ``conn``'s database."""
    return lambda conn: insert_boundaries(conn, kelurahan_frame)
