"""Builders of test inputs in real field layouts, from the project's own boundary file."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "boundaries" / "mataram_kelurahan.geojson"
FIXTURES = ROOT / "tests" / "fixtures"

KECAMATAN_COUNTS = {"52.71.01": ("Ampenan", 10), "52.71.02": ("Mataram", 9),
                    "52.71.03": ("Cakranegara", 10), "52.71.04": ("Sekarbela", 5),
                    "52.71.05": ("Selaparang", 9), "52.71.06": ("Sandubaya", 7)}


def rbi_frame(kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The kelurahan with BIG RBI field names and undotted codes, as BIG ships them."""
    digits = kelurahan["kode"].str.replace(".", "", regex=False)
    return gpd.GeoDataFrame({
        "NAMOBJ": kelurahan["nama"], "WADMKD": kelurahan["nama"],
        "WADMKC": kelurahan["kecamatan"], "WADMKK": "Kota Mataram",
        "WADMPR": "Nusa Tenggara Barat", "KDEPUM": digits,
        "KDCPUM": digits.str[:6], "KDPKAB": "5271", "KDPPUM": "52",
        "LUASWH": kelurahan["area_km2"]}, geometry=kelurahan.geometry, crs=kelurahan.crs)


def hdx_frame(kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The kelurahan with HDX/OCHA COD-AB fields (p-codes with the ID prefix)."""
    digits = kelurahan["kode"].str.replace(".", "", regex=False)
    return gpd.GeoDataFrame({
        "ADM4_EN": kelurahan["nama"], "ADM4_PCODE": "ID" + digits,
        "ADM3_EN": kelurahan["kecamatan"], "ADM3_PCODE": "ID" + digits.str[:6],
        "ADM2_EN": "Kota Mataram", "ADM2_PCODE": "ID5271"},
        geometry=kelurahan.geometry, crs=kelurahan.crs)


def gadm_frame(kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """GADM level 4: names only (GADM writes some without spaces), no Kemendagri codes."""
    return gpd.GeoDataFrame({
        "GID_4": [f"IDN.22.10.{i}_1" for i in range(len(kelurahan))],
        "NAME_1": "NusaTenggaraBarat", "NAME_2": "KotaMataram",
        "NAME_3": kelurahan["kecamatan"].str.upper(),
        "NAME_4": kelurahan["nama"].str.replace(" ", "", regex=False),
        "TYPE_4": "Kelurahan"}, geometry=kelurahan.geometry, crs=kelurahan.crs)


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    pyogrio.write_dataframe(gdf, path, **kwargs)
    return path
