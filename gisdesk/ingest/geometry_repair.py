"""Polygon checks and repairs for boundary files: type, emptiness, validity, multi-part.

Repairs follow the DESIGN rule "repair and record": invalid rings go through
``shapely.make_valid`` and keep only their polygonal parts; a Polygon becomes a
MultiPolygon. What cannot be repaired is an error for that row.
"""
from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gisdesk.errors import Problem
from gisdesk.indonesian import angka

__all__ = ["polygonal_part", "repair_polygons"]

_POLYGONAL = ("Polygon", "MultiPolygon")


def polygonal_part(geom: BaseGeometry) -> MultiPolygon | None:
    """The polygons inside ``geom`` as one MultiPolygon (None when there are none)."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    polys: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        sub = polygonal_part(part)
        if sub is not None:
            polys.extend(sub.geoms)
    return MultiPolygon(polys) if polys else None


def _type_reason(gtype: str) -> str:
    kind = {"Point": "sebuah titik", "MultiPoint": "titik-titik", "LineString": "sebuah garis",
            "MultiLineString": "garis-garis", "LinearRing": "sebuah garis"}.get(gtype, gtype)
    return (f"geometrinya {kind}; berkas batas wilayah perlu poligon (area kelurahan/"
            "kecamatan)")


def repair_polygons(geoms: np.ndarray, rows: np.ndarray, *, field: str = "geometry"
                    ) -> tuple[np.ndarray, list[Problem]]:
    """Return MultiPolygons (None for rejected rows) and the problems found.

    Errors: missing/empty geometry, points or lines, invalid geometry without polygonal
    remains. Fixed: invalid geometry repaired with make_valid (one problem per row);
    Z values dropped and Polygon -> MultiPolygon (one summary problem each).
    """
    out = np.full(len(geoms), None, dtype=object)
    problems: list[Problem] = []
    singles = 0
    has_z = shapely.has_z(geoms)
    if has_z.any():
        geoms = shapely.force_2d(geoms)
        problems.append(Problem(None, field, f"{angka(int(has_z.sum()))} fitur punya nilai Z "
                                "(ketinggian); nilai itu dibuang", severity="fixed"))
    gtypes = shapely.get_type_id(geoms)
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                      "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)
    for i, (geom, row) in enumerate(zip(geoms, rows)):
        row = int(row)
        if geom is None or geom.is_empty:
            problems.append(Problem(row, field, "geometri kosong"))
            continue
        gtype = names[gtypes[i]]
        if gtype not in _POLYGONAL and gtype != "GeometryCollection":
            problems.append(Problem(row, field, _type_reason(gtype), value=gtype))
            continue
        if geom.is_valid:
            part = polygonal_part(geom)
            if part is None:
                problems.append(Problem(row, field, _type_reason(gtype), value=gtype))
                continue
            singles += gtype == "Polygon"
            out[i] = part
            continue
        reason = shapely.is_valid_reason(geom)
        repaired = polygonal_part(shapely.make_valid(geom))
        # A ring collapsed to a line or a spike leaves no area: nothing left to keep.
        if repaired is None or repaired.area <= 0:
            problems.append(Problem(row, field, f"geometri tidak sah yang tidak bisa diperbaiki "
                                    f"({reason})", value=reason))
            continue
        out[i] = repaired
        problems.append(Problem(row, field, f"geometri tidak sah sudah diperbaiki ({reason})",
                                severity="fixed", value=reason))
    if singles:
        problems.append(Problem(None, field, f"{angka(singles)} fitur Polygon disimpan sebagai "
                                "MultiPolygon", severity="fixed"))
    return out, problems
