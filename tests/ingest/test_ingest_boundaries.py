"""Boundary files in every accepted layout: counts, codes, areas, repairs and rejections."""
import zipfile

import geopandas as gpd
import pytest
from ingest_helpers import (FIXTURES, KECAMATAN_COUNTS, SHIPPED, gadm_frame, hdx_frame,
                            rbi_frame, write)
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gisdesk.errors import InputRejected
from gisdesk.ingest import dissolve_kecamatan, prepare_boundaries
from gisdesk.ingest.crs_checks import swap_xy


def rejected(source, **kwargs) -> InputRejected:
    with pytest.raises(InputRejected) as err:
        prepare_boundaries(source, **kwargs)
    return err.value


def errors(err: InputRejected):
    return [p for p in err.problems if p.severity == "error"]


def assert_mataram(prep, source_areas_m2):
    """50 kelurahan with their codes, 6 kecamatan, areas within 0.5% of the source."""
    kel = prep.kelurahan
    assert len(kel) == 50 and kel.crs.to_epsg() == 4326
    assert set(kel["kode"]) == set(source_areas_m2)
    assert set(kel.geom_type) == {"MultiPolygon"}
    for kode, km2 in zip(kel["kode"], kel["area_km2"]):
        assert km2 * 1e6 == pytest.approx(source_areas_m2[kode], rel=0.005), kode
    kec = prep.kecamatan.set_index("kode")
    assert {k: (kec.loc[k, "nama"], kec.loc[k, "kelurahan_count"]) for k in kec.index} \
        == KECAMATAN_COUNTS
    assert kec["area_km2"].sum() == pytest.approx(60.4, abs=0.2)


def test_shipped_plain_file_prepares_fully(source_areas_m2):
    prep = prepare_boundaries(SHIPPED)
    assert prep.scheme == "plain" and prep.level == "kelurahan" and prep.kecamatan_derived
    assert_mataram(prep, source_areas_m2)
    kel = prep.kelurahan.set_index("kode")
    assert kel.loc["52.71.01.1004", "nama"] == "Ampenan Selatan"
    assert kel.loc["52.71.01.1004", "kecamatan_nama"] == "Ampenan"


def test_overlaps_and_gaps_are_reported_as_warnings_not_edited():
    prep = prepare_boundaries(SHIPPED)
    assert len(prep.overlaps) == 60  # 65 pairs touch with positive area, 60 above 1 m²
    assert prep.overlaps["area_m2"].iloc[0] == pytest.approx(3564, abs=5)
    assert len(prep.gaps) == 80 and prep.gaps["area_m2"].iloc[0] == pytest.approx(2973, abs=5)
    reasons = [p.reason for p in prep.warnings]
    assert any(r.startswith("60 pasang kelurahan bertetangga tumpang tindih") for r in reasons)
    assert any(r.startswith("80 celah antara kelurahan bertetangga") for r in reasons)
    assert all(p.severity != "error" for p in prep.problems)


def test_rbi_shapefile_in_utm_50s(kelurahan, source_areas_m2, tmp_path):
    path = write(rbi_frame(kelurahan).to_crs(32750), tmp_path / "ADMINISTRASIDESA_AR_25K.shp")
    prep = prepare_boundaries(path)
    assert prep.scheme == "rbi" and prep.fields["kode"] == "KDEPUM"
    assert prep.source_crs == "EPSG:32750"
    assert_mataram(prep, source_areas_m2)
    assert set(prep.kelurahan["kabkota_nama"]) == {"Kota Mataram"}


def test_zipped_rbi_shapefile(kelurahan, source_areas_m2, tmp_path):
    write(rbi_frame(kelurahan).to_crs(32750), tmp_path / "desa.shp")
    archive = tmp_path / "desa.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in tmp_path.glob("desa.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    assert_mataram(prepare_boundaries(archive), source_areas_m2)


def test_hdx_geopackage_with_id_prefixed_pcodes(kelurahan, source_areas_m2, tmp_path):
    path = write(hdx_frame(kelurahan), tmp_path / "idn_admbnda_adm4.gpkg", layer="adm4")
    prep = prepare_boundaries(path)
    assert prep.scheme == "hdx"
    assert_mataram(prep, source_areas_m2)


@pytest.mark.parametrize("epsg", [4755, 23890])
def test_files_in_dgn95_and_id74(kelurahan, source_areas_m2, tmp_path, epsg):
    path = write(rbi_frame(kelurahan).to_crs(epsg), tmp_path / f"desa_{epsg}.gpkg")
    assert_mataram(prepare_boundaries(path), source_areas_m2)


def test_gadm_names_are_matched_to_loaded_codes(kelurahan, known_kelurahan,
                                                source_areas_m2, tmp_path):
    path = write(gadm_frame(kelurahan), tmp_path / "gadm41_IDN_4.gpkg")
    prep = prepare_boundaries(path, known_kelurahan=known_kelurahan)
    assert prep.scheme == "gadm"
    assert_mataram(prep, source_areas_m2)
    # "AmpenanSelatan" (no space) found its code and takes the loaded name
    kel = prep.kelurahan.set_index("kode")
    assert kel.loc["52.71.01.1004", "nama"] == "Ampenan Selatan"


def test_gadm_without_loaded_kelurahan_says_what_to_do(kelurahan, tmp_path):
    path = write(gadm_frame(kelurahan), tmp_path / "gadm.gpkg")
    error = rejected(path)
    assert "tidak punya kode Kemendagri" in error.message and "--code-field" in error.message


def test_unmatched_gadm_name_is_rejected_naming_row_and_field(kelurahan, known_kelurahan,
                                                              tmp_path):
    frame = gadm_frame(kelurahan)
    frame.loc[4, "NAME_4"] = "Tamansari Lama"
    error = rejected(write(frame, tmp_path / "gadm.gpkg"), known_kelurahan=known_kelurahan)
    [problem] = errors(error)
    assert (problem.row, problem.field) == (5, "NAME_4")
    assert "'Tamansari Lama'" in problem.reason and "--code-field" in problem.reason
    assert "baris 5, kolom NAME_4" in error.message


def test_geoboundaries_fixture_is_matched_by_name_alone(known_kelurahan):
    prep = prepare_boundaries(FIXTURES / "geoboundaries_IDN_ADM4.geojson",
                              known_kelurahan=known_kelurahan)
    assert prep.scheme == "geoboundaries"
    assert list(prep.kelurahan["kode"]) == ["52.71.01.1004", "52.71.01.1005"]


def test_bps_only_pcodes_are_kept_and_matched_by_name(kelurahan, known_kelurahan):
    frame = hdx_frame(kelurahan)
    digits = kelurahan["kode"].str.replace(".", "", regex=False)
    frame["ADM4_PCODE"] = "ID" + digits.str[:6] + "0" + digits.str[-3:]  # BPS numbering
    prep = prepare_boundaries(frame, known_kelurahan=known_kelurahan)
    kel = prep.kelurahan.set_index("kode")
    assert kel.loc["52.71.01.1004", "kode_bps"] == "5271010004"
    assert len(kel) == 50


def test_rbi_fixture_keeps_bps_codes_apart():
    prep = prepare_boundaries(FIXTURES / "rbi_desa_2features.geojson")
    kel = prep.kelurahan
    assert list(kel["kode"]) == ["52.71.01.1004", "52.71.01.1005"]
    assert list(kel["kode_bps"]) == ["5271010004", "5271010005"]
    assert list(prep.kecamatan["kode"]) == ["52.71.01"]


def test_hdx_csv_fixture_with_wkt():
    prep = prepare_boundaries(FIXTURES / "hdx_adm4.csv")
    assert prep.scheme == "hdx"
    assert list(prep.kelurahan["kode"]) == ["52.71.01.1004", "52.71.01.1005"]
    assert list(prep.kelurahan["kabkota_nama"]) == ["Kota Mataram"] * 2


def test_gadm_fixture_matches_with_loaded_kelurahan(known_kelurahan):
    prep = prepare_boundaries(FIXTURES / "gadm41_IDN_4_mataram.geojson",
                              known_kelurahan=known_kelurahan)
    assert list(prep.kelurahan["kode"]) == ["52.71.01.1004", "52.71.01.1005"]


def test_whole_file_swapped_is_fixed_and_reported(kelurahan, source_areas_m2, tmp_path):
    swapped = kelurahan.set_geometry(swap_xy(kelurahan.geometry.values))
    path = tmp_path / "swapped.geojson"
    path.write_text(swapped.to_json())
    prep = prepare_boundaries(path)
    assert_mataram(prep, source_areas_m2)
    [fix] = [p for p in prep.fixed if "tertukar" in p.reason]
    assert fix.row is None and "seluruh berkas sudah dibetulkan" in fix.reason


def test_one_swapped_feature_is_rejected_naming_it(kelurahan, tmp_path):
    frame = kelurahan.copy()
    frame.loc[6, "geometry"] = swap_xy(frame.geometry.values[6:7])[0]
    error = rejected(frame)
    [problem] = errors(error)
    assert problem.row == 7 and problem.field == "geometry" and "tertukar" in problem.reason


def test_duplicate_codes_reject_the_file_naming_both_rows(kelurahan):
    frame = kelurahan.copy()
    frame.loc[8, "kode"] = frame.loc[2, "kode"]  # both in Ampenan
    error = rejected(frame)
    [problem] = errors(error)
    assert (problem.row, problem.field) == (9, "kode")
    assert "baris 3 dan 9" in problem.reason and "52.71.01.1006" in problem.reason
    assert "baris 9, kolom kode" in error.message and "tidak ada yang dimuat" in error.message


def test_parent_code_disagreeing_with_the_kelurahan_code_is_rejected(kelurahan):
    frame = rbi_frame(kelurahan)
    frame.loc[0, "KDCPUM"] = "527102"
    [problem] = errors(rejected(frame))
    assert (problem.row, problem.field) == (1, "KDCPUM")
    assert "termasuk kecamatan 52.71.01" in problem.reason


def test_bad_code_cell_is_rejected_with_its_value(kelurahan):
    frame = rbi_frame(kelurahan)
    frame.loc[9, "KDEPUM"] = "52.71.01.x"
    [problem] = errors(rejected(frame))
    assert (problem.row, problem.field, problem.value) == (10, "KDEPUM", "52.71.01.x")


def test_bow_tie_is_repaired_and_reported(kelurahan):
    frame = kelurahan.head(3).copy()
    minx, miny, maxx, maxy = frame.geometry.iloc[1].bounds
    frame.loc[1, "geometry"] = Polygon([(minx, miny), (maxx, maxy), (maxx, miny),
                                        (minx, maxy), (minx, miny)])
    prep = prepare_boundaries(frame)
    [fix] = [p for p in prep.fixed if p.row == 2]
    assert "sudah diperbaiki" in fix.reason and "Self-intersection" in fix.reason
    geom = prep.kelurahan.geometry.iloc[1]
    assert geom.is_valid and isinstance(geom, MultiPolygon) and len(geom.geoms) == 2


def test_irreparable_and_empty_geometries_are_rejected_per_row(kelurahan):
    frame = kelurahan.head(4).copy()
    x, y = frame.geometry.iloc[0].centroid.coords[0]
    frame.loc[1, "geometry"] = Polygon([(x, y), (x + 0.01, y), (x + 0.02, y), (x, y)])
    frame.loc[2, "geometry"] = Polygon()
    error = rejected(frame)
    found = {(p.row, p.field): p.reason for p in errors(error)}
    assert "tidak bisa diperbaiki" in found[(2, "geometry")]
    assert "geometri kosong" in found[(3, "geometry")]


def test_point_file_is_not_a_boundary_file(kelurahan, tmp_path):
    frame = kelurahan.set_geometry(kelurahan.geometry.representative_point())
    path = write(frame, tmp_path / "titik.geojson")
    error = rejected(path)
    assert "bukan poligon" in error.message and "import tps" in error.message
    assert errors(error)[0].row == 1 and "sebuah titik" in errors(error)[0].reason


def test_line_file_is_not_a_boundary_file(kelurahan, tmp_path):
    frame = kelurahan.set_geometry(kelurahan.geometry.boundary)
    path = write(frame, tmp_path / "garis.gpkg")
    assert "bukan poligon" in rejected(path).message


def test_one_line_among_polygons_is_rejected_naming_it(kelurahan):
    frame = kelurahan.head(3).copy()
    frame.loc[2, "geometry"] = LineString([(116.1, -8.6), (116.11, -8.61)])
    [problem] = errors(rejected(frame))
    assert problem.row == 3 and "sebuah garis" in problem.reason


def test_unknown_layout_asks_for_field_mapping(kelurahan):
    frame = kelurahan.rename(columns={"kode": "IDDESA", "nama": "DESA_NM"})[
        ["IDDESA", "DESA_NM", "geometry"]]
    error = rejected(frame)
    assert "--code-field" in error.message
    prep = prepare_boundaries(frame, code_field="iddesa", name_field="DESA_NM")
    assert len(prep.kelurahan) == 50 and prep.scheme == "mapped"


def test_parent_field_with_names_is_used_for_matching(kelurahan, known_kelurahan):
    frame = gpd.GeoDataFrame({"DESA": kelurahan["nama"], "KEC": kelurahan["kecamatan"]},
                             geometry=kelurahan.geometry)
    prep = prepare_boundaries(frame, name_field="DESA", parent_field="KEC",
                              known_kelurahan=known_kelurahan)
    assert set(prep.kelurahan["kode"]) == set(kelurahan["kode"])


def test_kecamatan_level_file_from_dissolved_polygons(kelurahan):
    dissolved = dissolve_kecamatan(kelurahan.rename(columns={"kecamatan": "kecamatan_nama"}))
    frame = gpd.GeoDataFrame({"KDCPUM": dissolved["kode"].str.replace(".", "", regex=False),
                              "WADMKC": dissolved["nama"], "WADMKK": "Kota Mataram"},
                             geometry=dissolved.geometry, crs=4326)
    prep = prepare_boundaries(frame)
    assert prep.level == "kecamatan" and prep.kelurahan is None
    assert list(prep.kecamatan["kode"]) == sorted(KECAMATAN_COUNTS)
    assert prep.kecamatan["area_km2"].sum() == pytest.approx(60.4, abs=0.2)


def test_level_can_be_forced(kelurahan):
    frame = gpd.GeoDataFrame({"kode": ["52.71.01"], "nama": ["Ampenan"]},
                             geometry=[kelurahan.geometry.iloc[0]], crs=4326)
    assert prepare_boundaries(frame).level == "kecamatan"
    error = rejected(frame, level="kelurahan")
    assert errors(error)[0].field == "kode"


def test_every_problem_is_collected_not_only_the_first(kelurahan):
    frame = kelurahan.copy()
    frame.loc[0, "kode"] = "52.71.01.1005"
    frame.loc[5, "geometry"] = Point(116.1, -8.6)
    frame.loc[7, "nama"] = ""
    rows = sorted(p.row for p in errors(rejected(frame)))
    assert rows == [2, 6, 8]
