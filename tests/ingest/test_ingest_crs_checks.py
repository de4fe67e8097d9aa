"""Coordinate checks: projected values without CRS, swapped axes, flipped latitude."""
import numpy as np
import pytest
import shapely

from gisdesk.errors import InputRejected
from gisdesk.ingest.crs_checks import (INDONESIA_BBOX, ExpectedArea, classify_points,
                                       fix_or_report_axes, reject_projected_without_crs)
from gisdesk.ingest.topology import utm_epsg_for


def test_points_are_classified_against_indonesia():
    x = np.array([116.07, -8.58, 116.07, 500.0, 10.0, np.nan])
    y = np.array([-8.58, 116.07, 8.58, -8.58, 50.0, 1.0])
    assert list(classify_points(x, y, INDONESIA_BBOX)) == [
        "ok", "swapped", "sign_flipped", "out_of_range", "outside", "missing"]


def test_utm_metres_without_crs_are_refused_with_a_src_crs_hint():
    with pytest.raises(InputRejected) as err:
        reject_projected_without_crs((397_592, 9_046_312, 408_660, 9_054_577))
    assert "--src-crs" in err.value.message
    assert "belahan selatan" in err.value.message and "EPSG:32750" in err.value.message


def test_degrees_pass_the_projected_check():
    reject_projected_without_crs((116.0, -8.7, 116.2, -8.5))


def test_a_whole_file_swapped_is_fixed_and_reported():
    geoms = shapely.points([[-8.58, 116.07], [-8.60, 116.10]])
    fixed, problems = fix_or_report_axes(geoms, np.array([1, 2]), ExpectedArea())
    assert shapely.get_x(fixed).tolist() == [116.07, 116.10]
    assert [p.severity for p in problems] == ["fixed"]
    assert "tertukar" in problems[0].reason


def test_one_swapped_row_is_an_error_naming_the_row():
    geoms = shapely.points([[116.07, -8.58], [-8.60, 116.10], [116.1, -8.6]])
    fixed, problems = fix_or_report_axes(geoms, np.array([1, 2, 3]), ExpectedArea())
    assert [(p.row, p.severity) for p in problems] == [(2, "error")]
    assert "tertukar" in problems[0].reason
    assert shapely.get_x(fixed[1]) == -8.60  # nothing changed


def test_all_rows_sign_flipped_are_fixed_together():
    geoms = shapely.points([[116.07, 8.58], [116.10, 8.60]])
    fixed, problems = fix_or_report_axes(geoms, np.array([1, 2]), ExpectedArea())
    assert shapely.get_y(fixed).tolist() == [-8.58, -8.60]
    assert problems[0].severity == "fixed" and "tanda lintang terbalik" in problems[0].reason


@pytest.mark.parametrize("lon,lat", [(10.0, 50.0), (250.0, -8.5)])
def test_rows_outside_indonesia_or_out_of_range_are_errors(lon, lat):
    geoms = shapely.points([[116.07, -8.58], [lon, lat]])
    _, problems = fix_or_report_axes(geoms, np.array([1, 2]), ExpectedArea())
    assert problems[0].row == 2 and problems[0].severity == "error"


@pytest.mark.parametrize("lon,lat,epsg", [(116.1, -8.58, 32750), (95.3, 5.5, 32646),
                                          (140.7, -2.5, 32754), (106.8, -6.2, 32748),
                                          (98.67, 3.59, 32647)])
def test_utm_zone_follows_longitude_and_hemisphere(lon, lat, epsg):
    assert utm_epsg_for(lon, lat) == epsg
