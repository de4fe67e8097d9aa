"""The shipped boundary file is what gisdesk's own importer writes, and re-running is stable."""
import json

from ingest_helpers import SHIPPED

from gisdesk.ingest.ship_boundaries import main


def test_shipped_file_has_the_documented_properties():
    doc = json.loads(SHIPPED.read_text())
    assert len(doc["features"]) == 50
    props = doc["features"][0]["properties"]
    assert list(props) == ["kode", "nama", "kecamatan_kode", "kecamatan", "area_km2"]
    assert {f["geometry"]["type"] for f in doc["features"]} == {"MultiPolygon"}
    assert "crs" not in doc  # RFC 7946: lon/lat WGS 84 implied


def test_reshipping_the_shipped_file_reproduces_it(tmp_path):
    target = tmp_path / "again.geojson"
    assert main([str(SHIPPED), str(target)]) == 0
    assert json.loads(target.read_text()) == json.loads(SHIPPED.read_text())


def test_licence_and_provenance_ship_beside_the_data():
    folder = SHIPPED.parent
    assert "MIT License" in (folder / "LICENSE.wilayah_boundaries").read_text()
    readme = (folder / "README.md").read_text()
    assert "wilayah_boundaries" in readme and "65 pairs" in readme
