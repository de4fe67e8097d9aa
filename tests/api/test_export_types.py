"""One type per attribute everywhere: the declared types of layers/*.toml reach GeoJSON,
GeoPackage and CSV (its .csvt sidecar, or CSV+CSVT+PRJ zipped) as GDAL reads them; a list
is one JSON array of text in every format; CRS, filters and kecamatan are the same on the
web and the command line; file names carry WITA time."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import zipfile

import pyogrio
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk.cli import main


@pytest.fixture(scope="module")
def run_cli(demo):
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, ["export", *args],
                               env={"GISDESK_DATABASE_URL": demo["url"]},
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result
    return run


def gdal_types(path: str, layer: str) -> dict[str, str]:
    """Column -> type as the system's ogrinfo (GDAL 3.6, what QGIS uses) reports it."""
    out = subprocess.run(["ogrinfo", "-so", "-ro", path, layer], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return dict(re.findall(r"^(\w+): (\S+) \(", out, re.M))


DECLARED = {"tps_kode": "String", "dpt": "Integer", "escalated": "Integer(Boolean)",
            "reasons": "StringList"}


def test_cli_csv_comes_with_csvt_and_prj_so_gdal_reads_types_and_crs(run_cli, tmp_path):
    out = tmp_path / "tps.csv"
    run_cli("tps", "-o", str(out))
    assert out.with_suffix(".csvt").exists() and out.with_suffix(".prj").exists()
    types = gdal_types(str(out), "tps")
    assert {k: types[k] for k in DECLARED} == DECLARED
    inc = tmp_path / "incidents.csv"
    run_cli("incidents", "-o", str(inc))
    assert gdal_types(str(inc), "incidents")["occurred_at"] == "DateTime"
    info = subprocess.run(["ogrinfo", "-so", str(out), "tps"], capture_output=True, text=True,
                          check=True).stdout
    assert 'GEOGCRS["WGS 84"' in info and 'AXIS["longitude",east' in info


def test_web_zip_holds_csv_csvt_prj_read_by_gdal_in_the_asked_crs(as_role, tmp_path, engine):
    r = as_role("planner").get("/export/tps.zip?crs=EPSG:32750&kelas=rawan")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert re.match(r'attachment; filename="?tps-\d{8}-\d{4}-WITA\.zip',
                    r.headers["Content-Disposition"])
    path = tmp_path / "tps.zip"
    path.write_bytes(r.data)
    r.close()
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["tps.csv", "tps.csvt", "tps.prj"]
        assert "UTM_Zone_50S" in archive.read("tps.prj").decode()
    types = gdal_types(f"/vsizip/{path}/tps.csv", "tps")
    assert {k: types[k] for k in DECLARED} == DECLARED and types["x"] == "Real"
    frame = pyogrio.read_dataframe(f"/vsizip/{path}/tps.csv")
    with engine.connect() as conn:
        db = dict(conn.execute(text(
            "SELECT t.kode, ARRAY[ST_X(ST_Transform(t.geom, 32750)), ST_Y(ST_Transform("
            "t.geom, 32750))] FROM tps t JOIN tps_risk r ON r.tps_id = t.id "
            "WHERE r.kelas = 'rawan'")).all())
    assert len(frame) == len(db) > 0
    for kode, x, y in zip(frame.tps_kode, frame.x, frame.y):
        assert [float(x), float(y)] == pytest.approx(db[kode], abs=0.01)


def test_a_list_is_the_same_json_array_in_geojson_csv_and_gpkg(as_role, tmp_path):
    planner = as_role("planner")
    geo = planner.get("/export/tps.geojson?tps_kode=52.71.01.1004-001").json["features"][0]
    reasons = geo["properties"]["reasons"]
    assert isinstance(reasons, list) and reasons
    rows = list(csv.DictReader(io.StringIO(planner.get(
        "/export/tps.csv?tps_kode=52.71.01.1004-001").data.decode("utf-8-sig"))))
    assert json.loads(rows[0]["reasons"]) == reasons
    gpkg = tmp_path / "tps.gpkg"
    r = as_role("planner").get("/export/tps.gpkg?tps_kode=52.71.01.1004-001")
    gpkg.write_bytes(r.data)
    r.close()
    frame = pyogrio.read_dataframe(gpkg)
    assert json.loads(frame.reasons[0]) == reasons
    types = gdal_types(str(gpkg), "tps")
    assert types["escalated"] == "Integer(Boolean)" and types["dpt"] == "Integer"


def test_cli_crs_filter_and_both_kecamatan_names_match_the_web_export(run_cli, as_role,
                                                                       tmp_path):
    old, new = tmp_path / "old.geojson", tmp_path / "new.geojson"
    run_cli("tps", "-o", str(old), "--kecamatan", "52.71.01", "--filter", "dpt > 250")
    run_cli("tps", "-o", str(new), "--kecamatan-kode", "52.71.01", "--filter", "dpt > 250")
    ids = lambda p: [f["id"] for f in json.loads(p.read_text())["features"]]  # noqa: E731
    web = as_role("planner").get("/export/tps.geojson", query_string={
        "kecamatan_kode": "52.71.01", "filter": "dpt > 250"}).json
    assert ids(old) == ids(new) == [f["id"] for f in web["features"]] and ids(old)
    utm = tmp_path / "utm.gpkg"
    run_cli("tps", "-o", str(utm), "--crs", "EPSG:32750", "--kecamatan-kode", "52.71.01")
    info = subprocess.run(["ogrinfo", "-so", str(utm), "tps"], capture_output=True,
                          text=True, check=True).stdout
    assert 'ID["EPSG",32750]' in info


def test_a_bad_crs_on_the_command_line_is_a_clear_error(demo):
    result = CliRunner().invoke(main, ["export", "tps", "-o", "/tmp/x.csv", "--crs",
                                       "EPSG:27700"], env={"GISDESK_DATABASE_URL": demo["url"]})
    assert result.exit_code != 0 and "crs" in result.output and "Traceback" not in result.output
