"""Export renderers, a plain dict keyed by format: GeoJSON, CSV (streamed) and GeoPackage.

Every renderer takes a layer and its rows, ``(properties, GeoJSON geometry)`` pairs as
``gisdesk.layers.sources.features`` yields them, and writes the layer's declared properties
under their declared names (a stable schema). Times are ISO 8601 with the WITA offset
(+08:00) in GeoJSON and CSV; a GeoPackage stores them in UTC, as its specification requires.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from gisdesk.config import WITA
from gisdesk.layers import crs as crs_mod

Rows = Iterable[tuple[dict, dict | None]]
TZ = ZoneInfo(WITA)
GPKG_CHUNK = 5000           # rows per append: bounded memory whatever the layer's size
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # spreadsheet formula injection


def local_time(value) -> str | None:
    """An ISO 8601 time (as the sources give it, UTC) in WITA with its offset."""
    if value in (None, ""):
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    return when.astimezone(TZ).isoformat()


def _localise(layer, props: dict) -> dict:
    for p in layer.properties:
        if p.type == "datetime":
            props[p.name] = local_time(props.get(p.name))
    return props


# --- GeoJSON (RFC 7946) -------------------------------------------------------------------

def _columns(layer, selection) -> list:
    """The declared properties a file carries: all, or those ``properties`` named."""
    keep = getattr(selection, "properties", ()) or ()
    return [p for p in layer.properties if not keep or p.name in keep]


def _crs(selection):
    return getattr(selection, "crs", None) or crs_mod.DEFAULT


def geojson_chunks(layer, rows: Rows, selection=None) -> Iterator[bytes]:
    """A FeatureCollection written one feature at a time (constant memory). Files keep x/y
    (lon/lat) order; a CRS other than CRS84 is named in a ``crs`` member, as GDAL reads it."""
    key = layer.properties[0].name
    crs = _crs(selection)
    named = "" if crs == crs_mod.DEFAULT else (
        f'"crs": {{"type": "name", "properties": {{"name": '
        f'"urn:ogc:def:crs:EPSG::{crs.srid}"}}}}, ')
    yield (f'{{"type": "FeatureCollection", "name": {json.dumps(layer.id)}, {named}'
           '"features": [\n').encode()
    for i, (props, geometry) in enumerate(rows):
        feature = {"type": "Feature", "id": props.get(key), "geometry": geometry,
                   "properties": _localise(layer, props)}
        yield (",\n" if i else "").encode() + json.dumps(feature, ensure_ascii=False).encode()
    yield b"\n]}\n"


def feature_collection_chunks(layer, rows: Rows, limit: int, head: dict,
                              tail: Callable[[int, bool], dict]) -> Iterator[str]:
    """An OGC API page: up to ``limit`` features of ``rows`` (which may hold one more: then
    there is a next page), with ``head`` members first and ``tail(returned, more)`` members
    after the features, so the page streams without knowing its length in advance. Times
    stay UTC ('Z') here, as the API has always given them."""
    key = layer.properties[0].name
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    returned, more = 0, False
    for props, geometry in rows:
        if returned == limit:
            more = True
            break
        feature = {"type": "Feature", "geometry": geometry, "properties": props}
        if props.get(key) is not None:  # the key may be left out by ``properties``
            feature["id"] = props[key]
        yield ("," if returned else "") + json.dumps(feature, ensure_ascii=False)
        returned += 1
    getattr(rows, "close", lambda: None)()  # stopped early: release the cursor now
    yield "], " + json.dumps(tail(returned, more), ensure_ascii=False)[1:]


# --- CSV ----------------------------------------------------------------------------------

# the .csvt that tells GDAL (and QGIS) each column's type; lists are JSON arrays of text
CSVT = {"string": "String", "integer": "Integer", "number": "Real",
        "boolean": "Integer(Boolean)", "datetime": "DateTime", "array": "JSONStringList"}


def _cell(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == "array":  # one agreed form for lists everywhere: a JSON array of text
        return json.dumps([str(v) for v in value], ensure_ascii=False)
    if kind == "boolean":
        return "true" if value else "false"
    text = str(value)
    if kind == "string" and text.startswith(CSV_FORMULA_START):
        return "'" + text  # Excel would run it as a formula
    return text


def position(geometry: dict | None) -> tuple[str, str, str]:
    """x, y (lon, lat; a point-on-surface for areas) and WKT of a GeoJSON geometry."""
    if not geometry:
        return "", "", ""
    import shapely
    from shapely.geometry import shape

    geom = shape(geometry)
    point = geom if geom.geom_type == "Point" else geom.point_on_surface()
    digits = 6 if abs(point.x) <= 360 and abs(point.y) <= 360 else 2
    return (f"{point.x:.{digits}f}", f"{point.y:.{digits}f}",
            shapely.to_wkt(geom, rounding_precision=digits, trim=True))


def xy_names(selection) -> list[str]:
    return ["lon", "lat"] if _crs(selection).geographic else ["x", "y"]


def csvt(layer, selection=None) -> str:
    """The CSVT line of a CSV export (GDAL's sidecar of column types)."""
    kinds = [CSVT[p.type] for p in _columns(layer, selection)] + ["Real", "Real", "WKT"]
    return ",".join(f'"{k}"' for k in kinds) + "\n"


def prj(selection=None) -> str:
    """The .prj (ESRI WKT) of an export's CRS."""
    import pyproj

    return pyproj.CRS.from_epsg(_crs(selection).srid).to_wkt("WKT1_ESRI") + "\n"


def csv_chunks(layer, rows: Rows, selection=None) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel), one row per feature; codes stay text (dots kept)."""
    columns = _columns(layer, selection)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([p.name for p in columns] + xy_names(selection) + ["wkt"])
    yield "\ufeff".encode() + buf.getvalue().encode()
    for props, geometry in rows:
        buf.seek(0)
        buf.truncate()
        _localise(layer, props)
        writer.writerow([_cell(p.type, props.get(p.name)) for p in columns]
                        + list(position(geometry)))
        yield buf.getvalue().encode()


def csv_zip_write(path: Path, layer, rows: Rows, selection=None) -> int:
    """layer.csv + layer.csvt + layer.prj in one zip (added to ``path``): the CSV opens in
    GDAL/QGIS with its column types and its CRS."""
    import zipfile

    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{layer.id}.csv", "w") as fh:
            for chunk in csv_chunks(layer, counted(), selection):
                fh.write(chunk)
        archive.writestr(f"{layer.id}.csvt", csvt(layer, selection))
        archive.writestr(f"{layer.id}.prj", prj(selection))
    return count


# --- GeoPackage -----------------------------------------------------------------------------

def _frame(layer, rows: list[tuple[dict, dict | None]], selection=None):
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import shape

    dtypes = {"string": "object", "array": "object", "integer": "Int32",
              "number": "float64", "boolean": "boolean"}
    columns = {}
    for p in _columns(layer, selection):
        values = [props.get(p.name) for props, _ in rows]
        if p.type == "datetime":  # a GeoPackage DATETIME is UTC by its specification
            # ISO8601: rows differ in precision (an API report has no fraction of a second)
            columns[p.name] = pd.Series(pd.to_datetime(values, utc=True, format="ISO8601"),
                                        dtype="datetime64[ms, UTC]")
        elif p.type == "array":  # GeoPackage has no list type: the agreed JSON array text
            columns[p.name] = pd.Series(
                [None if v is None else json.dumps([str(x) for x in v], ensure_ascii=False)
                 for v in values], dtype="object")
        else:
            columns[p.name] = pd.Series(values, dtype=dtypes[p.type])
    geometry = [shape(g) if g else None for _, g in rows]
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=f"EPSG:{_crs(selection).srid}")


def gpkg_write(path: Path, layer, rows: Rows, selection=None) -> int:
    """Add ``layer`` to the GeoPackage at ``path`` (created if missing), in chunks."""
    import pyogrio

    rows = iter(rows)
    count, first = 0, True
    while True:
        chunk = list(islice(rows, GPKG_CHUNK))
        if not chunk and not first:
            break
        frame = _frame(layer, chunk, selection)
        pyogrio.write_dataframe(frame, path, layer=layer.id, driver="GPKG",
                                geometry_type=layer.geometry, append=not first,
                                promote_to_multi=layer.geometry.startswith("Multi"))
        count += len(chunk)
        first = False
        if len(chunk) < GPKG_CHUNK:
            break
    return count


# --- the registry -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Renderer:
    media_type: str
    extension: str
    stream: Callable[..., Iterator[bytes]] | None = None   # one layer, streamed
    write: Callable[..., int] | None = None                 # into a file, several layers


RENDERERS: dict[str, Renderer] = {
    "geojson": Renderer("application/geo+json", "geojson", stream=geojson_chunks),
    "csv": Renderer("text/csv; charset=utf-8", "csv", stream=csv_chunks),
    "gpkg": Renderer("application/geopackage+sqlite3", "gpkg", write=gpkg_write),
    "zip": Renderer("application/zip", "zip", write=csv_zip_write),  # CSV + CSVT + PRJ
}
