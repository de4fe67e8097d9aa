"""Rebuild the boundary file the project ships (``data/boundaries/``) with gisdesk's importer.

Run ``python -m gisdesk.ingest.ship_boundaries [SOURCE] [TARGET]``. The source goes through
the same reader and checks as any import, so the shipped file is what an import would load.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio

from gisdesk.ingest.boundaries import prepare_boundaries

LOGGER = logging.getLogger(__name__)

__all__ = ["write_boundaries_geojson", "ship", "main", "SHIPPED_COLUMNS"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = PROJECT_ROOT.parent / "shared" / "data" / "boundaries" / \
    "mataram_kelurahan.geojson"
DEFAULT_TARGET = PROJECT_ROOT / "data" / "boundaries" / "mataram_kelurahan.geojson"
# name in the shipped file -> column of BoundaryPrep.kelurahan
SHIPPED_COLUMNS = {"kode": "kode", "nama": "nama", "kecamatan_kode": "kecamatan_kode",
                   "kecamatan": "kecamatan_nama", "area_km2": "area_km2"}


def write_boundaries_geojson(kelurahan: gpd.GeoDataFrame, target: str | Path) -> Path:
    """Write kelurahan as RFC 7946 GeoJSON (lon/lat, 7 decimals, about 1 cm)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    out = kelurahan.rename(columns={v: k for k, v in SHIPPED_COLUMNS.items()})
    out = out[list(SHIPPED_COLUMNS) + [out.geometry.name]].sort_values("kode")
    out["area_km2"] = out["area_km2"].round(4)
    if target.exists():
        target.unlink()  # the GeoJSON driver does not overwrite
    pyogrio.write_dataframe(out, target, driver="GeoJSON", RFC7946="YES",
                            COORDINATE_PRECISION=7, WRITE_NAME="NO")
    return target


def ship(source: str | Path = DEFAULT_SOURCE, target: str | Path = DEFAULT_TARGET) -> Path:
    """Import ``source`` with gisdesk's checks and write the project copy to ``target``."""
    prep = prepare_boundaries(source)
    for problem in prep.problems:
        LOGGER.info("%s: %s", problem.severity, problem.reason)
    return write_boundaries_geojson(prep.kelurahan, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE))
    parser.add_argument("target", nargs="?", default=str(DEFAULT_TARGET))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = ship(args.source, args.target)
    print(f"ditulis: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
