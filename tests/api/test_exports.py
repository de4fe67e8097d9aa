"""File exports (CLI and web) read back with pyogrio: same counts, codes, coordinates; each
export audited; the quick count never leaks to a role without its permission."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk.cli import main
from conftest import make_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_cli(demo):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["export", *args], env={"GISDESK_DATABASE_URL": demo["url"]},
                             catch_exceptions=False)
    return run


@pytest.fixture(scope="module")
def tps_db(engine, demo) -> dict:
    with engine.connect() as conn:
        return {r.kode: r for r in conn.execute(text(
            "SELECT t.kode, t.kelurahan_kode, k.kecamatan_kode, t.dpt, ST_X(t.geom) x, "
            "ST_Y(t.geom) y FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode"))}


def _assert_same_tps(codes, xs, ys, tps_db):
    assert len(codes) == len(tps_db) == 1248 and set(codes) == set(tps_db)
    for code, x, y in zip(codes, xs, ys):
        assert abs(float(x) - tps_db[code].x) < 1e-6 and abs(float(y) - tps_db[code].y) < 1e-6


def test_geojson_export_reads_back_identical(run_cli, tmp_path, tps_db):
    out = tmp_path / "tps.geojson"
    result = run_cli("tps", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "tps: 1248 fitur" in result.output
    frame = pyogrio.read_dataframe(out)
    _assert_same_tps(list(frame["tps_kode"]), frame.geometry.x, frame.geometry.y, tps_db)
    # GDAL reads the feature id into 'id'; the declared attributes follow in their order
    assert [c for c in frame.columns if c != "id"][:3] == ["tps_kode", "tps_label", "nomor"]


def test_csv_export_has_bom_declared_columns_text_codes_and_positions(run_cli, tmp_path,
                                                                      tps_db):
    out = tmp_path / "tps.csv"
    assert run_cli("tps", "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0])[-3:] == ["lon", "lat", "wkt"] and list(rows[0])[0] == "tps_kode"
    assert rows[0]["kelurahan_kode"].count(".") == 3  # codes stay dotted text
    _assert_same_tps([r["tps_kode"] for r in rows], [r["lon"] for r in rows],
                     [r["lat"] for r in rows], tps_db)
    frame = pyogrio.read_dataframe(out, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
    assert len(frame) == 1248 and pd.api.types.is_string_dtype(frame["tps_kode"])


def test_csv_of_polygons_gives_a_point_on_surface_and_wkt(run_cli, tmp_path):
    out = tmp_path / "kel.csv"
    assert run_cli("kelurahan", "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 50
    for r in rows:
        area = shapely.from_wkt(r["wkt"])
        assert area.geom_type == "MultiPolygon"
        assert area.buffer(1e-6).contains(shapely.Point(float(r["lon"]), float(r["lat"])))


def test_gpkg_holds_several_layers_with_stable_attribute_names(run_cli, tmp_path, tps_db):
    out = tmp_path / "desk.gpkg"
    result = run_cli("kelurahan", "tps", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert dict(pyogrio.list_layers(out)) == {"kelurahan": "MultiPolygon", "tps": "Point"}
    tps = pyogrio.read_dataframe(out, layer="tps")
    _assert_same_tps(list(tps["tps_kode"]), tps.geometry.x, tps.geometry.y, tps_db)
    kel = pyogrio.read_dataframe(out, layer="kelurahan")
    assert len(kel) == 50 and kel["kelurahan_kode"].str.match(r"^52\.71\.\d\d\.\d{4}$").all()


def test_all_layers_in_one_gpkg_with_times_keeping_their_offset(run_cli, tmp_path, engine):
    out = tmp_path / "semua.gpkg"
    result = run_cli("--all", "-o", str(out))
    assert result.exit_code == 0, result.output
    names = {name for name, _ in pyogrio.list_layers(out)}
    assert {"tps", "kelurahan", "kecamatan", "incidents", "facilities"} <= names
    assert "quickcount" not in names  # restricted layers only when named
    incidents = pyogrio.read_dataframe(out, layer="incidents", datetime_as_string=True)
    with engine.connect() as conn:
        first = conn.execute(text("SELECT min(occurred_at) FROM incident WHERE status NOT IN "
                                  "('rejected', 'merged')")).scalar()
    times = [dt.datetime.fromisoformat(v.replace("Z", "+00:00")) for v in
             incidents["occurred_at"]]
    assert all(t.utcoffset() is not None for t in times) and min(times) == first


def test_bbox_and_kecamatan_filters_select_what_the_user_sees(run_cli, tmp_path, tps_db,
                                                             engine):
    out = tmp_path / "ampenan.geojson"
    assert run_cli("tps", "-o", str(out), "--kecamatan", "52.71.01").exit_code == 0
    frame = pyogrio.read_dataframe(out)
    expected = {k for k, r in tps_db.items() if r.kecamatan_kode == "52.71.01"}
    assert set(frame["tps_kode"]) == expected and expected
    box = tmp_path / "box.csv"
    assert run_cli("tps", "-o", str(box), "--bbox", "116.07,-8.60,116.10,-8.57").exit_code == 0
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM tps WHERE ST_Intersects(geom, "
                              "ST_MakeEnvelope(116.07, -8.60, 116.10, -8.57, 4326))")).scalar()
    assert len(box.read_text(encoding="utf-8-sig").splitlines()) == n + 1


def test_cli_refusals_write_nothing(run_cli, tmp_path):
    assert run_cli("tidak_ada", "-o", str(tmp_path / "x.csv")).exit_code == 2
    assert run_cli("tps", "kelurahan", "-o", str(tmp_path / "x.csv")).exit_code == 2
    assert run_cli("tps", "-o", str(tmp_path / "x.shp")).exit_code == 2
    result = run_cli("tps", "-o", str(tmp_path / "x.csv"), "--kecamatan", "52.71.99")
    assert result.exit_code == 1 and "52.71.99" in result.output
    assert run_cli("tps", "-o", str(tmp_path / "x.csv"), "--bbox", "1,2").exit_code == 1
    assert not list(tmp_path.iterdir())


def test_each_cli_export_is_audited(run_cli, tmp_path, engine):
    assert run_cli("kecamatan", "-o", str(tmp_path / "kec.geojson")).exit_code == 0
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, detail FROM audit_log WHERE action = "
                                "'export.kecamatan' ORDER BY id DESC LIMIT 1")).one()
    assert row.actor.startswith("cli") and row.detail["count"] == 6
    assert row.detail["format"] == "geojson" and row.detail["via"] == "cli"


def test_web_gpkg_download_reads_back(as_role, tmp_path, tps_db):
    r = as_role("planner").get("/export/tps.gpkg?kecamatan_kode=52.71.02")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    path = tmp_path / "dl.gpkg"
    path.write_bytes(r.data)
    r.close()
    frame = pyogrio.read_dataframe(path)
    assert set(frame["tps_kode"]) == {k for k, v in tps_db.items()
                                      if v.kecamatan_kode == "52.71.02"}


def test_web_csv_download_follows_the_items_filters(as_role):
    r = as_role("planner").get("/export/tps.csv?kelas=sangat_rawan&bbox=116,-8.7,116.2,-8.5")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows and {row["kelas"] for row in rows} == {"sangat_rawan"}
    assert as_role("planner").get("/export/tps.csv?warna=merah").status_code == 400


@pytest.fixture(scope="module")
def qc_app(engine, demo, tmp_path_factory):
    """The real layers plus a layer only the quick-count permission may see."""
    layers = tmp_path_factory.mktemp("layers")
    for path in (ROOT / "layers").glob("*.toml"):
        shutil.copy(path, layers)
    body = (ROOT / "layers/kelurahan.toml").read_text().replace(
        'id = "kelurahan"', 'id = "hitung_cepat"\npermission = "quickcount"')
    (layers / "hitung_cepat.toml").write_text(body)
    return make_app(engine, tmp_path_factory.mktemp("home"), layers_dir=layers)


def test_quickcount_layer_is_absent_for_a_planner_everywhere(qc_app, demo):
    def get(role, url):
        headers = {"Authorization": f"Bearer {demo['tokens'][role]}"}
        return qc_app.test_client().get(url, headers=headers)
    ids = {c["id"] for c in get("planner", "/api/collections").json["collections"]}
    assert "hitung_cepat" not in ids and "tps" in ids
    for url in ("/api/collections/hitung_cepat", "/api/collections/hitung_cepat/items",
                "/api/collections/hitung_cepat/items/52.71.01.1001",
                "/export/hitung_cepat.csv", "/export/hitung_cepat.gpkg"):
        r = get("planner", url)
        assert r.status_code == 404, url
    assert "hitung_cepat" not in get("planner", "/api/openapi").get_data(as_text=True)
    if "quickcount" in qc_app.extensions["gisdesk.layers"]:  # the real quick-count layer
        assert "quickcount" not in ids
        for url in ("/api/collections/quickcount/items", "/export/quickcount.gpkg"):
            assert get("planner", url).status_code == 404
    assert "hitung_cepat" in {c["id"] for c in
                              get("supervisor", "/api/collections").json["collections"]}
    assert get("supervisor", "/export/hitung_cepat.csv").status_code == 200


def test_gisdesk_export_runs_as_a_subprocess(demo, tmp_path):
    gisdesk = shutil.which("gisdesk", path=str(ROOT / ".venv/bin")) or "gisdesk"
    out = tmp_path / "kec.csv"
    proc = subprocess.run([gisdesk, "export", "kecamatan", "-o", str(out)],
                          env={**os.environ, "GISDESK_DATABASE_URL": demo["url"]},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 7


def test_all_with_a_named_restricted_layer_includes_it(run_cli, tmp_path):
    from gisdesk import layers as registry
    from gisdesk.config import load_settings
    if "quickcount" not in registry.load(load_settings().layers_dir):
        pytest.skip("no quick-count layer in this checkout")
    out = tmp_path / "lengkap.gpkg"
    result = run_cli("--all", "quickcount", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "quickcount" in {name for name, _ in pyogrio.list_layers(out)}
