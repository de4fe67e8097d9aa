"""Reading every accepted format, and refusing what cannot be read, with clear messages."""
import zipfile

import numpy as np
import pytest
from ingest_helpers import FIXTURES, SHIPPED, write

from gisdesk.errors import InputRejected
from gisdesk.ingest.readers import check_zip, read_table, read_vector


def rejected(path, **kwargs) -> InputRejected:
    with pytest.raises(InputRejected) as err:
        read_vector(path, **kwargs)
    return err.value


def test_geojson_is_read_in_wgs84():
    gdf = read_vector(SHIPPED)
    assert len(gdf) == 50 and gdf.crs.to_epsg() == 4326
    assert list(gdf.index) == list(range(50))


@pytest.mark.parametrize("epsg", [32750, 4755, 23890])
def test_files_in_indonesian_crs_are_reprojected(kelurahan, tmp_path, epsg):
    path = write(kelurahan.to_crs(epsg), tmp_path / f"kel_{epsg}.gpkg")
    gdf = read_vector(path)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.attrs["source_crs"] == f"EPSG:{epsg}"
    # DGN95 and ID74 differ from WGS 84 by metres at most, never by degrees
    assert np.allclose(gdf.total_bounds, kelurahan.total_bounds, atol=1e-3)


def test_geopackage_with_several_layers_asks_for_one(kelurahan, tmp_path):
    path = tmp_path / "two.gpkg"
    write(kelurahan, path, layer="kelurahan")
    write(kelurahan.head(3), path, layer="sample", append=False)
    error = rejected(path)
    assert "punya beberapa layer" in error.message
    assert "kelurahan" in error.message and "sample" in error.message
    assert len(read_vector(path, layer="sample")) == 3


def test_unknown_geopackage_layer_is_refused_listing_the_layers(kelurahan, tmp_path):
    path = write(kelurahan, tmp_path / "one.gpkg", layer="kelurahan")
    error = rejected(path, layer="desa")
    assert "tidak punya layer 'desa'" in error.message and "kelurahan" in error.message


def test_shapefile_in_a_subfolder_of_a_zip_is_read(kelurahan, tmp_path):
    write(kelurahan[["kode", "nama", "geometry"]].to_crs(32750), tmp_path / "kel.shp")
    archive = tmp_path / "kel.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in tmp_path.glob("kel.*"):
            if part.suffix != ".zip":
                zf.write(part, f"BATAS_KELURAHAN/{part.name}")
    gdf = read_vector(archive)
    assert len(gdf) == 50 and gdf.crs.to_epsg() == 4326


def test_shapefile_missing_its_shx_is_refused(kelurahan, tmp_path):
    path = write(kelurahan[["kode", "geometry"]], tmp_path / "kel.shp")
    (tmp_path / "kel.shx").unlink()
    assert ".shx tidak ada" in rejected(path).message


def test_shapefile_without_prj_in_metres_asks_for_src_crs(kelurahan, tmp_path):
    path = write(kelurahan[["kode", "geometry"]].to_crs(32750), tmp_path / "kel.shp")
    (tmp_path / "kel.prj").unlink()
    error = rejected(path)
    assert "--src-crs" in error.message and "EPSG:32750" in error.message
    assert len(read_vector(path, src_crs="EPSG:32750")) == 50


def test_projected_crs_on_degree_values_is_refused(kelurahan, tmp_path):
    path = write(kelurahan[["kode", "geometry"]].set_crs(32750, allow_override=True),
                 tmp_path / "wrong.gpkg")
    assert "tampak seperti derajat" in rejected(path).message


def test_zip_with_path_traversal_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/kel.shp", b"x")
    error = rejected(archive)
    assert "jalur tidak aman" in error.message and error.problems[0].value == "../../etc/kel.shp"


def test_zip_bomb_is_refused_before_reading(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("kel.shp", b"\0" * (8 * 1024**2))
    assert "bom zip" in rejected(archive).message


def test_zip_over_the_size_limit_is_refused(tmp_path):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("kel.dbf", b"1" * 2048)
    with pytest.raises(InputRejected, match="akan mengembang"):
        check_zip(archive, max_total=1024)


def test_damaged_zip_is_refused(tmp_path):
    archive = tmp_path / "half.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    assert "bukan arsip zip yang bisa dibaca" in rejected(archive).message


def test_truncated_geojson_is_refused_saying_where(tmp_path):
    path = tmp_path / "kel.geojson"
    path.write_text(SHIPPED.read_text()[:5000])
    error = rejected(path)
    assert "terpotong" in error.message and "rusak di baris" in error.message


@pytest.mark.parametrize("content,expected", [
    ("", "kosong"), ('{"type": "FeatureCollection", "features": []}', "tidak berisi fitur"),
    ('{"a": 1}', "bukan GeoJSON")])
def test_empty_or_non_geojson_files_are_refused(tmp_path, content, expected):
    path = tmp_path / "x.geojson"
    path.write_text(content)
    assert expected in rejected(path).message


def test_unknown_extension_is_refused(tmp_path):
    path = tmp_path / "kel.xlsx"
    path.write_bytes(b"PK")
    assert "berjenis tidak dikenal (.xlsx)" in rejected(path).message


def test_missing_file_is_refused(tmp_path):
    assert "tidak ada." in rejected(tmp_path / "nothing.geojson").message


def test_bad_src_crs_is_refused():
    error = rejected(SHIPPED, src_crs="EPSG:99999999")
    assert error.problems[0].field == "src_crs"


def test_csv_with_bom_semicolons_and_decimal_commas_is_read():
    gdf = read_vector(FIXTURES / "tps_kpu_semicolon.csv")
    assert len(gdf) == 5 and "Kode Kelurahan" in gdf.columns
    assert gdf.geometry.iloc[0].x == pytest.approx(116.07389)
    assert gdf.geometry.iloc[0].y == pytest.approx(-8.58159)


def test_csv_with_wkt_is_read():
    gdf = read_vector(FIXTURES / "hdx_adm4.csv")
    assert list(gdf.geom_type) == ["Polygon", "Polygon"]


def test_csv_row_with_unreadable_coordinates_keeps_its_text(tmp_path):
    path = tmp_path / "tps.csv"
    path.write_text("lat,lon,tps\n-8.58,116.07,1\nabc,116.07,2\n")
    gdf = read_vector(path)
    assert gdf.geometry.iloc[1] is None and gdf["lat"].iloc[1] == "abc"


def test_csv_decimal_comma_with_comma_separator_names_the_row(tmp_path):
    path = tmp_path / "tps.csv"
    path.write_text("lat,lon,tps\n-8.58,116.07,1\n-8,58,116,07,2\n")
    error = rejected(path)
    assert error.problems[0].row == 2 and "Koma desimal" in error.message


def test_csv_without_coordinates_lists_the_expected_headers(tmp_path):
    path = tmp_path / "tps.csv"
    path.write_text("tps,dpt\n1,200\n")
    assert "bujur/lintang" in rejected(path).message


def test_csv_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "tps.csv"
    path.write_bytes("lat;lon;alamat\n-8,5;116,1;Jl. Caf\xe9\n".encode("cp1252"))
    assert "CSV UTF-8" in rejected(path).message


def test_csv_header_only_is_refused(tmp_path):
    path = tmp_path / "tps.csv"
    path.write_text("lat;lon\n")
    assert "tidak punya baris" in rejected(path).message


def test_read_table_keeps_cells_as_text():
    frame = read_table(FIXTURES / "tps_kpu_semicolon.csv")
    assert frame["No TPS"].tolist()[0] == "001"


def test_geopackage_inside_a_zip_is_read(kelurahan, tmp_path):
    write(kelurahan, tmp_path / "kel.gpkg")
    archive = tmp_path / "kel.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tmp_path / "kel.gpkg", "data/kel.gpkg")
    assert len(read_vector(archive)) == 50


def test_csv_wkt_column_called_geometry_is_read(kelurahan, tmp_path):
    path = tmp_path / "kel.csv"
    path.write_text("kode,geometry\n52.71.01.1004,\"" + kelurahan.geometry.iloc[0].wkt + "\"\n")
    gdf = read_vector(path)
    assert gdf.geometry.iloc[0].equals(kelurahan.geometry.iloc[0])
    assert "wkt" in gdf.columns
