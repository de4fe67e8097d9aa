"""Where the front-end libraries live on disk, so the app (and the standalone map) never
needs another host: Leaflet and MarkerCluster from their XStatic packages, leaflet.heat
and leaflet.vectorgrid from npm (``npm ci --no-audit --no-fund`` installs them into the
git-ignored node_modules/).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_markercluster

ROOT = Path(__file__).resolve().parent.parent.parent
NODE_MODULES = ROOT / "node_modules"


@dataclass(frozen=True)
class VendorLib:
    name: str
    version: str
    directory: Path
    js: tuple[str, ...]
    css: tuple[str, ...] = ()
    optional: bool = False  # the map works without it (a feature is left out)

    def available(self) -> bool:
        return all((self.directory / f).is_file() for f in self.js + self.css)


LIBS: dict[str, VendorLib] = {
    "leaflet": VendorLib("leaflet", xs_leaflet.VERSION, Path(xs_leaflet.BASE_DIR),
                         ("leaflet.js",), ("leaflet.css",)),
    "leaflet.markercluster": VendorLib(
        "leaflet.markercluster", xs_markercluster.VERSION, Path(xs_markercluster.BASE_DIR),
        ("leaflet.markercluster.js",), ("MarkerCluster.css", "MarkerCluster.Default.css")),
    # no XStatic package exists for leaflet.heat; version pinned in package-lock.json
    "leaflet.heat": VendorLib("leaflet.heat", "0.2.0", NODE_MODULES / "leaflet.heat" / "dist",
                              ("leaflet-heat.js",), optional=True),
    # vector tiles (/tiles/...pbf) for elections too big for GeoJSON; pinned in package-lock
    "leaflet.vectorgrid": VendorLib(
        "leaflet.vectorgrid", "1.3.0", NODE_MODULES / "leaflet.vectorgrid" / "dist",
        ("Leaflet.VectorGrid.bundled.min.js",), optional=True),
}
TILED_ONLY = {"leaflet.vectorgrid"}  # loaded only by a map page that uses vector tiles


def libs_for_map(tiled: bool = False) -> list[VendorLib]:
    """The libraries the map page loads, in order; optional ones only when installed."""
    return [lib for lib in LIBS.values() if (lib.available() or not lib.optional)
            and (tiled or lib.name not in TILED_ONLY)]
