"""A static map as inline SVG, drawn from the layer declarations (layers/*.toml): the map of
the briefing print. No JavaScript and no tiles, so a browser's print, a PDF library and an
offline file all show the same picture.

Coordinates are projected onto a plane with the scale of the area's middle latitude
(equirectangular): at city and kecamatan size the distortion is far below a printed pixel.
Styles follow map.js (same colours, breaks and labels), layers are drawn in their ``order``.
"""
from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass, field

from shapely.geometry import shape
from sqlalchemy import Connection

from gisdesk.layers.registry import Layer
from gisdesk.layers.sources import features
from gisdesk.maps.labels import VOCABULARIES

WIDTH = 1000.0          # viewBox width; the height follows the area's shape
MARGIN = 0.04           # of the area's extent, each side
SKIPPED_KINDS = {"heat"}  # a heat map means nothing on paper: its points layer says it


@dataclass
class Frame:
    """Lon/lat -> SVG units for one area (west, south, east, north)."""
    west: float
    south: float
    east: float
    north: float
    kx: float = field(init=False)
    scale: float = field(init=False)
    height: float = field(init=False)

    def __post_init__(self):
        dx, dy = self.east - self.west, self.north - self.south
        self.west, self.east = self.west - dx * MARGIN, self.east + dx * MARGIN
        self.south, self.north = self.south - dy * MARGIN, self.north + dy * MARGIN
        self.kx = math.cos(math.radians((self.south + self.north) / 2))
        self.scale = WIDTH / max((self.east - self.west) * self.kx, 1e-9)
        self.height = (self.north - self.south) * self.scale

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale)

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    @property
    def bbox(self) -> str:
        return f"{self.west},{self.south},{self.east},{self.north}"


def colour(style: dict, value) -> str:
    """A feature's fill, as map.js colourFor() picks it."""
    kind = style.get("kind")
    if kind == "category":
        return style.get("colors", {}).get(value) or style.get("missing_color") or "#8a8f98"
    if kind == "graduated":
        if value is None:
            return style.get("missing_color") or "#ffffff"
        i = 0
        while i < len(style["breaks"]) and value >= style["breaks"][i]:
            i += 1
        return style["colors"][i]
    return style.get("fill_color") or style.get("color") or "#555555"


def legend(layer: Layer) -> list[dict]:
    """[{label, colour, shape}] for one drawn layer, as map.js's legend shows it."""
    s, polygon = layer.style, layer.geometry == "MultiPolygon"
    shape_ = "square" if polygon else s.get("shape", "dot")
    if s.get("kind") == "category":
        prop = layer.property(s["field"])
        vocab = VOCABULARIES.get(prop.vocabulary or "", {}) if prop else {}
        out = [{"label": vocab.get(k, k), "colour": c, "shape": shape_}
               for k, c in s["colors"].items()]
        if s.get("missing_label"):
            out.append({"label": s["missing_label"], "colour": s["missing_color"], "shape": shape_})
        return out
    if s.get("kind") == "graduated":
        return [{"label": label, "colour": c, "shape": "square"}
                for c, label in zip(s["colors"], s.get("labels", []))]
    if polygon and s.get("fill") is False:
        return [{"label": layer.title, "colour": s.get("color", "#555"), "shape": "line"}]
    return [{"label": layer.title, "colour": colour(s, None), "shape": shape_}]


def _ring(frame: Frame, ring: list) -> str:
    pts = [frame.xy(lon, lat) for lon, lat, *_ in ring]
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z"


def _path_d(frame: Frame, geometry: dict) -> str:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return "".join(_ring(frame, ring) for poly in polys for ring in poly)


def _in_scope(props: dict, kecamatan_kode: str | None) -> bool:
    if not kecamatan_kode:
        return True
    kode = props.get("kecamatan_kode") or str(props.get("kelurahan_kode") or "")[:8]
    return not kode or kode == kecamatan_kode


def _polygons(frame: Frame, layer: Layer, rows, kecamatan_kode) -> tuple[list[str], list[str]]:
    s, parts, labels = layer.style, [], []
    outline_only = s.get("fill") is False
    for props, geometry in rows:
        if not geometry or (not outline_only and not _in_scope(props, kecamatan_kode)):
            continue
        fill = "none" if outline_only else colour(s, props.get(s.get("field")))
        parts.append(
            f'<path d="{_path_d(frame, geometry)}" fill="{fill}" '
            f'fill-opacity="{0 if outline_only else s.get("fill_opacity", 0.5)}" '
            f'stroke="{s.get("color", "#555")}" stroke-width="{s.get("weight", 1)}"'
            + (f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else "") + "/>")
        gap = props.get("polri_gap")
        if props.get("kelurahan_nama") and gap and gap > 0:   # name the kelurahan that are short
            p = shape(geometry).representative_point()
            x, y = frame.xy(p.x, p.y)
            label = f'x="{x:.1f}" y="{y:.1f}">{html.escape(props["kelurahan_nama"])} −{gap}</text>'
            labels.append(f'<text class="halo" {label}<text {label}')  # halo below the text
    return parts, labels


def _points(frame: Frame, layer: Layer, rows, kecamatan_kode, since, until) -> list[str]:
    s, parts = layer.style, []
    r = s.get("radius", 6) * 0.8
    for props, geometry in rows:
        if not geometry or not _in_scope(props, kecamatan_kode):
            continue
        lon, lat = geometry["coordinates"][:2]
        if not frame.contains(lon, lat):
            continue
        if layer.time_field and since is not None:
            at = dt.datetime.fromisoformat(str(props.get(layer.time_field)))
            if not since <= at <= until:
                continue
        x, y = frame.xy(lon, lat)
        fill = colour(s, props.get(s.get("field")))
        stroke = f'stroke="{s.get("color", "#fff")}" stroke-width="{s.get("weight", 1)}"'
        if s.get("shape") in ("diamond", "square"):
            turn = ' transform="rotate(45 {0:.1f} {1:.1f})"'.format(x, y) if s["shape"] == "diamond" else ""
            parts.append(f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
                         f'height="{2 * r:.1f}" fill="{fill}" {stroke}{turn}/>')
        else:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" {stroke}/>')
    return parts


def draw(conn: Connection, layers: list[Layer], *, election_id: int, frame: Frame,
         kecamatan_kode: str | None = None, since: dt.datetime | None = None,
         until: dt.datetime | None = None) -> str:
    """The SVG element: ``layers`` in their order, only what lies in the frame (and in the
    kecamatan, for layers that carry one), timed layers between ``since`` and ``until``."""
    body, labels = [], []
    for layer in sorted(layers, key=lambda layer: layer.order):
        if layer.style.get("kind") in SKIPPED_KINDS:
            continue
        rows = features(conn, layer, election_id=election_id, bbox=frame.bbox)
        if layer.geometry == "Point":
            drawn = _points(frame, layer, rows, kecamatan_kode, since, until)
        else:
            drawn, names = _polygons(frame, layer, rows, kecamatan_kode)
            labels += names
        body.append(f'<g class="layer-{html.escape(layer.id)}">' + "".join(drawn) + "</g>")
    return (f'<svg class="briefing-map" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {WIDTH:.0f} {frame.height:.0f}" role="img" '
            f'aria-label="Peta kekurangan personel dan kelas TPS">'
            + "".join(body) +
            # attributes, not CSS: PDF renderers read SVG presentation attributes best
            '<g class="labels" font-family="DejaVu Sans, sans-serif" font-size="12" '
            'font-weight="bold" text-anchor="middle" fill="#1d2330">'
            + "".join(labels).replace('class="halo"', 'stroke="#ffffff" stroke-width="3"')
            + "</g></svg>")
