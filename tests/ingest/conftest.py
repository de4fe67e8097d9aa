"""Shared inputs for the ingest tests, built from the project's own boundary file.

Everything here reads ``data/boundaries/`` (the project copy), never ../shared, so that a
fresh clone can run the tests.
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from ingest_helpers import SHIPPED


@pytest.fixture(scope="session")
def kelurahan() -> gpd.GeoDataFrame:
    """The shipped kelurahan, read with plain pyogrio (independent of the code under test)."""
    return pyogrio.read_dataframe(SHIPPED)


@pytest.fixture(scope="session")
def source_areas_m2(kelurahan) -> dict[str, float]:
    """Area of each kelurahan in UTM 50S, computed directly with geopandas."""
    areas = kelurahan.to_crs(32750).area
    return dict(zip(kelurahan["kode"], areas))


@pytest.fixture(scope="session")
def known_kelurahan(kelurahan) -> pd.DataFrame:
    """What the caller would pass from the database: kode, nama, kecamatan_nama."""
    return pd.DataFrame({"kode": kelurahan["kode"], "nama": kelurahan["nama"],
                         "kecamatan_nama": kelurahan["kecamatan"]})


@pytest.fixture(scope="session")
def mataram_area(kelurahan):
    """Union of the loaded kelurahan (EPSG:4326), as the caller would pass it."""
    return shapely.union_all(kelurahan.geometry.values)
