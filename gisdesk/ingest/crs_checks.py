"""Coordinate sanity checks: projected values without a CRS, swapped axes, flipped latitude.

Everything here is pure: it looks at coordinates and an expected area (a bounding box, by
default Indonesia's) and says what is wrong, fixing a whole file only when every row needs
the same fix (the DESIGN rule "fix only when sure").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka

__all__ = [
    "BBox", "INDONESIA_BBOX", "ExpectedArea", "reject_projected_without_crs",
    "looks_projected", "swap_xy", "flip_latitude", "classify_points", "classify_boxes",
    "fix_or_report_axes",
]


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in degrees."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def contains(self, x, y) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        return (x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy)

    def expanded(self, margin: float) -> "BBox":
        return BBox(self.minx - margin, self.miny - margin, self.maxx + margin,
                    self.maxy + margin)


# Indonesia with a margin for the outer islands (Sabang 95.3 E, Merauke 141 E, Rote 11 S).
INDONESIA_BBOX = BBox(94.0, -11.5, 142.0, 6.5)


@dataclass(frozen=True)
class ExpectedArea:
    """Where the data should be: a bbox, and for points optionally the loaded kelurahan."""

    bbox: BBox = INDONESIA_BBOX
    geometry: BaseGeometry | None = None
    label: str = "Indonesia"

    @classmethod
    def around(cls, geometry: BaseGeometry, *, margin_deg: float = 0.05,
               label: str = "kelurahan yang dimuat") -> "ExpectedArea":
        """The area of ``geometry`` (EPSG:4326); the bbox gets a margin (~5 km) so that a
        point just outside is judged by distance, not as a swapped or flipped row."""
        minx, miny, maxx, maxy = geometry.bounds
        return cls(BBox(minx, miny, maxx, maxy).expanded(margin_deg), geometry, label)


def looks_projected(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """Values beyond any degree (|x| or |y| > 180) can only be metres or feet."""
    return max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 180


def _utm_hint(minx: float, miny: float, maxx: float, maxy: float) -> str:
    # UTM eastings stay within 100-900 km; southern-hemisphere northings carry a 10,000 km
    # false northing, so Indonesia south of the equator (0..11.5 S) reads 8,700..10,000 km.
    if 100_000 <= minx and maxx <= 900_000:
        if 8_700_000 <= miny and maxy <= 10_000_000:
            return (" Nilainya tampak seperti meter UTM di belahan selatan (untuk Lombok "
                    "dan Mataram: --src-crs EPSG:32750, WGS 84 / UTM 50S; atau EPSG:23890 untuk "
                    "ID74 / UTM 50S).")
        if 0 <= miny and maxy <= 750_000:
            return (" Nilainya tampak seperti meter UTM di belahan utara "
                    "(EPSG:326NN, zona 46-54).")
    return ""


def reject_projected_without_crs(bounds, *, what: str = "Berkas") -> None:
    """Refuse coordinates in metres when no CRS says which projection they are in."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not looks_projected(minx, miny, maxx, maxy):
        return
    message = (f"{what} punya koordinat terproyeksi (x {angka(minx)}..{angka(maxx)}, "
               f"y {angka(miny)}..{angka(maxy)}) tetapi tanpa sistem referensi koordinat "
               "(.prj). Beri --src-crs dengan CRS berkas itu." + _utm_hint(minx, miny, maxx, maxy))
    raise InputRejected(message, [Problem(None, "geometry", message,
                                          value=f"{minx:.0f},{miny:.0f},{maxx:.0f},{maxy:.0f}")])


def swap_xy(geoms: np.ndarray) -> np.ndarray:
    """Exchange x and y of every coordinate (lat-first files)."""
    return shapely.transform(geoms, lambda c: c[:, ::-1])


def flip_latitude(geoms: np.ndarray) -> np.ndarray:
    """Negate y of every coordinate (a latitude written without its minus sign)."""
    return shapely.transform(geoms, lambda c: c * np.array([1.0, -1.0]))


# Row verdicts. "ok" means inside the expected bbox; the area check comes later.
OK, MISSING, SWAPPED, FLIPPED, OUT_OF_RANGE, OUTSIDE = (
    "ok", "missing", "swapped", "sign_flipped", "out_of_range", "outside")


def classify_boxes(minx, miny, maxx, maxy, bbox: BBox) -> np.ndarray:
    """Verdict per feature from its bounds (points: min == max)."""
    minx, miny, maxx, maxy = (np.asarray(v, dtype=float) for v in (minx, miny, maxx, maxy))
    verdict = np.full(minx.shape, OUTSIDE, dtype=object)
    missing = ~(np.isfinite(minx) & np.isfinite(miny) & np.isfinite(maxx) & np.isfinite(maxy))
    in_range = ((np.abs(minx) <= 180) & (np.abs(maxx) <= 180)
                & (np.abs(miny) <= 90) & (np.abs(maxy) <= 90))
    inside = bbox.contains(minx, miny) & bbox.contains(maxx, maxy)
    swapped = bbox.contains(miny, minx) & bbox.contains(maxy, maxx)
    flipped = bbox.contains(minx, -maxy) & bbox.contains(maxx, -miny)
    verdict[~in_range] = OUT_OF_RANGE
    verdict[in_range & flipped] = FLIPPED
    verdict[swapped] = SWAPPED          # a swapped row is usually out of range: say why
    verdict[in_range & inside] = OK
    verdict[missing] = MISSING
    return verdict


def classify_points(x, y, bbox: BBox) -> np.ndarray:
    """Verdict per point (see :func:`classify_boxes`)."""
    return classify_boxes(x, y, x, y, bbox)


_KIND = {"row": "baris", "feature": "fitur"}   # what an operator calls one record
_REASONS = {
    SWAPPED: "lintang dan bujur tertukar (lintang ditulis dulu)",
    FLIPPED: "tanda lintang salah (kurang tanda minus: sebagian besar Indonesia di selatan "
             "khatulistiwa)",
    OUT_OF_RANGE: "koordinat di luar jangkauan (bujur harus -180..180, lintang -90..90)",
    MISSING: "koordinat kosong",
}


def fix_or_report_axes(geoms: np.ndarray, rows: np.ndarray, expected: ExpectedArea, *,
                       field: str = "geometry", kind: str = "row",
                       report_outside: bool = True) -> tuple[np.ndarray, list[Problem]]:
    """Check every geometry against ``expected.bbox``.

    Every (non-empty) row swapped -> swap the file, one "fixed" problem. Every row with a
    flipped latitude -> flip the file, one "fixed" problem. Otherwise each swapped, flipped,
    out-of-range or outside row is an error naming the row. Empty geometries are left to
    the caller (boundaries and points treat them differently); ``report_outside=False``
    leaves rows outside the bbox to the caller too (points measure the distance instead).
    """
    bounds = shapely.bounds(geoms)
    verdict = classify_boxes(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3],
                             expected.bbox)
    present = verdict != MISSING
    problems: list[Problem] = []
    if present.any():
        for fix_verdict, fixer, what in ((SWAPPED, swap_xy, "lintang/bujur tertukar"),
                                         (FLIPPED, flip_latitude, "tanda lintang terbalik")):
            if (verdict[present] == fix_verdict).all():
                geoms = geoms.copy()
                geoms[present] = fixer(geoms[present])
                problems.append(Problem(
                    None, field, f"setiap {_KIND.get(kind, kind)}: {what}; seluruh berkas "
                    "sudah dibetulkan",
                    severity="fixed"))
                return geoms, problems
    for row, v, b in zip(rows, verdict, bounds):
        if v in (OK, MISSING) or (v == OUTSIDE and not report_outside):
            continue
        value = f"{b[0]:.6f}, {b[1]:.6f}"
        if v == OUTSIDE:
            reason = f"koordinat terletak di luar {expected.label}"
        else:
            reason = _REASONS[v]
        problems.append(Problem(int(row), field, reason, value=value))
    return geoms, problems
