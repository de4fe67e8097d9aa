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

def geojson_chunks(layer, rows: Rows) -> Iterator[bytes]:
    """A FeatureCollection written one feature at a time (constant memory)."""
    key = layer.properties[0].name
    yield (f'{{"type": "FeatureCollection", "name": {json.dumps(layer.id)}, '
           '"features": [\n').encode()
    for i, (props, geometry) in enumerate(rows):
        feature = {"type": "Feature", "id": props.get(key), "geometry": geometry,
                   "properties": _localise(layer, props)}
        yield (",\n" if i else "").encode() + json.dumps(feature, ensure_ascii=False).encode()
    yield b"\n]}\n"


# --- CSV ----------------------------------------------------------------------------------

def _cell(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == "array":
        return "; ".join(str(v) for v in value)
    if kind == "boolean":
        return "true" if value else "false"
    text = str(value)
    if kind == "string" and text.startswith(CSV_FORMULA_START):
        return "'" + text  # Excel would run it as a formula
    return text


def position(geometry: dict | None) -> tuple[str, str, str]:
    """lon, lat (a point-on-surface for areas) and WKT of a GeoJSON geometry."""
    if not geometry:
        return "", "", ""
    import shapely
    from shapely.geometry import shape

    geom = shape(geometry)
    point = geom if geom.geom_type == "Point" else geom.point_on_surface()
    return (f"{point.x:.6f}", f"{point.y:.6f}",
            shapely.to_wkt(geom, rounding_precision=6, trim=True))


def csv_chunks(layer, rows: Rows) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel), one row per feature; codes stay text (dots kept)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([p.name for p in layer.properties] + ["lon", "lat", "wkt"])
    yield "\ufeff".encode() + buf.getvalue().encode()
    for props, geometry in rows:
        buf.seek(0)
        buf.truncate()
        _localise(layer, props)
        writer.writerow([_cell(p.type, props.get(p.name)) for p in layer.properties]
                        + list(position(geometry)))
        yield buf.getvalue().encode()


# --- GeoPackage -----------------------------------------------------------------------------

def _frame(layer, rows: list[tuple[dict, dict | None]]):
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import shape

    dtypes = {"string": "object", "array": "object", "integer": "Int64",
              "number": "float64", "boolean": "boolean"}
    columns = {}
    for p in layer.properties:
        values = [props.get(p.name) for props, _ in rows]
        if p.type == "datetime":  # a GeoPackage DATETIME is UTC by its specification
            # ISO8601: rows differ in precision (an API report has no fraction of a second)
            columns[p.name] = pd.Series(pd.to_datetime(values, utc=True, format="ISO8601"),
                                        dtype="datetime64[ms, UTC]")
        elif p.type == "array":
            columns[p.name] = pd.Series(
                [None if v is None else json.dumps(v, ensure_ascii=False) for v in values],
                dtype="object")
        else:
            columns[p.name] = pd.Series(values, dtype=dtypes[p.type])
    geometry = [shape(g) if g else None for _, g in rows]
    return gpd.GeoDataFrame(columns, geometry=geometry, crs="EPSG:4326")


def gpkg_write(path: Path, layer, rows: Rows) -> int:
    """Add ``layer`` to the GeoPackage at ``path`` (created if missing), in chunks."""
    import pyogrio

    rows = iter(rows)
    count, first = 0, True
    while True:
        chunk = list(islice(rows, GPKG_CHUNK))
        if not chunk and not first:
            break
        frame = _frame(layer, chunk)
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
}
