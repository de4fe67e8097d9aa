"""Coordinate reference systems offered by the OGC API (Part 2), the exports and the CLI.

Indonesia in one list: CRS84 (lon/lat, the default), EPSG:4326 (lat/lon: Part 2 asks for the
CRS's own axis order), Web Mercator, DGN95 (4755, lat/lon), DGN95 / Indonesia TM-3
(23830-23845) and WGS 84 / UTM zones 46N-54N and 46S-54S. Names may be given as the OGC URI,
``EPSG:n``, ``urn:ogc:def:crs:EPSG::n`` or ``OGC:CRS84``. No Flask here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from gisdesk.errors import InputRejected

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
CODES = (4326, 3857, 4755, *range(23830, 23846), *range(32646, 32655), *range(32746, 32755))
_NAME = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/EPSG/0/|EPSG:|"
                   r"urn:ogc:def:crs:EPSG:[0-9.]*:)(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int            # PostGIS SRID (CRS84 is 4326 with lon/lat order)
    lat_first: bool      # axis order of the CRS definition: coordinates are flipped
    geographic: bool

    @property
    def precision(self) -> int:
        """Decimals that keep about 10 cm: 6 in degrees, 2 in metres."""
        return 6 if self.geographic else 2

    @property
    def epsg(self) -> str:
        return "OGC:CRS84" if self.uri == CRS84 else f"EPSG:{self.srid}"


DEFAULT = Crs(CRS84, 4326, False, True)


@lru_cache(maxsize=None)
def _epsg(code: int) -> Crs:
    import pyproj

    crs = pyproj.CRS.from_epsg(code)
    first = crs.axis_info[0].direction.lower() if crs.axis_info else "east"
    return Crs(EPSG_URI.format(code), code, first == "north", crs.is_geographic)


def offered() -> list[str]:
    """Every CRS URI, CRS84 first (the collection's ``crs`` list)."""
    return [CRS84] + [EPSG_URI.format(c) for c in CODES]


def parse(raw: str | None, field: str = "crs") -> Crs:
    """The CRS a parameter names (CRS84 when absent); 400-type error naming the field."""
    if raw is None or raw.strip() == "":
        return DEFAULT
    name = raw.strip().strip("<>")
    if name in (CRS84, "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "CRS84"):
        return DEFAULT
    match = _NAME.match(name)
    if match and int(match.group(1)) in CODES:
        return _epsg(int(match.group(1)))
    raise InputRejected(f"{field} '{raw[:80]}' tidak didukung. Pilih {CRS84} atau "
                        f"{EPSG_URI.format('N')} dengan N salah satu: 4326, 3857, 4755, "
                        "23830-23845, 32646-32654, 32746-32754", field=field)


def to_lonlat_order(crs: Crs, values: list[float]) -> list[float]:
    """A bbox given in ``crs``'s axis order, as x/y (lon/lat, easting/northing) order."""
    if not crs.lat_first:
        return values
    half = len(values) // 2
    swap = lambda part: [part[1], part[0], *part[2:]]  # noqa: E731
    return swap(values[:half]) + swap(values[half:])


@lru_cache(maxsize=None)
def _to_lonlat(srid: int):
    import pyproj

    return pyproj.Transformer.from_crs(srid, 4326, always_xy=True)


def check_xy(crs: Crs, xs: list[float], ys: list[float], field: str) -> None:
    """Refuse coordinates (x/y order) that do not land on the Earth in ``crs``: PostGIS
    would fail to transform them, which must be the caller's 400, not a server error."""
    if crs.srid == 4326 or not xs:
        return
    lons, lats = _to_lonlat(crs.srid).transform(xs, ys, errcheck=False)
    for lon, lat in zip(lons, lats):
        if not (abs(lon) <= 180 and abs(lat) <= 90):  # also false for inf and nan
            raise InputRejected(f"{field}: koordinat di luar jangkauan {crs.epsg}",
                                field=field)
