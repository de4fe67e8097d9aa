"""TPS and facility point files: columns, coordinates, keys, every bad row named."""
import pandas as pd
import pytest
import shapely
from ingest_helpers import FIXTURES

from gisdesk.errors import InputRejected
from gisdesk.ingest import prepare_points
from gisdesk.ingest.crs_checks import BBox

HEADER = "\ufeffNo;Kode Kelurahan;No TPS;Jumlah DPT;Alamat;Lintang;Bujur\n"
GOOD_ROWS = ["1;52.71.01.1004;001;287;Jl. Saleh Sungkar;-8,58159;116,07389",
             "2;52.71.01.1005;001;240;SDN 2 Ampenan;-8,57125;116,0783",
             "3;52.71.02.1001;001;300;Jl. Pendidikan;-8,60102;116,10279"]


def tps_csv(tmp_path, rows, header=HEADER):
    path = tmp_path / "tps.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def rejected(source, **kwargs) -> InputRejected:
    with pytest.raises(InputRejected) as err:
        prepare_points(source, **kwargs)
    return err.value


def errors(err):
    return [p for p in err.problems if p.severity == "error"]


def test_kpu_csv_with_bom_semicolons_decimal_commas_and_names(mataram_area, known_kelurahan):
    prep = prepare_points(FIXTURES / "tps_kpu_semicolon.csv", area=mataram_area,
                          known_kelurahan=known_kelurahan)
    tps = prep.points
    assert list(tps["kode"]) == ["52.71.01.1004-001", "52.71.01.1004-002",
                                 "52.71.01.1005-001", "52.71.02.1001-001",
                                 "52.71.03.1004-012"]
    assert list(tps["dpt"]) == [287, 265, 240, 300, 199]
    assert tps["nomor"].dtype == "int64" and tps.crs.to_epsg() == 4326
    assert tps.geometry.iloc[0].coords[0] == pytest.approx((116.07389, -8.58159))
    assert prep.columns["nomor"] == "No TPS" and prep.columns["lat"] == "Lintang"
    assert prep.problems == []


def test_one_swapped_row_rejects_the_file_naming_the_row(tmp_path, mataram_area):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;250;Gang Melati;116,0742;-8,5812"]
    error = rejected(tps_csv(tmp_path, rows), area=mataram_area)
    [problem] = errors(error)
    assert (problem.row, problem.field) == (4, "geometry")
    assert "tertukar" in problem.reason and "baris 4" in error.message


def test_whole_file_swapped_is_fixed_and_reported(tmp_path, mataram_area):
    rows = [";".join(r.split(";")[:5] + [r.split(";")[6], r.split(";")[5]]) for r in GOOD_ROWS]
    prep = prepare_points(tps_csv(tmp_path, rows), area=mataram_area)
    assert prep.points.geometry.iloc[0].coords[0] == pytest.approx((116.07389, -8.58159))
    assert [p.severity for p in prep.problems] == ["fixed"]


def test_sign_flipped_row_is_rejected(tmp_path, mataram_area):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;250;Gang Melati;8,5812;116,0742"]
    [problem] = errors(rejected(tps_csv(tmp_path, rows), area=mataram_area))
    assert problem.row == 4 and "tanda lintang salah" in problem.reason
    assert problem.value == "116.074200, 8.581200"


def test_sign_flipped_row_is_caught_with_the_indonesia_default_too(tmp_path):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;250;Gang Melati;8,5812;116,0742"]
    [problem] = errors(rejected(tps_csv(tmp_path, rows)))
    assert problem.row == 4 and "tanda lintang salah" in problem.reason


def test_point_far_outside_the_area_is_rejected_with_the_distance(tmp_path, mataram_area):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;250;Lombok Tengah;-8,70;116,27"]
    [problem] = errors(rejected(tps_csv(tmp_path, rows), area=mataram_area))
    assert problem.row == 4 and "km di luar kelurahan yang dimuat" in problem.reason


def test_point_within_50_m_outside_is_a_warning(tmp_path, mataram_area):
    west = min(shapely.get_coordinates(mataram_area), key=lambda c: c[0])
    x, y = west[0] - 0.0002, west[1]  # about 22 m west of the westernmost vertex
    lat, lon = (f"{v:.7f}".replace(".", ",") for v in (y, x))
    rows = GOOD_ROWS + [f"4;52.71.01.1004;002;250;Pantai;{lat};{lon}"]
    prep = prepare_points(tps_csv(tmp_path, rows), area=mataram_area)
    [warning] = prep.warnings
    assert warning.row == 4 and "dimasukkan ke kelurahan terdekat" in warning.reason


def test_point_outside_indonesia_without_area_is_rejected(tmp_path):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;250;Darwin;-12,46;130,84"]
    [problem] = errors(rejected(tps_csv(tmp_path, rows)))
    assert problem.row == 4 and "di luar Indonesia" in problem.reason


def test_expected_area_can_be_narrowed_without_polygons(tmp_path):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;250;Bali;-8,65;115,22"]
    lombok = BBox(115.8, -9.0, 116.8, -8.1)
    [problem] = errors(rejected(tps_csv(tmp_path, rows), expected_bbox=lombok))
    assert problem.row == 4 and "di luar" in problem.reason


def test_duplicate_tps_keys_are_rejected_naming_both_rows(tmp_path):
    rows = GOOD_ROWS + ["4;5271011004;1;120;Lagi;-8,5812;116,0742"]
    [problem] = errors(rejected(tps_csv(tmp_path, rows)))
    assert (problem.row, problem.field) == (4, "No TPS")
    assert "52.71.01.1004-001" in problem.reason and "baris 1 dan 4" in problem.reason


def test_every_bad_cell_is_named_with_row_field_and_value(tmp_path):
    rows = GOOD_ROWS + ["4;52.71.01.9999;002;250;X;-8,58;116,07",
                        "5;52.71.01.1004;abc;250;X;-8,58;116,07",
                        "6;52.71.01.1004;003;301;X;-8,58;116,07",
                        "7;52.71.01.1004;004;-2;X;-8,58;116,07",
                        "8;52.71.01.1004;005;100;X;;116,07"]
    found = {(p.row, p.field): p for p in errors(rejected(tps_csv(tmp_path, rows)))}
    assert "empat angka terakhir" in found[(4, "Kode Kelurahan")].reason
    assert found[(5, "No TPS")].value == "abc"
    assert "melebihi batas 300" in found[(6, "Jumlah DPT")].reason
    assert "negatif" in found[(7, "Jumlah DPT")].reason
    assert "tidak ada koordinat yang terbaca" in found[(8, "Bujur")].reason
    assert len(found) == 5


def test_max_dpt_comes_from_the_caller(tmp_path):
    rows = GOOD_ROWS + ["4;52.71.01.1004;002;580;Pilkada;-8,5812;116,0742"]
    assert prepare_points(tps_csv(tmp_path, rows), max_dpt=600).points["dpt"].iloc[3] == 580


def test_unknown_kelurahan_code_is_rejected(tmp_path, known_kelurahan):
    rows = GOOD_ROWS + ["4;52.71.07.1001;002;100;X;-8,5812;116,0742"]
    [problem] = errors(rejected(tps_csv(tmp_path, rows), known_kelurahan=known_kelurahan))
    assert problem.row == 4 and "kode kelurahan 52.71.07.1001 tidak dikenal" in problem.reason


def test_file_without_a_tps_number_column_lists_accepted_headers(tmp_path):
    path = tps_csv(tmp_path, ["52.71.01.1004;100;-8,58;116,07"],
                   header="kode;dpt;lat;lon\n")
    error = rejected(path)
    assert "tidak punya kolom nomor TPS" in error.message and "no_tps" in error.message


def test_kelurahan_by_name_needs_loaded_kelurahan(tmp_path):
    path = tps_csv(tmp_path, ["Ampenan Selatan;Ampenan;1;100;-8,58;116,07"],
                   header="kelurahan;kecamatan;tps;dpt;lat;lon\n")
    assert "belum ada kelurahan yang dimuat" in rejected(path).message


def test_dataframe_row_without_coordinates_is_named():
    frame = pd.DataFrame({"tps": [1], "dpt": [10], "kode": ["5271011004"], "lat": [""],
                          "lon": [""]})
    error = rejected(frame)
    assert error.message.startswith("Data TPS ditolak")
    assert (error.problems[0].row, error.problems[0].value) == (1, None)


def test_dataframe_input_from_the_api():
    frame = pd.DataFrame({"kode_kelurahan": ["52.71.01.1004"], "no_tps": [7],
                          "dpt": [150], "latitude": [-8.58159], "longitude": [116.07389]})
    prep = prepare_points(frame)
    assert prep.points["kode"].iloc[0] == "52.71.01.1004-007"


def test_field_map_reads_unusual_headers(tmp_path):
    path = tps_csv(tmp_path, ["52.71.01.1004;9;100;-8,58159;116,07389"],
                   header="IDDESA;NOTPS;PEMILIH_TETAP;U;T\n")
    prep = prepare_points(path, field_map={"kode": "IDDESA", "nomor": "NOTPS",
                                           "dpt": "PEMILIH_TETAP", "lat": "U", "lon": "T"})
    assert prep.points["kode"].iloc[0] == "52.71.01.1004-009"


def test_facilities_fixture_normalises_kinds(mataram_area):
    prep = prepare_points(FIXTURES / "facilities_desk.geojson", "facility", area=mataram_area)
    points = prep.points
    assert list(points["jenis"]) == ["puskesmas", "polsek", "sekretariat_ppk"]
    assert list(points["kelurahan_kode"]) == ["52.71.01.1004", "52.71.01.1005", None]


def test_unknown_facility_kind_is_rejected(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("jenis,nama,lat,lon\nwarung kopi,Warung,-8.58,116.07\n")
    [problem] = errors(rejected(path, kind="facility"))
    assert (problem.row, problem.field) == (1, "jenis") and "tidak dikenal" in problem.reason


def test_polygons_are_not_points(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('jenis;nama;wkt\npolsek;Polsek Ampenan;POINT (116.07 -8.58)\n'
                    'puskesmas;Puskesmas;"POLYGON ((116.07 -8.58, 116.08 -8.58, 116.08 -8.57, '
                    '116.07 -8.58))"\n')
    [problem] = errors(rejected(path, kind="facility"))
    assert problem.row == 2 and "yang diperlukan titik (lon/lat)" in problem.reason
