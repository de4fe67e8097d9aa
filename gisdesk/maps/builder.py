"""The Folium map behind the coordinator page, with every CDN link replaced by local assets.

Folium draws the Leaflet map and its base layers; ``map.js`` (served with the page) adds the
overlays from ``layers/*.toml``, fetching their GeoJSON from the app (or reading it inline in
the standalone map). The page default is "no basemap", so nothing is asked of another host
unless the user picks OpenStreetMap in the layer control.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import folium
from sqlalchemy import Connection, text

from gisdesk.layers.registry import Layer
from gisdesk.maps import vendor
from gisdesk.maps.labels import CLASS_ORDER, VOCABULARIES

# Kota Mataram: only used when no boundary is loaded yet
FALLBACK_BOUNDS = [[-8.62, 116.06], [-8.55, 116.16]]
OSM_NAME = "OpenStreetMap (perlu internet)"


@dataclass
class MapParts:
    """What a page needs to show the map: the div, Folium's script, assets and config."""
    map_name: str
    html: str
    script: str
    css: list[tuple[str, str]] = field(default_factory=list)   # (lib, file)
    js: list[tuple[str, str]] = field(default_factory=list)
    config: dict = field(default_factory=dict)


def area_bounds(conn: Connection) -> list[list[float]]:
    """[[south, west], [north, east]] of the loaded kelurahan (the map's home view)."""
    row = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(geom) AS e FROM kelurahan) x")).first()
    if row is None or row[0] is None:
        return FALLBACK_BOUNDS
    return [[row[1], row[0]], [row[3], row[2]]]


def folium_map(bounds: list[list[float]]) -> folium.Map:
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    fmap = folium.Map(location=center, zoom_start=13, tiles=None, prefer_canvas=True,
                      control_scale=False, max_bounds=False)  # metric only: map.js
    # Folium gives min/max zoom only to its tiles; MarkerCluster needs the map's own maxZoom
    fmap.options.update(min_zoom=5, max_zoom=19, zoom_snap=0.5)  # half steps fill the frame
    # Folium's defaults point at CDNs (Leaflet, jQuery, Bootstrap, Font Awesome, awesome
    # markers): none of them may load. The page adds the local Leaflet itself.
    fmap.default_js = []
    fmap.default_css = []
    # OSM is offered, never the default: the desk must work with no internet
    folium.TileLayer("OpenStreetMap", name=OSM_NAME, overlay=False, control=False,
                     show=False, max_zoom=19).add_to(fmap)
    return fmap


def _tile_layer_name(fmap: folium.Map) -> str:
    return next(child.get_name() for child in fmap._children.values()
                if isinstance(child, folium.TileLayer))


def map_parts(conn: Connection, layers: dict[str, Layer], *, election: dict | None,
              layer_source: Callable[[Layer], dict],
              extra_config: dict | None = None) -> MapParts:
    """Folium's map plus the browser config for ``layers`` (already filtered by role).

    ``layer_source(layer)`` returns ``{"url": ...}`` (web page) or ``{"data": ...}`` (inline).
    """
    bounds = area_bounds(conn)
    tiled = tiles_config(conn, election, layers)
    fmap = folium_map(bounds)
    root = fmap.get_root()
    root.render()
    # only the map's own script and div: Folium's header would restyle html/body of our page
    parts = MapParts(map_name=fmap.get_name(), html=root.html.render(),
                     script=root.script.render())
    for lib in vendor.libs_for_map(tiled=tiled is not None):
        parts.js += [(lib.name, f) for f in lib.js]
        parts.css += [(lib.name, f) for f in lib.css]
    parts.config = {
        "map": parts.map_name,
        "bounds": bounds,
        "basemaps": [{"name": OSM_NAME, "var": _tile_layer_name(fmap)}],
        "layers": [_layer_config(layer, layer_source, tiled) for layer in layers.values()],
        "vocabularies": VOCABULARIES,
        "class_order": list(CLASS_ORDER),
        "election": _election_config(election),
        "heat": vendor.LIBS["leaflet.heat"].available(),
        "tiled": tiled and {k: v for k, v in tiled.items() if k != "url"},
        **(extra_config or {}),
    }
    return parts


def _layer_config(layer: Layer, layer_source: Callable[[Layer], dict],
                  tiled: dict | None) -> dict:
    config = layer.public_config()
    if tiled and layer.source in TILED_SOURCES:
        config["tiles"] = tiled["url"].replace("__LAYER__", layer.id)
    else:
        config.update(layer_source(layer))
    return config


# Sources that are too big for GeoJSON at national scale: drawn from vector tiles (with
# aggregates at low zoom, gisdesk.layers.tiles) when the election has more than MAP_TILES_MIN_TPS.
# Incidents and facilities stay GeoJSON (a few thousand at most; filtered and polled live).
TILED_SOURCES = frozenset({"tps", "kelurahan_gap", "kecamatan", "quickcount_kelurahan"})
TILES_MIN_TPS = 20000


def tiles_threshold() -> int:
    """Above this many TPS an election is drawn from tiles and printed from aggregates
    (``MAP_TILES_MIN_TPS`` in the app's config)."""
    from flask import current_app

    return int(current_app.config.get("MAP_TILES_MIN_TPS", TILES_MIN_TPS))


def tiles_config(conn: Connection, election: dict | None, layers: dict[str, Layer]) -> dict | None:
    """What the page needs to use vector tiles, or None for GeoJSON + clusters (city size,
    the standalone map, no tile route, or leaflet.vectorgrid not installed)."""
    from flask import current_app, has_app_context, url_for

    if not election or not has_app_context() or "tiles.tile" not in current_app.view_functions:
        return None
    if not vendor.LIBS["leaflet.vectorgrid"].available():
        return None
    threshold = tiles_threshold()
    n = conn.execute(text(
        "SELECT count(*) FROM (SELECT 1 FROM tps WHERE election_id = :e LIMIT :n) s"),
        {"e": election["id"], "n": threshold + 1}).scalar_one()
    if n <= threshold:
        return None
    from gisdesk.layers import tiles

    url = url_for("tiles.tile", layer="__LAYER__", z=0, x=0, y=0)
    api = (url_for("api.item", collection_id="__LAYER__", feature_id="__ID__")
           if "api.item" in current_app.view_functions else None)
    return {"url": url.replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf"), "item_url": api,
            "min_tps": threshold, "point_min_zoom": tiles.TPS_POINT_MIN_ZOOM,
            "kelurahan_agg_min_zoom": tiles.KELURAHAN_AGG_MIN_ZOOM,
            "kecamatan_agg_min_zoom": tiles.KECAMATAN_AGG_MIN_ZOOM,
            "kelurahan_polygon_min_zoom": tiles.KELURAHAN_POLYGON_MIN_ZOOM,
            "max_zoom": 19, "gaps_limit": 300}


def _election_config(election: dict | None) -> dict | None:
    if not election:
        return None
    as_of = election.get("as_of")
    return {"id": election["id"], "nama": election["nama"], "is_demo": bool(election["is_demo"]),
            "as_of": as_of.isoformat() if as_of else None, "version": election.get("version")}
