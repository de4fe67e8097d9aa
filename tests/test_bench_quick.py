"""`python -m gisdesk.bench --quick` machinery on a fresh database: every operation is
measured next to its floor (or reported "not available"), the JSON has the documented keys
and positive numbers. No wall-clock thresholds here: `make bench` judges speed."""
from __future__ import annotations

import json
import os

import pytest

from gisdesk import bench
from gisdesk.bench import databases, report

OPERATIONS = {"tps_import", "gap_recompute", "geojson_export", "geojson_export_rss",
              "tile_z6", "tile_z10", "tile_z14", "map_page_render", "map_page_bytes",
              "incident_post_p99", "incident_post_rate", "incident_post_sequential_p50",
              "readiness_post_p99", "readiness_post_rate", "readiness_post_sequential_p50",
              "analysis_freshness", "read_p99_under_writes"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    name = f"gt_{os.getpid()}_bench_city"
    out = tmp_path_factory.mktemp("bench") / "results.json"
    try:
        bench.run(["city"], quick=True, output=out, db_names={"city": name},
                  log=lambda message: None)
        yield json.loads(out.read_text())
    finally:
        from gisdesk.db import testing
        from gisdesk.db.engine import get_engine
        from sqlalchemy import make_url
        url = make_url(databases.server_url()).set(database=name)
        get_engine(url.render_as_string(hide_password=False)).dispose()
        testing.drop_database(databases.server_url(), name)


def test_machine_and_versions_are_recorded(results):
    m = results["machine"]
    assert m["nproc"] >= 1 and m["ram_gb"] > 0
    for key in ("postgresql", "postgis", "gdal", "geos", "date"):
        assert m.get(key)
    assert results["quick"] is True and results["scales"] == ["city"]


def test_every_operation_has_a_row_with_positive_numbers(results):
    rows = results["results"]
    assert {r["operation"] for r in rows} == OPERATIONS
    for r in rows:
        assert r["scale"] == "city"
        assert set(r) >= {"figure", "floor", "ratio", "target", "met", "status", "unit"}
        assert r["status"] in ("ok", "not available"), (r["operation"], r["note"])
        if r["status"] == "ok":
            assert r["figure"] > 0, r
        if r["floor"] is not None:
            assert r["floor"] > 0, r
        if r["ratio"] is not None:
            assert r["ratio"] > 0 and r["met"] in (True, False)
    by_op = {r["operation"]: r for r in rows}
    # the product paths that exist today are measured, with a floor beside them
    for op in ("tps_import", "gap_recompute", "geojson_export"):
        assert by_op[op]["status"] == "ok" and by_op[op]["floor"] > 0
    assert by_op["tile_z14"]["floor"] > 0        # the raw ST_AsMVT floor is always there
    assert by_op["geojson_export"]["details"]["product_features"] == 1248
    for op in ("incident_post_rate", "readiness_post_rate"):   # counts and audit verified
        checks = by_op[op]["details"]["checks"]
        assert by_op[op]["status"] == "ok", by_op[op]["note"]
        assert checks["stored"] == checks["expected"] and checks["audit_problems"] == 0
        assert checks["waiting"] == 0


def test_table_prints_every_row(results):
    out = report.table(results["results"])
    assert out.count("\n") == len(results["results"]) + 1
    assert "tps_import" in out and "ratio" in out
