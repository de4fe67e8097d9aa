"""Exports of layers ("export what I see"): one selection, several formats, each audited.

Flask-free: the web download (/export/<layer>.<fmt>), the OGC API's ``f=csv`` and
``gisdesk export`` all parse their filters and write their files here.

Who may export: a role that may see the layer (its ``permission``) and holds its
``export_permission`` (planner and up by default). A layer the role may not see is reported
as absent, never as forbidden (the quick count stays invisible).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from sqlalchemy import Connection, text

from gisdesk import audit
from gisdesk.layers import cql as cql_mod, crs as crs_mod, sources as layer_sources
from gisdesk.errors import InputRejected
from gisdesk.layers.writers import RENDERERS, csvt, prj
from gisdesk.roles import allowed

LOGGER = logging.getLogger(__name__)
CRS84 = crs_mod.CRS84
# query parameters that are not property filters (OGC API Features Parts 1-3 + ours)
RESERVED = ("f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "filter",
            "filter-lang", "filter-crs", "sortby", "properties")
OPEN = ("", "..")


@dataclass(frozen=True)
class Selection:
    """What is selected from a layer (bbox, property filters, CQL2 filter, time window) and
    how it comes out (CRS, the properties kept, the order)."""

    bbox: tuple[float, ...] | None = None
    filters: dict = field(default_factory=dict)
    since: dt.datetime | None = None
    until: dt.datetime | None = None           # exclusive
    bbox_crs: crs_mod.Crs = crs_mod.DEFAULT
    cql: tuple[str, dict] | None = None        # compiled by gisdesk.layers.cql
    cql_text: str | None = None                # as the user wrote it (for the audit log)
    crs: crs_mod.Crs = crs_mod.DEFAULT
    properties: tuple[str, ...] = ()           # empty: all declared properties
    sort: tuple[tuple[str, bool], ...] = ()    # (name, descending)

    def query(self) -> dict:
        """Which rows (also what counts take)."""
        return {"bbox": self.bbox, "filters": self.filters, "since": self.since,
                "until": self.until, "cql": self.cql, "bbox_srid": self.bbox_crs.srid}

    def output(self) -> dict:
        return {"crs": self.crs, "properties": self.properties, "sort": self.sort}

    def for_files(self) -> "Selection":
        """Files keep x/y (lon/lat) order whatever the CRS: GDAL and QGIS read them so."""
        return dataclasses.replace(self, crs=dataclasses.replace(self.crs, lat_first=False))

    def describe(self) -> dict:
        """JSON-able, for the audit log."""
        return {"bbox": list(self.bbox) if self.bbox else None, "filters": self.filters,
                "since": self.since and self.since.isoformat(),
                "until": self.until and self.until.isoformat(),
                **({"filter": self.cql_text} if self.cql_text else {}),
                **({"crs": self.crs.epsg} if self.crs != crs_mod.DEFAULT else {})}


def may_export(role: str | None, layer) -> bool:
    return allowed(role, layer.permission) and allowed(role, layer.export_permission)


def format_for(path: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name's extension says."""
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    fmt = {"json": "geojson"}.get(fmt, fmt)
    if fmt not in RENDERERS:
        raise InputRejected(f"Format '{fmt or '?'}' tidak dikenal; pilih salah satu: "
                            f"{', '.join(RENDERERS)}", field="format")
    return fmt


# --- parsing what a user selected -------------------------------------------------------------

def _clean(raw: str, name: str) -> str:
    if "\x00" in raw:
        raise InputRejected(f"Parameter '{name}' berisi karakter tidak sah", field=name)
    return raw.strip()


def parse_bbox(raw: str, bbox_crs: crs_mod.Crs = crs_mod.DEFAULT) -> tuple[float, ...]:
    """A bbox of 4 or 6 numbers (Part 1 allows minz/maxz, which are ignored) in
    ``bbox_crs``'s axis order, returned as west, south, east, north (x/y order)."""
    parts = _clean(raw, "bbox").split(",")
    try:
        values = [float(v) for v in parts]
    except ValueError:
        values = []
    if len(values) not in (4, 6) or any(v != v or v in (float("inf"), float("-inf"))
                                        for v in values):
        raise InputRejected("bbox harus 4 angka 'barat,selatan,timur,utara' (atau 6 dengan "
                            f"ketinggian; lon/lat derajat bila tanpa bbox-crs); diterima: "
                            f"{raw[:80]!r}", field="bbox")
    if len(values) == 6:
        values = values[:2] + values[3:5]
    west, south, east, north = crs_mod.to_lonlat_order(bbox_crs, values)
    if bbox_crs.geographic and not (-180 <= west <= east <= 180 and -90 <= south <= north
                                    <= 90):
        raise InputRejected("bbox di luar rentang: perlu -180 <= barat <= timur <= 180 dan "
                            "-90 <= selatan <= utara <= 90", field="bbox")
    if not (west <= east and south <= north):
        raise InputRejected("bbox: barat harus <= timur dan selatan <= utara", field="bbox")
    crs_mod.check_xy(bbox_crs, [west, east, west, east], [south, south, north, north], "bbox")
    return west, south, east, north


def _instant(raw: str) -> tuple[dt.datetime, bool]:
    """A time, and whether it was a bare date (then it stands for the whole day)."""
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc), True
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        when.astimezone(dt.timezone.utc)  # out-of-range offsets fail here, not in SQL
    except (ValueError, OverflowError):
        raise InputRejected(f"datetime tidak sah: {raw[:60]!r}; pakai RFC 3339, mis. "
                            "2024-02-14T08:00:00+08:00, atau interval 'a/b', '../b', 'a/..'",
                            field="datetime") from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)), False


def parse_datetime(raw: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """OGC ``datetime``: an instant or a closed interval ('..' or '' for an open end) as
    [since, until) bounds."""
    raw = _clean(raw, "datetime")
    parts = raw.split("/")
    if len(parts) > 2 or parts == [""] or parts == ["", ""] or (
            len(parts) == 2 and parts[0] in OPEN and parts[1] in OPEN):
        raise InputRejected("datetime perlu waktu, atau interval 'a/b', '../b', 'a/..'",
                            field="datetime")
    tick = dt.timedelta(microseconds=1)
    if len(parts) == 1:
        when, day = _instant(parts[0])
        return when, when + (dt.timedelta(days=1) if day else tick)
    since = None if parts[0] in OPEN else _instant(parts[0])[0]
    until = None
    if parts[1] not in OPEN:
        end, day = _instant(parts[1])
        until = end + (dt.timedelta(days=1) if day else tick)   # closed at the end
    if since and until and since >= until:
        raise InputRejected("datetime: awal interval sesudah akhirnya", field="datetime")
    return since, until


def _filter_value(prop, raw: str):
    raw = _clean(raw, prop.name)
    if prop.type == "integer":
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not -2**31 <= value < 2**31:
            raise InputRejected(f"'{prop.name}' harus bilangan bulat", field=prop.name)
    elif prop.type == "number":
        try:
            float(raw)
        except ValueError:
            raise InputRejected(f"'{prop.name}' harus angka", field=prop.name) from None
    return raw


def parse_selection(layer, args: Mapping[str, list[str]], *,
                    reserved=RESERVED) -> Selection:
    """A Selection from query arguments (name -> values). Anything that is neither a
    reserved parameter nor a declared property of ``layer`` is refused, naming it."""
    declared = {p.name: p for p in layer.properties}
    filters: dict = {}
    for name, values in args.items():
        if name in reserved:
            continue
        prop = declared.get(name)
        if prop is None:
            raise InputRejected(
                f"Parameter '{name}' tidak dikenal untuk '{layer.id}'. Yang dikenal: "
                f"{', '.join(reserved)}, dan atribut: {', '.join(declared)}", field=name)
        parsed = [_filter_value(prop, v) for v in values]
        filters[name] = parsed[0] if len(parsed) == 1 else parsed
    first = lambda name: args[name][0] if args.get(name) else None  # noqa: E731
    bbox_crs = crs_mod.parse(first("bbox-crs"), "bbox-crs")
    bbox = parse_bbox(first("bbox"), bbox_crs) if first("bbox") else None
    since = until = None
    if first("datetime"):
        since, until = parse_datetime(first("datetime"))
        # Part 1: the time filter applies "if the collection includes temporal information";
        # a layer without a time property is not filtered by it (the value is still checked)
        if not layer.time_field:
            since = until = None
    cql, filter_crs = None, crs_mod.parse(first("filter-crs"), "filter-crs")
    if first("filter"):
        cql = cql_mod.compile_filter(layer, first("filter"), first("filter-lang"), filter_crs)
    return Selection(bbox=bbox, filters=filters, since=since, until=until, bbox_crs=bbox_crs,
                     cql=cql, cql_text=first("filter"),
                     crs=crs_mod.parse(first("crs"), "crs"),
                     properties=_properties(layer, first("properties")),
                     sort=_sortby(layer, first("sortby")))


def _properties(layer, raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in _clean(raw, "properties").split(",")
                                if n.strip()))
    unknown = [n for n in names if layer.property(n) is None]
    if unknown:
        raise InputRejected(f"properties: '{unknown[0][:60]}' bukan atribut '{layer.id}'. "
                            f"Yang ada: {', '.join(p.name for p in layer.properties)}",
                            field="properties")
    return names


def _sortby(layer, raw: str | None) -> tuple[tuple[str, bool], ...]:
    """``sortby=kelas,-dpt`` ('+' or nothing: rising, '-': falling) on declared properties
    of a sortable type (lists are not)."""
    if raw is None:
        return ()
    out = []
    for part in _clean(raw, "sortby").split(","):
        part = part.strip()
        desc = part.startswith("-")
        name = part.lstrip("+-").strip()
        prop = layer.property(name)
        if prop is None or prop.type == "array":
            raise InputRejected(f"sortby: '{name[:60]}' tidak bisa dipakai untuk mengurutkan "
                                f"'{layer.id}'", field="sortby")
        out.append((name, desc))
    return tuple(out)


def check_kecamatan(conn: Connection, layer, kode: str) -> dict:
    """The filter for one kecamatan (``--kecamatan``), refused when it does not exist."""
    if layer.property("kecamatan_kode") is None:
        raise InputRejected(f"Lapisan '{layer.id}' tidak punya kecamatan_kode",
                            field="kecamatan")
    if conn.execute(text("SELECT 1 FROM kecamatan WHERE kode = :k"), {"k": kode}).first() \
            is None:
        raise InputRejected(f"Kecamatan '{kode}' tidak ada (pakai kode, mis. 52.71.01)",
                            field="kecamatan")
    return {"kecamatan_kode": kode}


# --- running an export -------------------------------------------------------------------------

def record(conn: Connection, actor: str, layer, fmt: str, selection: Selection, count: int,
           via: str, **extra) -> None:
    audit.record(conn, actor, f"export.{layer.id}", layer.id,
                 {"format": fmt, **selection.describe(), "count": count, "via": via, **extra})


def rows(conn: Connection, layer, selection: Selection, *, election_id, limit=None, offset=0):
    return layer_sources.features(conn, layer, election_id=election_id, limit=limit,
                                  offset=offset, **selection.query(), **selection.output())


def count(conn: Connection, layer, selection: Selection, *, election_id) -> int:
    return layer_sources.count(conn, layer, election_id=election_id, **selection.query())


def stream(conn: Connection, layer, fmt: str, selection: Selection, *, election_id,
           limit=None, offset=0) -> Iterator[bytes]:
    """The bytes of a streamable format (geojson, csv); checked before the first byte."""
    renderer = RENDERERS[fmt]
    if renderer.stream is None:
        raise InputRejected(f"Format '{fmt}' ditulis ke berkas, tidak dialirkan", field="f")
    selection = selection.for_files()
    return renderer.stream(layer, rows(conn, layer, selection, election_id=election_id,
                                       limit=limit, offset=offset), selection)


def write_file(engine, layers: list, path: Path, fmt: str, selection: Selection, *,
               election_id, actor: str, via: str,
               per_layer: dict[str, Selection] | None = None) -> dict[str, int]:
    """Write ``layers`` to ``path`` (all or nothing: a temporary file renamed at the end)
    and audit each; returns the feature count per layer. ``per_layer`` overrides the
    selection of some layers (each has its own properties to filter on)."""
    renderer = RENDERERS[fmt]
    if renderer.write is None and len(layers) != 1:
        raise InputRejected(f"Format '{fmt}' memuat satu lapisan per berkas; pakai gpkg "
                            "untuk beberapa lapisan", field="format")
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(suffix=f".{renderer.extension}", dir=path.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    counts: dict[str, int] = {}
    try:
        if renderer.write is not None:
            tmp.unlink()  # GDAL creates the file itself
        with engine.connect() as conn:
            for layer in layers:
                sel = (per_layer or {}).get(layer.id, selection).for_files()
                data = rows(conn, layer, sel, election_id=election_id)
                if renderer.write is not None:
                    counts[layer.id] = renderer.write(tmp, layer, data, sel)
                else:
                    counted = _Counted(data)
                    with open(tmp, "wb") as fh:
                        for chunk in renderer.stream(layer, counted, sel):
                            fh.write(chunk)
                    counts[layer.id] = counted.n
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if fmt == "csv":  # sidecars GDAL and QGIS read: column types and the CRS
        path.with_suffix(".csvt").write_text(csvt(layers[0], selection), encoding="utf-8")
        path.with_suffix(".prj").write_text(prj(selection), encoding="utf-8")
    with engine.begin() as conn:
        for layer in layers:
            sel = (per_layer or {}).get(layer.id, selection)
            record(conn, actor, layer, fmt, sel, counts[layer.id], via, file=path.name)
    return counts


class _Counted:
    """Counts the rows that pass through (the audit says how many were written)."""

    def __init__(self, rows):
        self.rows, self.n = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.n += 1
            yield row
