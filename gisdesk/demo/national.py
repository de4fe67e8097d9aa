"""National-scale synthetic data: seeded, realistic-looking boundaries and TPS for all of
Indonesia (DATA DEMO SINTETIS), loaded with the bulk paths the product uses (COPY).

Full scale (DOMAIN.md): 38 provinces (real codes 11..96), 514 kab/kota, 7,277 kecamatan,
83,731 kelurahan/desa, 820,161 TPS with DPT summing to 204,807,222; Polri ratings (mostly
kurang_rawan), Bawaslu indicators, readiness for every TPS, personnel, a few thousand
incidents. Nothing here is real except the province codes, names and rough sizes.

How the map is made (no gaps, no overlaps, shared edges identical):

1. Each province is a "blob" (a wobbly ellipse of about its real area at about its real
   place). Where blobs overlap, a point belongs to the province nearest relative to its size.
2. Every desa/kelurahan is one seed point (clustered around kab/kota centres); ONE Voronoi
   diagram of all seeds, plus "sea" seeds mirrored across the coast and a coarse sea grid,
   tiles the land. A kelurahan is the Voronoi cell of its seed, so neighbours share edges
   exactly; the coastline is where land cells meet sea cells.
3. Kab/kota = seeds grouped to the nearest kab/kota centre (kota weighted to stay small);
   kecamatan = seeds grouped to the nearest kecamatan centre inside the kab, dissolved with
   a coverage union (exact, since the cells share their edges).
4. Every edge is densified and given a gentle wiggle computed from the edge itself (its
   endpoints in a canonical order), so the two polygons that share an edge, and a kecamatan
   and the kelurahan on its border, get exactly the same vertices: tens to a few hundred per
   polygon, like real boundary files.

``generate(spec, seed)`` returns plain frames; ``load_national(conn, ...)`` writes them with
COPY into a separate election ``pemilu-2024-nasional`` (not active unless asked).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from gisdesk import audit
from gisdesk.demo import taxonomy as tx

LOGGER = logging.getLogger(__name__)

ELECTION = {
    "kode": "pemilu-2024-nasional",
    "nama": "Pemilu 2024 Nasional (DATA DEMO SINTETIS)",
    "kind": "pemilu",
    "voting_date": "2024-02-14",
    "campaign_start": "2023-11-28",
    "max_voters_per_tps": 300,
}
SOURCE = "demo-nasional"
WITA = dt.timezone(dt.timedelta(hours=8))
DEFAULT_AS_OF = dt.datetime(2024, 2, 14, 10, 0, tzinfo=WITA)
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://gisdesk.invalid/demo/pemilu-2024-nasional")
NATIONAL = {"provinces": 38, "kabkota": 514, "kecamatan": 7277, "kelurahan": 83731,
            "tps": 820161, "dpt": 204_807_222}
KM_PER_DEG = 111.32

# code, name, lon, lat, area km², kabupaten, kota, kecamatan (weight), desa (weight),
# DPT 2024 (millions, weight for TPS), aspect, rotation (degrees)
PROVINCES = (
    ("11", "Aceh", 96.9, 4.4, 57956, 18, 5, 290, 6497, 3.74, 1.8, -45),
    ("12", "Sumatera Utara", 99.0, 2.2, 72981, 25, 8, 455, 6110, 10.85, 1.8, -45),
    ("13", "Sumatera Barat", 100.5, -0.8, 42013, 12, 7, 179, 1265, 4.09, 1.8, -45),
    ("14", "Riau", 101.8, 0.5, 87024, 10, 2, 172, 1862, 4.73, 1.5, -45),
    ("15", "Jambi", 103.0, -1.7, 50058, 9, 2, 144, 1585, 2.68, 1.5, -30),
    ("16", "Sumatera Selatan", 104.2, -3.3, 91592, 13, 4, 241, 3258, 6.33, 1.4, -30),
    ("17", "Bengkulu", 102.3, -3.8, 19919, 9, 1, 129, 1513, 1.49, 2.5, -45),
    ("18", "Lampung", 105.0, -4.9, 34624, 13, 2, 229, 2651, 6.54, 1.3, -30),
    ("19", "Kepulauan Bangka Belitung", 106.8, -2.5, 16424, 6, 1, 47, 393, 1.06, 1.6, -30),
    ("21", "Kepulauan Riau", 104.5, 1.0, 8202, 5, 2, 80, 419, 1.60, 1.2, 0),
    ("31", "DKI Jakarta", 106.83, -6.2, 664, 1, 5, 44, 267, 8.25, 1.2, 0),
    ("32", "Jawa Barat", 107.6, -6.9, 35378, 18, 9, 627, 5957, 35.71, 1.8, -5),
    ("33", "Jawa Tengah", 110.2, -7.2, 32801, 29, 6, 576, 8562, 28.29, 2.0, -5),
    ("34", "DI Yogyakarta", 110.4, -7.9, 3133, 4, 1, 78, 438, 2.87, 1.2, 0),
    ("35", "Jawa Timur", 112.7, -7.6, 47800, 29, 9, 666, 8494, 31.40, 2.5, -5),
    ("36", "Banten", 106.1, -6.4, 9663, 4, 4, 155, 1552, 8.84, 1.3, 0),
    ("51", "Bali", 115.2, -8.4, 5780, 8, 1, 57, 716, 3.27, 1.8, -10),
    ("52", "Nusa Tenggara Barat", 117.4, -8.6, 18572, 8, 2, 117, 1166, 3.94, 2.5, 0),
    ("53", "Nusa Tenggara Timur", 121.1, -8.9, 48718, 21, 1, 315, 3353, 4.00, 3.0, -10),
    ("61", "Kalimantan Barat", 110.9, 0.0, 147307, 12, 2, 174, 2145, 3.94, 1.2, 0),
    ("62", "Kalimantan Tengah", 113.4, -1.6, 153564, 13, 1, 136, 1576, 1.96, 1.3, 0),
    ("63", "Kalimantan Selatan", 115.3, -3.0, 38744, 11, 2, 156, 2016, 2.97, 1.3, 45),
    ("64", "Kalimantan Timur", 116.4, 0.5, 129067, 7, 3, 105, 1038, 2.78, 1.4, 60),
    ("65", "Kalimantan Utara", 116.4, 3.0, 75467, 4, 1, 55, 482, 0.50, 1.3, 0),
    ("71", "Sulawesi Utara", 124.6, 1.0, 13851, 11, 4, 171, 1839, 1.97, 3.0, 20),
    ("72", "Sulawesi Tengah", 121.4, -1.4, 61841, 12, 1, 175, 2020, 2.24, 1.8, -30),
    ("73", "Sulawesi Selatan", 120.0, -4.0, 46717, 21, 3, 313, 3059, 6.67, 2.2, 80),
    ("74", "Sulawesi Tenggara", 122.2, -4.1, 38067, 15, 2, 221, 2290, 1.87, 1.5, 60),
    ("75", "Gorontalo", 122.4, 0.7, 11257, 5, 1, 77, 734, 0.86, 3.0, 0),
    ("76", "Sulawesi Barat", 119.3, -2.5, 16787, 6, 0, 69, 650, 0.98, 2.0, 80),
    ("81", "Maluku", 129.0, -3.3, 46914, 9, 2, 118, 1235, 1.33, 2.5, 0),
    ("82", "Maluku Utara", 127.8, 0.8, 31982, 8, 2, 116, 1202, 0.96, 1.5, 80),
    ("91", "Papua", 139.5, -2.6, 82680, 8, 1, 105, 1000, 0.72, 2.0, 0),
    ("92", "Papua Barat", 133.5, -1.5, 60275, 7, 0, 84, 900, 0.38, 1.5, 0),
    ("93", "Papua Selatan", 139.5, -7.0, 117849, 4, 0, 82, 700, 0.37, 1.3, 0),
    ("94", "Papua Tengah", 136.5, -3.8, 61072, 8, 0, 130, 1200, 1.03, 1.8, 0),
    ("95", "Papua Pegunungan", 139.0, -4.2, 51213, 8, 0, 250, 2600, 1.39, 1.8, 0),
    ("96", "Papua Barat Daya", 131.8, -1.0, 39123, 5, 1, 130, 1000, 0.44, 1.5, 0),
)

# Polri class mix per TPS (Pemilu 2024 was overwhelmingly kurang rawan); Papua higher.
POLRI_MIX = {"kurang_rawan": 0.935, "rawan": 0.052, "sangat_rawan": 0.010, "khusus": 0.003}
POLRI_MIX_PAPUA = {"kurang_rawan": 0.80, "rawan": 0.15, "sangat_rawan": 0.045, "khusus": 0.005}

_PREFIX = ("Suka", "Karang", "Sumber", "Tanjung", "Sungai", "Batu", "Mekar", "Sido", "Banjar",
           "Air", "Teluk", "Bukit", "Kampung", "Padang", "Lubuk", "Pasir", "Tegal", "Wono",
           "Rejo", "Kuta", "Desa", "Lembah", "Muara", "Ujung", "Pulau", "Simpang", "Dusun",
           "Gunung", "Bumi", "Tanah", "Kali", "Ranca", "Cibeu", "Pangkal", "Loloan", "Bontoa")
_ROOT = ("jaya", "makmur", "mulya", "rejo", "asri", "harapan", "baru", "sari", "agung", "indah",
         "raya", "mekar", "sentosa", "jati", "manis", "rahayu", "tengah", "lestari", "wangi",
         "maju", "damai", "permai", "kencana", "subur", "abadi", "bakti", "luhur", "mukti")
_SUFFIX = ("", "", "", "", " Utara", " Selatan", " Timur", " Barat", " Ilir", " Ulu", " Hilir",
           " Hulu", " I", " II", " Baru", " Lama")


@dataclass(frozen=True)
class Province:
    kode: str
    nama: str
    lon: float
    lat: float
    area_km2: float
    n_kab: int
    n_kota: int
    n_kec: int
    n_kel: int
    n_tps: int
    dpt: int
    aspect: float
    angle: float


@dataclass(frozen=True)
class Spec:
    provinces: tuple[Province, ...]

    @property
    def totals(self) -> dict:
        p = self.provinces
        return {"provinces": len(p), "kabkota": sum(x.n_kab + x.n_kota for x in p),
                "kecamatan": sum(x.n_kec for x in p), "kelurahan": sum(x.n_kel for x in p),
                "tps": sum(x.n_tps for x in p), "dpt": sum(x.dpt for x in p)}


def _largest_remainder(weights, total: int, minimum=0) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total``, each >= ``minimum``."""
    w = np.asarray(weights, float)
    minimum = np.broadcast_to(np.asarray(minimum, np.int64), w.shape)
    rest = total - int(minimum.sum())
    if rest < 0:
        raise ValueError("total below the minimum")
    share = w / w.sum() * rest
    out = np.floor(share).astype(np.int64)
    left = rest - int(out.sum())
    if left:
        out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    return out + minimum


def national_spec(provinces=None, scale: float = 1.0) -> Spec:
    """The national counts split over provinces (real codes, rough real proportions).

    ``provinces`` (codes) keeps a subset; ``scale`` shrinks kecamatan, kelurahan, TPS and DPT
    (not the kab/kota) for small test runs. Full scale reproduces DOMAIN.md's totals exactly.
    """
    rows = PROVINCES
    kec = _largest_remainder([r[7] for r in rows], NATIONAL["kecamatan"])
    kel = _largest_remainder([r[8] for r in rows], NATIONAL["kelurahan"])
    tps = _largest_remainder([r[9] for r in rows], NATIONAL["tps"])
    dpt = _largest_remainder([r[9] for r in rows], NATIONAL["dpt"])
    out = []
    for i, r in enumerate(rows):
        if provinces is not None and r[0] not in provinces:
            continue
        n_ab = r[5] + r[6]
        n_kec = max(n_ab, int(round(kec[i] * scale)))
        n_kel = max(n_kec, int(round(kel[i] * scale)))
        n_tps = max(n_kel, int(round(tps[i] * scale)))
        d = int(round(dpt[i] * scale)) if scale != 1.0 else int(dpt[i])
        d = min(max(d, n_tps * 60), n_tps * ELECTION["max_voters_per_tps"])
        out.append(Province(r[0], r[1], r[2], r[3], r[4] * (scale if scale < 1 else 1),
                            r[5], r[6], n_kec, n_kel, n_tps, d, r[10], r[11]))
    if not out:
        raise ValueError(f"no province matches {provinces!r}")
    return Spec(tuple(out))


# --- geometry ----------------------------------------------------------------------------

def _blob(p: Province, rng: np.random.Generator) -> shapely.Polygon:
    """A wobbly ellipse of about the province's area, at about its place."""
    theta = np.linspace(0, 2 * np.pi, 160, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 9):
        r += rng.uniform(0.02, 0.22) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    x, y = r * np.cos(theta) * math.sqrt(p.aspect), r * np.sin(theta) / math.sqrt(p.aspect)
    a = math.radians(p.angle)
    x, y = x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)
    shape = shapely.Polygon(np.column_stack([x, y]))
    scale = math.sqrt(p.area_km2 / KM_PER_DEG ** 2 / shape.area)
    return shapely.make_valid(shapely.Polygon(np.column_stack([p.lon + x * scale,
                                                                p.lat + y * scale])))


class _Land:
    """Which province a point belongs to: inside its blob, nearest relative to size when
    blobs overlap, never inside ``exclude`` (boundaries already loaded)."""

    def __init__(self, spec: Spec, blobs, exclude=None):
        self.spec, self.blobs = spec, blobs
        self.centres = np.array([[p.lon, p.lat] for p in spec.provinces])
        self.radius = np.sqrt([p.area_km2 for p in spec.provinces])
        self.bounds = np.array([b.bounds for b in blobs])
        self.exclude = exclude
        for b in blobs:
            shapely.prepare(b)
        if exclude is not None:
            shapely.prepare(exclude)

    def province_of(self, xy: np.ndarray) -> np.ndarray:
        """Index of the province each point is in, -1 for sea."""
        n = len(xy)
        best = np.full(n, -1)
        score = np.full(n, np.inf)
        for i, blob in enumerate(self.blobs):
            w, s, e, nb = self.bounds[i]
            cand = np.flatnonzero((xy[:, 0] >= w) & (xy[:, 0] <= e) & (xy[:, 1] >= s)
                                  & (xy[:, 1] <= nb))
            if not len(cand):
                continue
            inside = cand[shapely.contains_xy(blob, xy[cand, 0], xy[cand, 1])]
            d = np.hypot(*(xy[inside] - self.centres[i]).T) / self.radius[i]
            better = d < score[inside]
            best[inside[better]], score[inside[better]] = i, d[better]
        if self.exclude is not None and n:
            best[shapely.contains_xy(self.exclude, xy[:, 0], xy[:, 1])] = -1
        return best


def _thin(xy: np.ndarray, min_dist: np.ndarray) -> np.ndarray:
    """Indices of points to keep so that no two are closer than their min_dist (greedy,
    first come first kept)."""
    pts = shapely.points(xy)
    tree = shapely.STRtree(pts)
    left, right = tree.query(pts, predicate="dwithin", distance=float(min_dist.max()))
    close = (left < right) & (np.hypot(*(xy[left] - xy[right]).T)
                              < np.maximum(min_dist[left], min_dist[right]))
    drop = np.zeros(len(xy), bool)
    # greedy in index order: a point is dropped if an earlier kept point is too close
    order = np.argsort(right[close], kind="stable")
    for a, b in zip(left[close][order], right[close][order]):
        if not drop[a]:
            drop[b] = True
    return np.flatnonzero(~drop)


def _province_seeds(i: int, p: Province, land: _Land, rng) -> tuple[np.ndarray, np.ndarray]:
    """n_kel desa seeds inside province i (clustered around towns), and the towns."""
    w, s, e, n = land.bounds[i]
    spacing = math.sqrt(p.area_km2 / KM_PER_DEG ** 2 / p.n_kel)

    def uniform(k):
        xy = np.column_stack([rng.uniform(w, e, k), rng.uniform(s, n, k)])
        return xy[land.province_of(xy) == i]

    towns = np.empty((0, 2))
    while len(towns) < p.n_kab + p.n_kota:
        towns = np.vstack([towns, uniform(4 * (p.n_kab + p.n_kota))])
    towns = towns[:p.n_kab + p.n_kota]
    seeds = np.empty((0, 2))
    for _ in range(50):
        k = int(p.n_kel * 1.6) + 20
        n_town = int(k * 0.4)
        pick = rng.integers(0, len(towns), n_town)
        sigma = np.where(pick >= p.n_kab, 1.5, 3.0) * spacing
        near = towns[pick] + rng.normal(size=(n_town, 2)) * sigma[:, None]
        near = near[land.province_of(near) == i]
        seeds = np.vstack([seeds, near, uniform(k - n_town)])
        keep = _thin(seeds, np.full(len(seeds), 0.3 * spacing))
        seeds = seeds[keep]
        if len(seeds) >= p.n_kel:
            break
    else:
        raise RuntimeError(f"could not place {p.n_kel} desa in province {p.kode}")
    seeds = seeds[rng.permutation(len(seeds))[:p.n_kel]]
    return seeds, towns


def _sea_seeds(land_xy, spacing, coast, land: _Land, envelope, rng) -> np.ndarray:
    """Mirror images of seeds near the coast (so cells end at the coast) and a coarse grid
    far out (so every land cell is bounded)."""
    segs = np.asarray(coast)
    seg_geoms = shapely.linestrings(segs)
    tree = shapely.STRtree(seg_geoms)
    pts = shapely.points(land_xy)
    idx_pt, idx_seg = tree.query_nearest(pts, return_distance=False, all_matches=False)
    near_line = shapely.shortest_line(pts[idx_pt], seg_geoms[idx_seg])
    ends = shapely.get_coordinates(near_line).reshape(-1, 2, 2)
    d = np.hypot(*(ends[:, 1] - ends[:, 0]).T)
    close = d < 1.5 * spacing[idx_pt]
    mirrored = 2 * ends[close, 1] - ends[close, 0]
    # a mirror image must lie at sea and not too close to the coast point it mirrors
    mirrored = mirrored[(land.province_of(mirrored) == -1)
                        & (d[close] > 1e-6)]
    w, s, e, n = envelope
    gx, gy = np.meshgrid(np.arange(w, e, 0.4), np.arange(s, n, 0.4))
    grid = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-0.05, 0.05, (gx.size, 2))
    grid_pts = shapely.points(grid)
    far = shapely.STRtree(pts).query(grid_pts, predicate="dwithin", distance=0.5)
    near_land = np.zeros(len(grid), bool)
    near_land[far[0]] = True
    grid = grid[~near_land & (land.province_of(grid) == -1)]
    return np.vstack([mirrored, grid])


def _clear_of(sea: np.ndarray, land_xy: np.ndarray, min_dist: float) -> np.ndarray:
    """Sea seeds not too close to a land seed nor to each other."""
    if not len(sea):
        return sea
    sea = sea[_thin(sea, np.full(len(sea), min_dist))]
    _, dist = shapely.STRtree(shapely.points(land_xy)).query_nearest(
        shapely.points(sea), all_matches=False, return_distance=True)
    return sea[dist >= min_dist]


def _coast_segments(land_union) -> np.ndarray:
    rings = shapely.get_rings(shapely.get_parts(land_union))
    out = []
    for ring in rings:
        c = shapely.get_coordinates(ring)
        out.append(np.stack([c[:-1], c[1:]], axis=1))
    return np.concatenate(out)


# canonical, direction-free densify + wiggle of every edge -----------------------------------

def _edge_hash(a: np.ndarray, b: np.ndarray, salt: float) -> np.ndarray:
    v = (a[:, 0] * 12.9898 + a[:, 1] * 78.233 + b[:, 0] * 37.719 + b[:, 1] * 4.581 + salt)
    return np.modf(np.abs(np.sin(v) * 43758.5453))[0]


def densify(geoms: np.ndarray, flat: set | None = None, *, wiggle: float = 0.07,
            min_pts: int = 4, max_pts: int = 22) -> np.ndarray:
    """Add vertices to every edge (and bend it a little), computed from the edge alone in a
    canonical direction: the same edge in two polygons gets identical vertices.

    ``flat``: canonical edges (ax, ay, bx, by) to keep straight (used to repair the rare
    polygon a bend would make invalid).
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[:-1] == ring_of[1:]
    start, end = coords[:-1][same], coords[1:][same]
    seg_ring = ring_of[:-1][same]
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    a = np.where(flip[:, None], end, start)
    b = np.where(flip[:, None], start, end)
    h1, h2, h3, h4 = (_edge_hash(a, b, s) for s in (0.0, 1.3, 2.7, 4.1))
    n = (min_pts + np.floor(h1 * (max_pts - min_pts + 1))).astype(np.int64)
    # tiny edges (where Voronoi vertices nearly coincide) stay as they are
    n[np.hypot(*(b - a).T) < 2e-4] = 0
    amp = np.full(len(a), wiggle)
    if flat:
        keys = np.array(sorted(flat), float) if flat else np.empty((0, 4))
        cand = np.concatenate([a, b], axis=1)
        view = lambda m: np.ascontiguousarray(m).view([("", m.dtype)] * 4).ravel()
        amp[np.isin(view(cand), view(keys))] = 0.0
    # each segment contributes its start point plus n interior points
    counts = n + 1
    seg_idx = np.repeat(np.arange(len(a)), counts)
    j = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)  # 0..n
    t = j / (n[seg_idx] + 1)
    d = b - a
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    c1, c2, c3 = (h2 - 0.5) * 2, (h3 - 0.5) * 1.0, (h4 - 0.5) * 0.6
    bend = (c1[seg_idx] * np.sin(np.pi * t) + c2[seg_idx] * np.sin(2 * np.pi * t)
            + c3[seg_idx] * np.sin(3 * np.pi * t)) * amp[seg_idx]
    pts = a[seg_idx] + d[seg_idx] * t[:, None] + normal[seg_idx] * bend[:, None]
    # the canonical points run a -> b; a flipped segment walks them backwards (b -> a), and
    # its own start point is b, i.e. the canonical t = 1 end
    fl = flip[seg_idx]
    t_rev = 1 - t
    pts_rev = (a[seg_idx] + d[seg_idx] * t_rev[:, None]
               + normal[seg_idx] * ((c1[seg_idx] * np.sin(np.pi * t_rev)
                                     + c2[seg_idx] * np.sin(2 * np.pi * t_rev)
                                     + c3[seg_idx] * np.sin(3 * np.pi * t_rev))
                                    * amp[seg_idx])[:, None])
    pts = np.where(fl[:, None], pts_rev, pts)
    # endpoints exactly as given (no rounding drift at shared vertices)
    first = j == 0
    pts[first] = np.where(flip[:, None], b, a)[seg_idx[first]]
    ring_pt = seg_ring[seg_idx]
    # close every ring with its first point
    ring_ids, first_pos = np.unique(ring_pt, return_index=True)
    closing = pts[first_pos]
    all_pts = np.concatenate([pts, closing])
    all_ring = np.concatenate([ring_pt, ring_ids])
    order = np.argsort(all_ring, kind="stable")
    new_rings = shapely.linearrings(all_pts[order], indices=all_ring[order])
    polys = shapely.polygons(new_rings, indices=ring_part[ring_ids])
    return shapely.multipolygons(polys, indices=owner[np.unique(ring_part[ring_ids])])


def _edges_of(geoms: np.ndarray) -> set:
    out = set()
    for g in geoms:
        for ring in shapely.get_rings(shapely.get_parts(g)):
            c = shapely.get_coordinates(ring)
            for p, q in zip(c[:-1], c[1:]):
                a, b = (tuple(p), tuple(q)) if tuple(p) <= tuple(q) else (tuple(q), tuple(p))
                out.add(a + b)
    return out


# --- names -------------------------------------------------------------------------------

def _names(n: int, rng) -> list[str]:
    a = rng.integers(0, len(_PREFIX), n)
    b = rng.integers(0, len(_ROOT), n)
    c = rng.integers(0, len(_SUFFIX), n)
    return [f"{_PREFIX[i]}{_ROOT[j]}{_SUFFIX[k]}" for i, j, k in zip(a, b, c)]


# --- the whole data set ------------------------------------------------------------------

@dataclass
class NationalData:
    kecamatan: pd.DataFrame     # kode, nama, geom (MultiPolygon)
    kelurahan: pd.DataFrame     # kode, nama, kecamatan_kode, area_km2, geom, seed_x, seed_y
    tps: pd.DataFrame           # kode, kelurahan_kode, nomor, dpt, alamat, lokasi_khusus, lon, lat
    ratings: pd.DataFrame       # source, tps_row, kelurahan_kode, kelas, indicators, rated_on
    readiness: pd.DataFrame     # tps_row, state, items (json text), note
    personnel: pd.DataFrame     # agency, target, kelurahan_kode, kecamatan_kode, unit, count
    incidents: pd.DataFrame
    timings: dict = field(default_factory=dict)


def _sphere_area_km2(polys: np.ndarray) -> np.ndarray:
    """Area of simple polygons (lon/lat degrees) on the sphere, in km²."""
    coords, idx = shapely.get_coordinates(shapely.get_exterior_ring(polys), return_index=True)
    lam, phi = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    same = idx[:-1] == idx[1:]
    term = (lam[1:] - lam[:-1]) * (np.sin(phi[1:]) + np.sin(phi[:-1])) / 2
    area = np.bincount(idx[:-1][same], weights=term[same], minlength=len(polys))
    return np.abs(area) * 6371.0088 ** 2


def generate(spec: Spec | None = None, *, seed: int = 2024, exclude=None,
             reserved_kab: set | None = None, as_of: dt.datetime | None = None,
             progress=lambda message: None) -> NationalData:
    """All national demo data as frames (geometries as shapely arrays), deterministic by seed.

    ``exclude``: area already covered by loaded boundaries (kept free, treated as sea);
    ``reserved_kab``: kab/kota prefixes (``PP.KK``) already in use, skipped when numbering.
    """
    spec = spec or national_spec()
    as_of = as_of or DEFAULT_AS_OF
    timings: dict = {}
    t0 = time.perf_counter()
    rng = np.random.default_rng([seed, 1])
    blobs = [_blob(p, rng) for p in spec.provinces]
    land = _Land(spec, blobs, exclude)

    # seeds per province
    all_xy, prov_of, town_sets, spacing = [], [], [], []
    for i, p in enumerate(spec.provinces):
        prng = np.random.default_rng([seed, 2, int(p.kode)])
        xy, towns = _province_seeds(i, p, land, prng)
        all_xy.append(xy)
        prov_of.append(np.full(len(xy), i))
        town_sets.append(towns)
        spacing.append(np.full(len(xy), math.sqrt(p.area_km2 / KM_PER_DEG ** 2 / p.n_kel)))
    xy = np.concatenate(all_xy)
    prov = np.concatenate(prov_of)
    spacing_arr = np.concatenate(spacing)
    progress(f"{len(xy)} desa seeds placed")

    land_union = shapely.union_all(blobs)
    if exclude is not None:
        land_union = shapely.difference(land_union, exclude)
    w, s, e, n = shapely.bounds(land_union)
    envelope = (w - 1.5, s - 1.5, e + 1.5, n + 1.5)
    sea = _sea_seeds(xy, spacing_arr, _coast_segments(land_union), land, envelope, rng)
    sea = _clear_of(sea, xy, 0.25 * spacing_arr.min())
    timings["seeds_s"] = round(time.perf_counter() - t0, 2)

    t1 = time.perf_counter()
    every = np.vstack([xy, sea])
    cells = shapely.voronoi_polygons(shapely.multipoints(every), ordered=True,
                                     extend_to=shapely.box(*envelope))
    cells = np.asarray(shapely.get_parts(cells))[:len(xy)]
    # Nearly co-circular seeds give Voronoi vertices 1e-16 apart (a spike GEOS calls a
    # self-intersection). Rounding every coordinate to 1e-8 degrees (about 1 mm) is the same
    # for both polygons sharing a vertex, so the tiling stays exact; then drop the repeats.
    cells = shapely.remove_repeated_points(shapely.set_precision(cells, 1e-8, mode="pointwise"))
    if exclude is not None:
        # cells reaching into boundaries already loaded are cut back (the cut is the same
        # line for both neighbours of a shared edge, snapped to the same grid)
        hit = np.flatnonzero(shapely.intersects(cells, exclude))
        if len(hit):
            cut = shapely.set_precision(shapely.difference(cells[hit], exclude), 1e-8,
                                        mode="pointwise")
            cells[hit] = shapely.remove_repeated_points(cut)
    if not shapely.is_valid(cells).all():
        raise RuntimeError("invalid Voronoi cells: " + "; ".join(
            shapely.is_valid_reason(cells[~shapely.is_valid(cells)])[:3]))
    progress(f"voronoi: {len(cells)} kelurahan cells")
    timings["voronoi_s"] = round(time.perf_counter() - t1, 2)

    # kab/kota and kecamatan grouping, codes
    t1 = time.perf_counter()
    kel_rows = []
    kec_rows = []
    kab_of = np.empty(len(xy), np.int64)
    kec_of = np.empty(len(xy), np.int64)
    kab_counter = kec_counter = 0
    reserved_kab = reserved_kab or set()
    name_rng = np.random.default_rng([seed, 3])
    for i, p in enumerate(spec.provinces):
        members = np.flatnonzero(prov == i)
        pxy = xy[members]
        towns = town_sets[i]
        # each town is snapped to a desa seed (its own kab/kota seat)
        seat = shapely.STRtree(shapely.points(pxy)).query_nearest(shapely.points(towns),
                                                                 all_matches=False)[1]
        seat = _unique_seats(seat, len(pxy), np.random.default_rng([seed, 4, int(p.kode)]))
        weight = np.where(np.arange(len(towns)) >= p.n_kab, 0.35, 1.0)
        d = np.hypot(pxy[:, None, 0] - pxy[seat][None, :, 0],
                     pxy[:, None, 1] - pxy[seat][None, :, 1]) / weight[None, :]
        d[seat, np.arange(len(seat))] = -1.0        # a seat belongs to its own kab/kota
        kab_local = np.argmin(d, axis=1)
        n_in_kab = np.bincount(kab_local, minlength=len(towns))
        kec_per_kab = _largest_remainder(n_in_kab, p.n_kec, minimum=1)
        kec_per_kab = np.minimum(kec_per_kab, n_in_kab)
        kec_per_kab = _fix_total(kec_per_kab, n_in_kab, p.n_kec)
        # codes: kabupaten 01.., kota 71.. (west to east), skipping codes already in use
        order_kab = np.argsort(pxy[seat, 0] + 1e-3 * -pxy[seat, 1], kind="stable")
        kab_code = {}
        nk = nc = 0
        for k in order_kab:
            is_kota = k >= p.n_kab
            while True:
                if is_kota:
                    nc += 1
                    code = f"{70 + nc:02d}"
                else:
                    nk += 1
                    code = f"{nk:02d}"
                if f"{p.kode}.{code}" not in reserved_kab:
                    break
            kab_code[k] = code
        for k in range(len(towns)):
            in_kab = np.flatnonzero(kab_local == k)
            kxy = pxy[in_kab]
            m = int(kec_per_kab[k])
            krng = np.random.default_rng([seed, 5, int(p.kode), k])
            centres = _lloyd(kxy, m, krng, seat_first=int(np.flatnonzero(in_kab == seat[k])[0]))
            dd = np.hypot(kxy[:, None, 0] - centres[None, :, 0],
                          kxy[:, None, 1] - centres[None, :, 1])
            kec_local = np.argmin(dd, axis=1)
            # every kecamatan keeps at least one desa: its centre's nearest seed
            for c in range(m):
                if not (kec_local == c).any():
                    kec_local[int(np.argmin(dd[:, c]))] = c
            order_kec = np.argsort(centres[:, 0] - centres[:, 1], kind="stable")
            is_kota = k >= p.n_kab
            seat_kec = kec_local[int(np.flatnonzero(in_kab == seat[k])[0])]
            kec_names = _names(m, name_rng)
            for rank, c in enumerate(order_kec, start=1):
                kec_kode = f"{p.kode}.{kab_code[k]}.{rank:02d}"
                kec_rows.append((kec_kode, kec_names[c], i, kab_counter + k, is_kota))
                sel = in_kab[kec_local == c]
                desa_order = sel[np.argsort(pxy[sel, 0] - pxy[sel, 1], kind="stable")]
                # kota: all kelurahan; kabupaten: kelurahan in the seat's kecamatan and a
                # few others (town centres), desa elsewhere
                urban = is_kota or p.kode == "31" or c == seat_kec
                kel_names = _names(len(desa_order), name_rng)
                n1 = n2 = 0
                for j, g in enumerate(desa_order):
                    kelurahan = urban or name_rng.random() < 0.04
                    if kelurahan:
                        n1 += 1
                        kode = f"{kec_kode}.{1000 + n1}"
                    else:
                        n2 += 1
                        kode = f"{kec_kode}.{2000 + n2}"
                    kel_rows.append((members[g], kode, kel_names[j], kec_kode, kelurahan))
                    kec_of[members[g]] = kec_counter
                kec_counter += 1
            kab_of[members[in_kab]] = kab_counter + k
        kab_counter += len(towns)
    timings["grouping_s"] = round(time.perf_counter() - t1, 2)

    kel_rows.sort(key=lambda r: r[0])
    kel = pd.DataFrame({"kode": [r[1] for r in kel_rows], "nama": [r[2] for r in kel_rows],
                        "kecamatan_kode": [r[3] for r in kel_rows],
                        "is_kelurahan": [r[4] for r in kel_rows]})
    kel["seed_x"], kel["seed_y"] = xy[:, 0], xy[:, 1]
    kel["prov"] = prov
    kec = pd.DataFrame(kec_rows, columns=["kode", "nama", "prov", "kab", "is_kota"])

    # dissolve kecamatan from exact cells, then densify both with the same edges
    t1 = time.perf_counter()
    kec_geoms = np.empty(len(kec), object)
    order = np.argsort(kec_of, kind="stable")
    bounds = np.searchsorted(kec_of[order], np.arange(len(kec) + 1))
    for c in range(len(kec)):
        kec_geoms[c] = shapely.coverage_union_all(cells[order[bounds[c]:bounds[c + 1]]])
    timings["dissolve_s"] = round(time.perf_counter() - t1, 2)
    t1 = time.perf_counter()
    flat: set = set()
    for attempt in range(4):
        kel_geom = densify(cells, flat)
        kec_geom = densify(kec_geoms, flat)
        bad_kel = ~shapely.is_valid(kel_geom)
        bad_kec = ~shapely.is_valid(kec_geom)
        if not bad_kel.any() and not bad_kec.any():
            break
        flat |= _edges_of(cells[bad_kel]) | _edges_of(kec_geoms[bad_kec])
    else:
        raise RuntimeError("densified boundaries stay invalid")
    timings["densify_s"] = round(time.perf_counter() - t1, 2)
    timings["straightened_edges"] = len(flat)
    kel["geom"] = kel_geom
    kel["area_km2"] = np.round(_sphere_area_km2(shapely.get_geometry(kel_geom, 0)), 4)
    kec["geom"] = kec_geom
    progress(f"boundaries: {len(kec)} kecamatan, {len(kel)} kelurahan/desa "
             f"({int(shapely.get_num_coordinates(kel_geom).sum())} vertices)")

    t1 = time.perf_counter()
    tps = _tps(spec, kel, seed)
    timings["tps_s"] = round(time.perf_counter() - t1, 2)
    progress(f"{len(tps)} TPS placed")
    t1 = time.perf_counter()
    ratings = _ratings(spec, tps, kel, seed)
    readiness = _readiness(tps, seed)
    personnel = _personnel(tps, kel, kec, seed)
    incidents = _incidents(tps, kel, as_of, seed)
    timings["attributes_s"] = round(time.perf_counter() - t1, 2)
    timings["generate_s"] = round(time.perf_counter() - t0, 2)
    return NationalData(kec.drop(columns=["prov", "kab"]), kel, tps, ratings, readiness,
                        personnel, incidents, timings)


def _unique_seats(seat: np.ndarray, n: int, rng) -> np.ndarray:
    seat = seat.copy()
    used: set = set()
    for k in range(len(seat)):
        while int(seat[k]) in used:
            seat[k] = rng.integers(0, n)
        used.add(int(seat[k]))
    return seat


def _fix_total(counts: np.ndarray, cap: np.ndarray, total: int) -> np.ndarray:
    counts = counts.copy()
    while counts.sum() < total:
        room = np.flatnonzero(counts < cap)
        counts[room[np.argmax(cap[room] - counts[room])]] += 1
    while counts.sum() > total:
        counts[np.argmax(counts)] -= 1
    return counts


def _lloyd(xy: np.ndarray, m: int, rng, seat_first: int) -> np.ndarray:
    """m well-spread centres among the points (a few Lloyd steps from a random start)."""
    if m >= len(xy):
        return xy.copy()
    pick = rng.choice(len(xy), m, replace=False)
    if seat_first not in pick:
        pick[0] = seat_first
    centres = xy[pick].copy()
    for _ in range(4):
        lab = np.argmin(np.hypot(xy[:, None, 0] - centres[None, :, 0],
                                 xy[:, None, 1] - centres[None, :, 1]), axis=1)
        for c in range(m):
            sel = lab == c
            if sel.any():
                centres[c] = xy[sel].mean(axis=0)
    return centres


def _tps(spec: Spec, kel: pd.DataFrame, seed: int) -> pd.DataFrame:
    """TPS per kelurahan (varying, kelurahan denser than desa), placed inside, clustered
    around the settlement (the cell's seed). DPT per TPS <= 300, province totals exact."""
    rng = np.random.default_rng([seed, 10])
    counts = np.zeros(len(kel), np.int64)
    dpt_parts = []
    for i, p in enumerate(spec.provinces):
        sel = np.flatnonzero(kel.prov.to_numpy() == i)
        wgt = rng.lognormal(0, 0.7, len(sel)) * np.where(kel.is_kelurahan.to_numpy()[sel], 2.5, 1)
        counts[sel] = _largest_remainder(wgt, p.n_tps, minimum=1)
        counts[sel] = np.minimum(counts[sel], 999)
    kel_idx = np.repeat(np.arange(len(kel)), counts)
    nomor = np.arange(len(kel_idx)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    geoms = kel.geom.to_numpy()
    for g in geoms:
        shapely.prepare(g)
    polys = geoms[kel_idx]
    sx, sy = kel.seed_x.to_numpy()[kel_idx], kel.seed_y.to_numpy()[kel_idx]
    bnds = shapely.bounds(geoms)[kel_idx]
    size = np.minimum(bnds[:, 2] - bnds[:, 0], bnds[:, 3] - bnds[:, 1])
    lon = np.empty(len(kel_idx))
    lat = np.empty(len(kel_idx))
    todo = np.arange(len(kel_idx))
    sigma = 0.22
    for attempt in range(60):
        if attempt < 30:
            x = sx[todo] + rng.normal(0, sigma, len(todo)) * size[todo]
            y = sy[todo] + rng.normal(0, sigma, len(todo)) * size[todo]
        else:   # uniform in the box for the stubborn few
            x = rng.uniform(bnds[todo, 0], bnds[todo, 2])
            y = rng.uniform(bnds[todo, 1], bnds[todo, 3])
        ok = shapely.contains_xy(polys[todo], x, y)
        lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    else:
        raise RuntimeError(f"{len(todo)} TPS could not be placed")
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    # rounding may push a point on the edge out: put those on the seed (always inside)
    out = ~shapely.contains_xy(polys, lon, lat)
    lon[out], lat[out] = sx[out], sy[out]
    # DPT: mostly 200-300 per TPS, province totals exact, never above 300
    for i, p in enumerate(spec.provinces):
        sel = np.flatnonzero(kel.prov.to_numpy()[kel_idx] == i)
        raw = 60 + 240 * rng.beta(6.0, 1.6, len(sel))
        d = np.clip(np.round(raw * p.dpt / raw.sum()), 20, 300).astype(np.int64)
        diff = p.dpt - int(d.sum())
        while diff:
            room = np.flatnonzero(d < 300) if diff > 0 else np.flatnonzero(d > 20)
            take = rng.choice(room, min(abs(diff), len(room)), replace=False)
            d[take] += 1 if diff > 0 else -1
            diff = p.dpt - int(d.sum())
        dpt_parts.append((sel, d))
    dpt = np.empty(len(kel_idx), np.int64)
    for sel, d in dpt_parts:
        dpt[sel] = d
    kode_kel = kel.kode.to_numpy()[kel_idx]
    nomor_s = np.char.zfill(nomor.astype(str), 3)
    kode = np.char.add(np.char.add(kode_kel.astype(str), "-"), nomor_s)
    streets = np.array(tx.STREETS)[rng.integers(0, len(tx.STREETS), len(kel_idx))]
    alamat = np.char.add(np.char.add(streets.astype(str), " RT "),
                         np.char.zfill(rng.integers(1, 20, len(kel_idx)).astype(str), 2))
    return pd.DataFrame({"kode": kode, "kelurahan_kode": kode_kel, "nomor": nomor,
                         "dpt": dpt, "alamat": alamat, "lokasi_khusus": False,
                         "lon": lon, "lat": lat, "kel_idx": kel_idx})


def _ratings(spec: Spec, tps: pd.DataFrame, kel: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Polri class for every TPS; Bawaslu indicators for some; KPU per kelurahan for a few."""
    rng = np.random.default_rng([seed, 11])
    papua = np.array([p.kode.startswith("9") for p in spec.provinces])[
        kel.prov.to_numpy()[tps.kel_idx.to_numpy()]]
    classes = np.array(list(POLRI_MIX))
    u = rng.random(len(tps))
    cum = np.cumsum(list(POLRI_MIX.values()))
    cum_p = np.cumsum(list(POLRI_MIX_PAPUA.values()))
    kelas = np.where(papua, classes[np.searchsorted(cum_p, u * cum_p[-1])],
                     classes[np.searchsorted(cum, u * cum[-1])])
    day = np.datetime_as_string(np.datetime64("2024-01-20")
                                + rng.integers(0, 14, len(tps)).astype("timedelta64[D]"))
    polri = pd.DataFrame({"source": "polri", "tps_row": np.arange(len(tps)),
                          "kelurahan_kode": None, "kelas": kelas, "indicators": "[]",
                          "rated_on": day})
    # Bawaslu: indicator sets for ~4 % of TPS (more where Polri rates rawan)
    pick = np.flatnonzero(rng.random(len(tps)) < np.where(kelas == "kurang_rawan", 0.03, 0.4))
    names = list(tx.BAWASLU_INDICATORS)
    k = rng.integers(1, 5, len(pick))
    inds = [json.dumps(sorted(set(rng.choice(names, int(x)).tolist()))) for x in k]
    bawaslu = pd.DataFrame({"source": "bawaslu", "tps_row": pick, "kelurahan_kode": None,
                            "kelas": None, "indicators": inds,
                            "rated_on": "2024-02-01"})
    kpick = np.flatnonzero(rng.random(len(kel)) < 0.01)
    kpu = pd.DataFrame({"source": "kpu", "tps_row": -1,
                        "kelurahan_kode": kel.kode.to_numpy()[kpick],
                        "kelas": rng.choice(["rawan", "sangat_rawan"], len(kpick), p=[0.85, 0.15]),
                        "indicators": "[]", "rated_on": "2024-02-05"})
    return pd.concat([polri, bawaslu, kpu], ignore_index=True)


def _readiness(tps: pd.DataFrame, seed: int) -> pd.DataFrame:
    from gisdesk.entry.readiness import derive_state
    from gisdesk.entry.taxonomy import load_taxonomy
    rng = np.random.default_rng([seed, 12])
    tax = load_taxonomy()
    keys = list(tax.readiness_keys)
    critical = [i.key for i in tax.readiness if i.critical]
    partial = [i.key for i in tax.readiness if not i.critical]
    labels = {i.key: i.label for i in tax.readiness}
    # a few dozen item patterns, reused (the state follows from the items as in entry)
    patterns = [({k: True for k in keys}, None)]
    for n_missing, crit in [(1, False)] * 12 + [(2, False)] * 8 + [(2, True)] * 10:
        miss = set(rng.choice(partial, min(n_missing, len(partial)), replace=False).tolist())
        if crit and critical:
            miss.add(str(rng.choice(critical)))
        items = {k: k not in miss for k in keys}
        note = "Belum lengkap: " + ", ".join(labels[k] for k in keys if k in miss)
        patterns.append((items, note))
    states = [derive_state(items, tax) for items, _ in patterns]
    by_state: dict[str, list[int]] = {}
    for i, s in enumerate(states):
        by_state.setdefault(s, []).append(i)
    u = rng.random(len(tps))
    want = np.where(u < 0.012, "belum", np.where(u < 0.10, "sebagian", "siap"))
    choice = np.zeros(len(tps), np.int64)
    for state, idx in by_state.items():
        sel = want == state
        choice[sel] = rng.choice(idx, int(sel.sum()))
    js = np.array([json.dumps(items) for items, _ in patterns], object)
    notes = np.array([note for _, note in patterns], object)
    return pd.DataFrame({"tps_row": np.arange(len(tps)), "state": np.array(states)[choice],
                         "items": js[choice], "note": notes[choice],
                         "minutes_before": rng.integers(90, 16 * 60, len(tps))})


def _personnel(tps: pd.DataFrame, kel: pd.DataFrame, kec: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Polri per kelurahan near the 2-4-8 need (some short, some over), Linmas 2 per TPS
    (with gaps), a Polsek reserve per kecamatan."""
    rng = np.random.default_rng([seed, 13])
    n = np.bincount(tps.kel_idx.to_numpy(), minlength=len(kel))
    polri = np.maximum(0, np.round(2 * np.ceil(n / 4) * rng.choice(
        [0.5, 0.8, 1.0, 1.0, 1.0, 1.2], len(kel)))).astype(np.int64)
    linmas = np.maximum(0, 2 * n - rng.choice([0, 0, 0, 1, 2, 4], len(kel)))
    kode = kel.kode.to_numpy()
    kec_kode = kel.kecamatan_kode.to_numpy()
    rows = pd.concat([
        pd.DataFrame({"agency": "polri", "target": "kelurahan", "kelurahan_kode": kode,
                      "kecamatan_kode": kec_kode, "unit": None, "count": polri}),
        pd.DataFrame({"agency": "linmas", "target": "kelurahan", "kelurahan_kode": kode,
                      "kecamatan_kode": kec_kode, "unit": None, "count": linmas}),
        pd.DataFrame({"agency": "polri", "target": "reserve", "kelurahan_kode": None,
                      "kecamatan_kode": kec.kode.to_numpy(),
                      "unit": ["Polsek " + x for x in kec.nama],
                      "count": rng.integers(4, 16, len(kec))}),
    ], ignore_index=True)
    return rows


def _incidents(tps: pd.DataFrame, kel: pd.DataFrame, as_of: dt.datetime, seed: int,
               n: int | None = None) -> pd.DataFrame:
    """A few thousand reports (about one per 250 TPS), 30-400 m from a TPS, inside its
    kelurahan, over the 72 h before as_of."""
    from gisdesk.demo.generate import incident_content_hash
    rng = np.random.default_rng([seed, 14])
    n = n if n is not None else max(20, len(tps) // 250)
    cats = list(tx.INCIDENT_CATEGORIES)
    p_cat = np.array([v[1] for v in tx.INCIDENT_CATEGORIES.values()], float)
    p_cat /= p_cat.sum()
    anchor = rng.choice(len(tps), n, replace=False)
    geoms = kel.geom.to_numpy()
    t_lon, t_lat = tps.lon.to_numpy()[anchor], tps.lat.to_numpy()[anchor]
    kidx = tps.kel_idx.to_numpy()[anchor]
    lon, lat = t_lon.copy(), t_lat.copy()
    dist = np.zeros(n)
    todo = np.arange(n)
    for attempt in range(40):
        r = rng.uniform(30, 400 * 0.9 ** attempt, len(todo))
        ang = rng.uniform(0, 2 * np.pi, len(todo))
        x = t_lon[todo] + r * np.cos(ang) / (KM_PER_DEG * 1000 * np.cos(np.radians(t_lat[todo])))
        y = t_lat[todo] + r * np.sin(ang) / (KM_PER_DEG * 1000)
        x, y = np.round(x, 7), np.round(y, 7)
        ok = shapely.contains_xy(geoms[kidx[todo]], x, y)
        lon[todo[ok]], lat[todo[ok]], dist[todo[ok]] = x[ok], y[ok], r[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    rows = []
    for i in range(n):
        cat = cats[int(rng.choice(len(cats), p=p_cat))]
        sev_w = np.array(tx.INCIDENT_CATEGORIES[cat][2], float)
        severity = ["ringan", "sedang", "berat"][int(rng.choice(3, p=sev_w / sev_w.sum()))]
        occurred = as_of - dt.timedelta(minutes=int(rng.integers(20, 72 * 60)))
        status = ["reported", "verified", "resolved", "rejected"][
            int(rng.choice(4, p=[0.30, 0.35, 0.22, 0.13]))]
        texts = tx.INCIDENT_CATEGORIES[cat][3]
        reported = min(occurred + dt.timedelta(minutes=int(rng.integers(5, 120))), as_of)
        who = tx.REPORTERS[int(rng.integers(len(tx.REPORTERS)))]
        record = {"id": uuid.uuid5(NAMESPACE, f"{seed}:incident:{i}"), "category": cat,
                  "severity": severity, "status": status,
                  "description": texts[int(rng.integers(len(texts)))],
                  "occurred_at": occurred.astimezone(dt.timezone.utc),
                  "reported_at": reported.astimezone(dt.timezone.utc),
                  "reporter_name": f"{who} {kel.nama.iat[kidx[i]]}",
                  "lon": float(lon[i]), "lat": float(lat[i]),
                  "kelurahan_kode": kel.kode.iat[kidx[i]], "tps_row": int(anchor[i]),
                  "tps_distance_m": round(float(dist[i]), 1)}
        record["content_hash"] = incident_content_hash(record)
        reviewed = status != "reported"
        record["reviewed_by"] = "supervisor" if reviewed else None
        record["reviewed_at"] = (min(reported + dt.timedelta(minutes=int(rng.integers(10, 120))),
                                     as_of).astimezone(dt.timezone.utc) if reviewed else None)
        record["review_note"] = tx.REVIEW_NOTES.get(status)
        rows.append(record)
    return pd.DataFrame(rows)


# --- loading -----------------------------------------------------------------------------

def _existing(conn: Connection):
    """Boundaries already loaded (e.g. the Mataram demo): their area and kab/kota codes."""
    row = conn.execute(text("""
        SELECT ST_AsBinary(ST_Buffer(ST_Union(ST_Envelope(geom)), 0.01)),
               array_agg(DISTINCT left(kode, 5))
        FROM kelurahan WHERE source IS DISTINCT FROM :s"""), {"s": SOURCE}).one()
    if row[0] is None:
        return None, set()
    return shapely.from_wkb(bytes(row[0])), set(row[1])


def _copy(cur, table: str, columns, rows) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)


def _copy_text(cur, table: str, columns, frame_cols) -> None:
    """Fast text COPY of columns given as arrays (None -> NULL); values must be clean
    (no tabs/newlines/backslashes)."""
    def cell(v):
        if v is None or (isinstance(v, float) and v != v):
            return "\\N"
        if isinstance(v, (bool, np.bool_)):
            return "t" if v else "f"
        return str(v)
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buf = []
        size = 0
        for row in zip(*frame_cols):
            line = "\t".join(cell(v) for v in row) + "\n"
            buf.append(line)
            size += len(line)
            if size > 1 << 20:
                copy.write("".join(buf))
                buf, size = [], 0
        if buf:
            copy.write("".join(buf))


def _hex(geoms) -> np.ndarray:
    return shapely.to_wkb(geoms, hex=True, include_srid=True, output_dimension=2)


BULK_TABLES = ("kecamatan", "kelurahan", "tps", "rating", "tps_readiness",
               "tps_readiness_history", "personnel_assignment")


def _drop_indexes(cur) -> list[str]:
    """Drop the plain (non-constraint) indexes of the bulk tables; return their definitions
    to build again after the load (faster than maintaining them row by row)."""
    cur.execute("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
                (list(BULK_TABLES),))
    found = cur.fetchall()
    for name, _ in found:
        cur.execute(f'DROP INDEX "{name}"')
    return [d for _, d in found]


def load_national(conn: Connection, *, seed: int = 2024, spec: Spec | None = None,
                  activate: bool = False, actor: str = "demo",
                  as_of: dt.datetime | None = None, progress=lambda message: None) -> dict:
    """Generate and load the national demo in the caller's transaction (one is opened if
    none is). Idempotent: an existing ``pemilu-2024-nasional`` is left as it is."""
    if conn.in_transaction():
        return _load(conn, seed, spec, activate, actor, as_of or DEFAULT_AS_OF, progress)
    with conn.begin():
        return _load(conn, seed, spec, activate, actor, as_of or DEFAULT_AS_OF, progress)


def _load(conn, seed, spec, activate, actor, as_of, progress) -> dict:
    started = time.perf_counter()
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.demo.national'))"))
    eid = conn.execute(text("SELECT id FROM election WHERE kode = :k"),
                       {"k": ELECTION["kode"]}).scalar()
    if eid is not None:
        if activate:
            conn.execute(text("UPDATE election SET active = false WHERE active AND id <> :e"),
                         {"e": eid})
            conn.execute(text("UPDATE election SET active = true WHERE id = :e"), {"e": eid})
        return {**national_counts(conn, eid), "created": False}
    # boundaries of an earlier, abandoned national load go first
    conn.execute(text("DELETE FROM kelurahan WHERE source = :s"), {"s": SOURCE})
    conn.execute(text("DELETE FROM kecamatan WHERE source = :s"), {"s": SOURCE})
    exclude, reserved = _existing(conn)
    data = generate(spec, seed=seed, exclude=exclude, reserved_kab=reserved, as_of=as_of,
                    progress=progress)
    t_load = time.perf_counter()
    if activate:
        conn.execute(text("UPDATE election SET active = false WHERE active"))
    eid = conn.execute(text(
        "INSERT INTO election (kode, nama, kind, voting_date, campaign_start, "
        "max_voters_per_tps, wilayah_kode, active, is_demo, pinned_as_of) VALUES "
        "(:kode, :nama, :kind, :vd, :cs, :mx, NULL, :active, true, :as_of) RETURNING id"),
        {"kode": ELECTION["kode"], "nama": ELECTION["nama"], "kind": ELECTION["kind"],
         "vd": dt.date.fromisoformat(ELECTION["voting_date"]),
         "cs": dt.date.fromisoformat(ELECTION["campaign_start"]),
         "mx": ELECTION["max_voters_per_tps"], "active": bool(activate),
         "as_of": as_of}).scalar_one()
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("LOCK TABLE tps IN SHARE ROW EXCLUSIVE MODE")
        indexes = _drop_indexes(cur)
        # Foreign-key triggers cost more than the copy itself (one lookup per row). The
        # generator makes every reference itself, so where the role may (superuser, e.g. the
        # embedded cluster) they are skipped for the copy and the references checked once
        # below with set-based queries instead.
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        skip_fk = bool(cur.fetchone()[0])
        if skip_fk:
            cur.execute("SET LOCAL session_replication_role = replica")
        write_national(cur, eid, data, actor, as_of, progress)
        if skip_fk:
            cur.execute("SET LOCAL session_replication_role = origin")
            _check_references(cur, eid)
        t_idx = time.perf_counter()
        for ddl in indexes:
            cur.execute(ddl)
        for table in BULK_TABLES + ("incident",):
            cur.execute(f"ANALYZE {table}")
        index_s = round(time.perf_counter() - t_idx, 2)
    counts = {**national_counts(conn, eid), "created": True}
    counts["timings"] = {**data.timings, "copy_s": round(t_idx - t_load, 2), "index_s": index_s,
                         "total_s": round(time.perf_counter() - started, 2)}
    audit.record(conn, actor, "demo.load", ELECTION["kode"],
                 {"seed": seed, "as_of": as_of.isoformat(), "scale": "national",
                  "counts": {k: v for k, v in counts.items() if k != "timings"}})
    LOGGER.info("national demo loaded: %s", counts)
    return counts


def _check_references(cur, eid: int) -> None:
    """What the skipped foreign keys would have checked, once per table."""
    checks = {
        "kelurahan -> kecamatan": "SELECT count(*) FROM kelurahan k WHERE k.source = %(s)s "
        "AND NOT EXISTS (SELECT 1 FROM kecamatan c WHERE c.kode = k.kecamatan_kode)",
        "tps -> kelurahan": "SELECT count(*) FROM tps t WHERE t.election_id = %(e)s "
        "AND NOT EXISTS (SELECT 1 FROM kelurahan k WHERE k.kode = t.kelurahan_kode)",
        "rating -> tps": "SELECT count(*) FROM rating r WHERE r.election_id = %(e)s "
        "AND r.tps_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tps t WHERE t.id = r.tps_id)",
        "readiness -> tps": "SELECT count(*) FROM tps_readiness r WHERE NOT EXISTS "
        "(SELECT 1 FROM tps t WHERE t.id = r.tps_id)",
        "incident -> tps": "SELECT count(*) FROM incident i WHERE i.election_id = %(e)s "
        "AND NOT EXISTS (SELECT 1 FROM tps t WHERE t.id = i.tps_id)",
    }
    for name, sql in checks.items():
        cur.execute(sql, {"e": eid, "s": SOURCE})
        bad = cur.fetchone()[0]
        if bad:
            raise RuntimeError(f"national demo: {bad} broken references {name}")


def write_national(cur, eid: int, data: NationalData, actor: str, as_of: dt.datetime,
                   progress=lambda message: None) -> None:
    """COPY everything (psycopg cursor in an open transaction)."""
    kec, kel, tps = data.kecamatan, data.kelurahan, data.tps
    _copy_text(cur, "kecamatan", ("kode", "nama", "geom", "source"),
               (kec.kode, kec.nama, _hex(kec.geom.to_numpy()), [SOURCE] * len(kec)))
    _copy_text(cur, "kelurahan", ("kode", "nama", "kecamatan_kode", "area_km2", "geom", "source"),
               (kel.kode, kel.nama, kel.kecamatan_kode, kel.area_km2,
                _hex(kel.geom.to_numpy()), [SOURCE] * len(kel)))
    progress("boundaries copied")
    # TPS ids taken from the sequence as one block, so ratings/readiness can refer to them
    cur.execute("SELECT pg_get_serial_sequence('tps', 'id')")
    seq = cur.fetchone()[0]
    cur.execute("SELECT nextval(%s)", (seq,))
    base = cur.fetchone()[0]
    cur.execute("SELECT setval(%s, %s)", (seq, base + len(tps)))
    ids = np.arange(base, base + len(tps))
    pts = np.char.add(np.char.add(np.char.add("SRID=4326;POINT(", tps.lon.map("{:.7f}".format)
                                              .to_numpy().astype(str)), " "),
                      np.char.add(tps.lat.map("{:.7f}".format).to_numpy().astype(str), ")"))
    _copy_text(cur, "tps", ("id", "election_id", "kode", "kelurahan_kode", "nomor", "dpt",
                            "alamat", "lokasi_khusus", "geom"),
               (ids, [eid] * len(tps), tps.kode, tps.kelurahan_kode, tps.nomor, tps.dpt,
                tps.alamat, tps.lokasi_khusus, pts))
    progress("TPS copied")
    r = data.ratings
    tps_id = np.where(r.tps_row.to_numpy() >= 0, base + r.tps_row.to_numpy(), -1)
    _copy_text(cur, "rating", ("election_id", "source", "tps_id", "kelurahan_kode", "kelas",
                               "indicators", "rated_on", "note"),
               ([eid] * len(r), r.source, [None if t < 0 else int(t) for t in tps_id],
                r.kelurahan_kode, r.kelas, r.indicators, r.rated_on, [None] * len(r)))
    rd = data.readiness
    at = [(as_of - dt.timedelta(minutes=int(m))).astimezone(dt.timezone.utc).isoformat()
          for m in rd.minutes_before]
    rid = base + rd.tps_row.to_numpy()
    _copy_text(cur, "tps_readiness", ("tps_id", "state", "items", "note", "updated_at",
                                      "updated_by"),
               (rid, rd.state, rd["items"], rd.note, at, [actor] * len(rd)))
    _copy_text(cur, "tps_readiness_history", ("tps_id", "state", "items", "note",
                                              "recorded_at", "recorded_by"),
               (rid, rd.state, rd["items"], rd.note, at, [actor] * len(rd)))
    p = data.personnel
    _copy_text(cur, "personnel_assignment", ("election_id", "agency", "target",
                                             "kelurahan_kode", "kecamatan_kode", "unit",
                                             "count", "created_by"),
               ([eid] * len(p), p.agency, p.target, p.kelurahan_kode, p.kecamatan_kode,
                p.unit, p["count"], [actor] * len(p)))
    i = data.incidents
    _copy(cur, "incident", ("id", "election_id", "category", "severity", "description",
                            "occurred_at", "reported_at", "reporter_name", "status", "geom",
                            "kelurahan_kode", "tps_id", "tps_distance_m", "content_hash",
                            "reviewed_by", "reviewed_at", "review_note"),
          ((r_["id"], eid, r_["category"], r_["severity"], r_["description"],
            r_["occurred_at"], r_["reported_at"], r_["reporter_name"], r_["status"],
            f"SRID=4326;POINT({r_['lon']:.7f} {r_['lat']:.7f})", r_["kelurahan_kode"],
            int(base + r_["tps_row"]), r_["tps_distance_m"], r_["content_hash"],
            r_["reviewed_by"], _none(r_["reviewed_at"]), r_["review_note"])
           for r_ in i.to_dict("records")))
    progress("ratings, readiness, personnel, incidents copied")


def _none(v):
    return None if v is None or v != v else v


def national_counts(conn: Connection, election_id: int) -> dict:
    row = conn.execute(text("""
        SELECT (SELECT count(*) FROM tps WHERE election_id = :e) AS tps,
               (SELECT coalesce(sum(dpt), 0) FROM tps WHERE election_id = :e) AS dpt,
               (SELECT count(DISTINCT kelurahan_kode) FROM tps WHERE election_id = :e)
                 AS kelurahan,
               (SELECT count(DISTINCT left(kelurahan_kode, 8)) FROM tps WHERE election_id = :e)
                 AS kecamatan,
               (SELECT count(DISTINCT left(kelurahan_kode, 5)) FROM tps WHERE election_id = :e)
                 AS kabkota,
               (SELECT count(*) FROM rating WHERE election_id = :e) AS ratings,
               (SELECT count(*) FROM incident WHERE election_id = :e) AS incidents,
               (SELECT count(*) FROM personnel_assignment WHERE election_id = :e) AS personnel
        """), {"e": election_id}).mappings().one()
    return {"election_id": election_id, **{k: int(v) for k, v in row.items()}}
