"""Metric checks between boundary features: UTM zone, areas, overlaps, gaps, dissolve.

Metric work happens in the UTM zone of each feature (Indonesia spans zones 46-54, north
and south of the equator; Mataram is EPSG:32750). Overlaps and gaps are reported, never
edited: real files have both, and the DESIGN rule assigns a point to exactly one kelurahan.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from gisdesk.ingest.geometry_repair import polygonal_part

__all__ = ["utm_epsg_for", "utm_zones", "to_metric", "area_km2", "find_overlaps",
           "find_gaps", "dissolve_kecamatan"]


def utm_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone holding (lon, lat): 326NN north, 327NN south."""
    zone = min(max(int((lon + 180.0) // 6.0) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def utm_zones(geoms: np.ndarray) -> np.ndarray:
    """UTM EPSG code per geometry (EPSG:4326), from a point inside each one."""
    points = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(points), shapely.get_y(points)
    return np.array([utm_epsg_for(a, b) for a, b in zip(x, y)], dtype=int)


def to_metric(geoms: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Project each geometry (EPSG:4326) into its own UTM zone."""
    out = np.empty(len(geoms), dtype=object)
    for epsg in np.unique(zones):
        mask = zones == epsg
        out[mask] = gpd.GeoSeries(geoms[mask], crs=4326).to_crs(int(epsg)).values
    return out


def area_km2(geoms: np.ndarray) -> np.ndarray:
    """Area of each geometry in km², measured in its UTM zone."""
    geoms = np.asarray(geoms, dtype=object)
    return shapely.area(to_metric(geoms, utm_zones(geoms))) / 1e6


def find_overlaps(gdf: gpd.GeoDataFrame, *, min_area_m2: float = 1.0,
                  label: str = "kode") -> pd.DataFrame:
    """Pairs of features whose interiors overlap by more than ``min_area_m2``.

    Columns: ``row_a``, ``row_b`` (1-based feature numbers), ``kode_a``, ``kode_b`` (from
    column ``label``), ``area_m2``; largest first.
    """
    columns = ["row_a", "row_b", "kode_a", "kode_b", "area_m2"]
    geoms = gdf.geometry.values
    if len(geoms) < 2:
        return pd.DataFrame(columns=columns)
    zones = utm_zones(geoms)
    metric = to_metric(np.asarray(geoms, dtype=object), zones)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    other = metric[right].copy()
    cross = zones[left] != zones[right]
    for k in np.flatnonzero(cross):  # rare: neighbours on either side of a zone border
        other[k] = gpd.GeoSeries([geoms[right[k]]], crs=4326).to_crs(
            int(zones[left[k]])).values[0]
    areas = shapely.area(shapely.intersection(metric[left], other))
    big = areas > min_area_m2
    codes = gdf[label].to_numpy() if label in gdf else np.arange(1, len(gdf) + 1)
    frame = pd.DataFrame({"row_a": left[big] + 1, "row_b": right[big] + 1,
                          "kode_a": codes[left[big]], "kode_b": codes[right[big]],
                          "area_m2": areas[big]})
    return frame.sort_values("area_m2", ascending=False, ignore_index=True)


def find_gaps(gdf: gpd.GeoDataFrame, *, min_area_m2: float = 1.0) -> gpd.GeoDataFrame:
    """Holes inside the union of the features (slivers between neighbours), EPSG:4326,
    with ``area_m2``; largest first. Holes that are real enclaves are listed too: the
    operator judges."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    holes, areas = [], []
    zones = utm_zones(geoms)
    for epsg in np.unique(zones):
        metric = to_metric(geoms[zones == epsg], zones[zones == epsg])
        union = shapely.union_all(metric)
        for poly in getattr(union, "geoms", [union]):
            if not isinstance(poly, Polygon):
                continue
            for ring in poly.interiors:
                hole = Polygon(ring)
                if hole.area > min_area_m2:
                    holes.append(gpd.GeoSeries([hole], crs=int(epsg)).to_crs(4326).values[0])
                    areas.append(hole.area)
    frame = gpd.GeoDataFrame({"area_m2": areas}, geometry=holes, crs=4326)
    return frame.sort_values("area_m2", ascending=False, ignore_index=True)


def dissolve_kecamatan(kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Kecamatan polygons from kelurahan ones, grouped by ``kecamatan_kode``.

    Columns: ``kode``, ``nama`` (the most frequent ``kecamatan_nama`` of the group),
    ``kabkota_nama`` when known, ``kelurahan_count``, ``area_km2``, MultiPolygon geometry.
    Gaps between kelurahan stay as holes: dissolving reports them, it does not fill them.
    """
    rows = []
    for kode, group in kelurahan.groupby("kecamatan_kode", sort=True):
        names = group.get("kecamatan_nama", pd.Series(dtype=object)).dropna()
        kabkota = group.get("kabkota_nama", pd.Series(dtype=object)).dropna()
        geom = polygonal_part(shapely.union_all(group.geometry.values))
        rows.append({"kode": kode,
                     "nama": names.mode().iloc[0] if len(names) else None,
                     "kabkota_nama": kabkota.mode().iloc[0] if len(kabkota) else None,
                     "kelurahan_count": len(group), "geometry": geom})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326) if rows else \
        gpd.GeoDataFrame({"kode": [], "nama": [], "kabkota_nama": [], "kelurahan_count": []},
                         geometry=gpd.GeoSeries([], crs=4326))
    frame["area_km2"] = area_km2(frame.geometry.values) if len(frame) else []
    return frame
