"""Pure, seeded generation of the Mataram demo from the kelurahan polygons (no database).

``generate(kelurahan, seed=..., as_of=...)`` returns plain frames (TPS, facilities, ratings,
readiness, personnel, incidents) that ``gisdesk.demo.load`` writes. Each part draws from its
own random stream (``[seed, part]``), so changing one part never shifts the others.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gisdesk.demo import taxonomy as tx
from gisdesk.entry.incidents import IncidentInput
from gisdesk.entry.readiness import derive_state
from gisdesk.entry.taxonomy import Taxonomy, load_taxonomy

UTM = "EPSG:32750"           # metric work for Lombok
EDGE_M = 12.0                # TPS and facilities stay this far inside their kelurahan's own part
MIN_TPS_SPACING_M = 20.0
WITA = dt.timezone(dt.timedelta(hours=8))
DEFAULT_AS_OF = dt.datetime(2024, 2, 14, 10, 0, tzinfo=WITA)   # voting morning
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://gisdesk.invalid/demo/pemilu-2024-mataram")
_PARTS = {"tps": 1, "facilities": 2, "ratings": 3, "readiness": 4, "personnel": 5,
          "incidents": 6, "hot": 7}
_TO_WGS84 = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class DemoData:
    # kode, kelurahan_kode, kecamatan_kode, nomor, dpt, alamat, lokasi_khusus, lon, lat
    tps: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame  # kind, nama, alamat, lon, lat
    # source, tps_kode | kelurahan_kode, kelas, indicators, rated_on, note
    ratings: pd.DataFrame
    readiness: pd.DataFrame       # tps_kode, state, items, note, updated_at, client_uuid
    # agency, target, tps_kode, kelurahan_kode, kecamatan_kode, unit, count, note
    personnel: pd.DataFrame
    incidents: gpd.GeoDataFrame   # id, category, severity, ..., status, lon, lat, content_hash
    hot: tuple[str, ...]          # kelurahan where trouble concentrates (the map's story)
    lagging: tuple[str, ...]      # kelurahan where readiness and Linmas lag


def _rng(seed: int, part: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), _PARTS[part]])


def _wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_WGS84.transform(np.asarray(x, float), np.asarray(y, float))
    return np.round(lon, 7), np.round(lat, 7)


def tps_digest(rows) -> str:
    """SHA-256 over (kode, lon, lat, dpt) sorted by kode: equal digests = the same TPS layer."""
    digest = hashlib.sha256()
    for kode, lon, lat, dpt in sorted((r[0], float(r[1]), float(r[2]), int(r[3])) for r in rows):
        digest.update(f"{kode}|{lon:.7f}|{lat:.7f}|{dpt}\n".encode())
    return digest.hexdigest()


def incident_content_hash(record: dict) -> str:
    """The hash incident entry stores for this content, so that the same report sent again
    through the API with the demo's UUID is recognised as a repeat."""
    occurred = pd.Timestamp(record["occurred_at"]).tz_convert("UTC").to_pydatetime()
    return IncidentInput(
        id=str(record["id"]), category=record["category"], severity=record["severity"],
        description=record["description"], occurred_at=occurred,
        lon=float(record["lon"]), lat=float(record["lat"]), coord_field="geometry", tps=None,
        reporter_name=record.get("reporter_name"), confirm_warnings=False).content_hash


# --- geometry -------------------------------------------------------------------------------

def prepare_kelurahan(kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Kelurahan in UTM, sorted by code, with ``core``: the part no neighbour overlaps,
    shrunk by EDGE_M, where generated points may go."""
    kel = (kelurahan[["kode", "nama", "kecamatan_kode", "geometry"]].to_crs(UTM)
           .sort_values("kode").reset_index(drop=True))
    geoms = shapely.make_valid(kel.geometry.values)
    tree = shapely.STRtree(geoms)
    cores = []
    for i, geom in enumerate(geoms):
        others = [geoms[j] for j in tree.query(geom, predicate="intersects") if j != i]
        own = geom.difference(shapely.union_all(others)) if others else geom
        core = own.buffer(-EDGE_M)
        if core.is_empty:
            raise ValueError(f"kelurahan {kel.kode[i]} has no interior left for demo points")
        cores.append(core)
    kel["geometry"] = geoms
    kel["core"] = gpd.GeoSeries(cores, crs=UTM)
    kel["area_km2"] = kel.geometry.area / 1e6
    return kel


def _sample(core, n: int, rng: np.random.Generator, around=None, sigma=None) -> np.ndarray:
    """n points (x, y) in ``core``: uniform, or normal around a point with ``sigma`` metres."""
    shapely.prepare(core)
    minx, miny, maxx, maxy = core.bounds
    out = np.empty((0, 2))
    for _ in range(200):
        m = max(4 * n, 16)
        if around is None:
            xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        else:
            xy = rng.normal(around, sigma, size=(m, 2))
        xy = xy[shapely.contains_xy(core, xy[:, 0], xy[:, 1])]
        out = np.vstack([out, xy])
        if len(out) >= n:
            return out[:n]
    if around is not None:      # the cluster centre is at a narrow spot: fall back to uniform
        return np.vstack([out, _sample(core, n - len(out), rng)])
    raise ValueError("could not place points inside a kelurahan")


def _neighbours(kel: gpd.GeoDataFrame, i: int) -> list[int]:
    near = kel.geometry.distance(kel.geometry[i]) < 30
    return [j for j in np.flatnonzero(near.values) if j != i]


# --- TPS ----------------------------------------------------------------------------------

def _tps_counts(kel: gpd.GeoDataFrame, rng: np.random.Generator) -> np.ndarray:
    """TPS per kelurahan, proportional to a population weight: area x density, denser
    towards the old centre (Mataram/Cakranegara), at least 8."""
    centre = shapely.union_all(kel.geometry.values).centroid
    dist_km = kel.geometry.centroid.distance(centre).values / 1000
    centrality = 0.6 + 0.9 * np.exp(-dist_km / 2.5)
    density = kel.kecamatan_kode.map(tx.KECAMATAN_DENSITY).values * centrality
    weight = (kel.area_km2.values * density) ** 0.8 * rng.lognormal(0, 0.12, len(kel))
    floor = 8
    quota = floor + weight / weight.sum() * (tx.N_TPS - floor * len(kel))
    counts = np.floor(quota).astype(int)
    rest = tx.N_TPS - counts.sum()
    counts[np.argsort(-(quota - counts), kind="stable")[:rest]] += 1
    return counts


def _dpt(n: int, khusus: int, rng: np.random.Generator) -> np.ndarray:
    """DPT per TPS: mostly 230-300, some small TPS, summing exactly to the city's DPT."""
    dpt = np.clip(np.round(rng.normal(264, 15, n)), 228, tx.MAX_DPT).astype(int)
    small = rng.random(n) < 0.12
    dpt[small] = rng.integers(140, 230, small.sum())
    dpt[khusus] = rng.integers(130, 190)
    free = np.ones(n, bool)
    free[khusus] = False
    while (diff := tx.DPT_TOTAL - dpt.sum()) != 0:
        step = 1 if diff > 0 else -1
        ok = np.flatnonzero(free & ((dpt < tx.MAX_DPT) if step > 0 else (dpt > 140)))
        pick = rng.choice(ok, size=min(abs(diff), len(ok)), replace=False)
        dpt[pick] += step
    return dpt


def _lingkungan_names(k: int, rng: np.random.Generator) -> list[str]:
    combos = [f"{p} {s}" for p in tx.LINGKUNGAN_PREFIX for s in tx.LINGKUNGAN_SUFFIX]
    return [combos[i] for i in rng.choice(len(combos), size=k, replace=False)]


def _place_tps(core, n: int, rng: np.random.Generator):
    """n TPS points grouped in lingkungan (about 4 TPS each), at least MIN_TPS_SPACING_M apart.
    Returns points in TPS-number order and an alamat for each."""
    n_ling = math.ceil(n / 4)
    centres = _sample(core, n_ling, rng)
    centres = centres[np.lexsort((centres[:, 0], -centres[:, 1]))]   # north to south
    names = _lingkungan_names(n_ling, rng)
    streets = rng.choice(len(tx.STREETS), size=n_ling)
    points, alamat = [], []
    for t in range(n):
        li = t * n_ling // n
        for _ in range(50):
            p = _sample(core, 1, rng, around=centres[li], sigma=110)[0]
            if not points or np.min(np.hypot(*(np.array(points) - p).T)) >= MIN_TPS_SPACING_M:
                break
        points.append(p)
        alamat.append(f"{tx.STREETS[streets[li]]} No. {rng.integers(1, 150)} / "
                      f"Lingkungan {names[li]}")
    return np.array(points), alamat


def generate_tps(kel: gpd.GeoDataFrame, seed: int) -> tuple[gpd.GeoDataFrame, str]:
    """1,248 TPS with DPT; the one lokasi khusus (the women's prison) in Selaparang.
    Returns the TPS and the kode of the prison's kelurahan."""
    rng = _rng(seed, "tps")
    counts = _tps_counts(kel, rng)
    selaparang = np.flatnonzero(kel.kecamatan_kode.values == tx.PRISON["kecamatan_kode"])
    prison_i = int(rng.choice(selaparang))
    rows = []
    for i, row in kel.iterrows():
        xy, alamat = _place_tps(row.core, int(counts[i]), rng)
        for nomor in range(1, counts[i] + 1):
            khusus = i == prison_i and nomor == counts[i]
            rows.append({"kode": f"{row.kode}-{nomor:03d}", "kelurahan_kode": row.kode,
                         "kecamatan_kode": row.kecamatan_kode, "nomor": nomor,
                         "alamat": tx.PRISON["alamat"] if khusus else alamat[nomor - 1],
                         "lokasi_khusus": khusus, "x": xy[nomor - 1, 0], "y": xy[nomor - 1, 1]})
    tps = pd.DataFrame(rows)
    tps["dpt"] = _dpt(len(tps), int(np.flatnonzero(tps.lokasi_khusus)[0]), rng)
    tps["lon"], tps["lat"] = _wgs84(tps.x, tps.y)
    geometry = gpd.points_from_xy(tps.lon, tps.lat, crs="EPSG:4326")
    return gpd.GeoDataFrame(tps, geometry=geometry), str(kel.kode[prison_i])


def pick_hot(kel: gpd.GeoDataFrame, tps: pd.DataFrame, prison_kode: str, seed: int):
    """Hot kelurahan: three seeds in different kecamatan, each with one neighbour (so trouble
    clusters on the map); lagging: the first hot one and a small coastal kelurahan."""
    rng = _rng(seed, "hot")
    n_tps = tps.groupby("kelurahan_kode").size()
    hot: list[str] = []
    kecs = rng.permutation(sorted(tx.KECAMATAN))
    def free(i) -> bool:
        return kel.kode[i] not in hot and kel.kode[i] != prison_kode

    for kec in kecs:
        if len(hot) >= 6:
            break
        cand = [i for i in np.flatnonzero(kel.kecamatan_kode.values == kec)
                if free(i) and n_tps[kel.kode[i]] >= 15]
        if not cand:
            continue
        i = int(rng.choice(cand))
        nbrs = [j for j in _neighbours(kel, i) if free(j)]
        if not nbrs:
            continue
        hot += [kel.kode[i], kel.kode[int(rng.choice(nbrs))]]
    coastal = [k for k in kel.kode if k[:8] in ("52.71.01", "52.71.04") and k not in hot
               and n_tps[k] <= n_tps.median()]
    lagging = (hot[0], str(rng.choice(coastal)))
    return tuple(hot), lagging


# --- facilities ---------------------------------------------------------------------------

def generate_facilities(kel: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    rng = _rng(seed, "facilities")
    by_name = {row.nama: row for row in kel.itertuples()}
    rows = []

    def add(kind, nama, row):
        x, y = _sample(row.core, 1, rng)[0]
        street = tx.STREETS[rng.integers(len(tx.STREETS))]
        rows.append({"kind": kind, "nama": nama, "alamat": f"{street}, Kel. {row.nama}",
                     "x": x, "y": y})

    for row in kel.itertuples():
        add("pps", f"Sekretariat PPS {row.nama}", row)
    for kec, kec_nama in tx.KECAMATAN.items():
        members = [r for r in kel.itertuples() if r.kecamatan_kode == kec]
        if not members:
            continue
        add("ppk", f"Sekretariat PPK {kec_nama}", members[rng.integers(len(members))])
        add("polsek", f"Polsek {kec_nama}", members[rng.integers(len(members))])
    for nama, kel_nama in tx.PUSKESMAS.items():
        if kel_nama in by_name:
            add("puskesmas", nama, by_name[kel_nama])
    for kind, nama, kel_nama in tx.CITY_OFFICES:
        add(kind, nama, by_name.get(kel_nama, kel.iloc[0]))
    fac = pd.DataFrame(rows)
    fac["lon"], fac["lat"] = _wgs84(fac.x, fac.y)
    return gpd.GeoDataFrame(fac.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(fac.lon, fac.lat, crs="EPSG:4326"))


# --- ratings --------------------------------------------------------------------------------

def _near_hotspot(tps: pd.DataFrame, hot: tuple[str, ...], rng) -> pd.Series:
    """Weight of each TPS in a hot kelurahan: higher near one hotspot per kelurahan."""
    weight = pd.Series(0.0, index=tps.index)
    for kode in hot:
        idx = tps.index[tps.kelurahan_kode == kode]
        spot = tps.loc[rng.choice(idx), ["x", "y"]].to_numpy(float)
        d = np.hypot(tps.loc[idx, "x"] - spot[0], tps.loc[idx, "y"] - spot[1])
        weight[idx] = np.exp(-d / 350.0)
    return weight


def _date(rng, start: str, days: int) -> dt.date:
    return dt.date.fromisoformat(start) + dt.timedelta(days=int(rng.integers(0, days)))


def generate_ratings(tps: pd.DataFrame, kel: gpd.GeoDataFrame, hot, lagging, seed: int):
    """Polri classes for every TPS, KPU classes for a subset (some disagreeing), Bawaslu
    indicator sets for a subset, and two kelurahan-level ratings."""
    rng = _rng(seed, "ratings")
    in_hot = tps.kelurahan_kode.isin(hot).to_numpy()
    khusus = tps.lokasi_khusus.to_numpy()
    polri = np.full(len(tps), "kurang_rawan", dtype=object)
    polri[khusus] = "khusus"
    w = _near_hotspot(tps, hot, rng).to_numpy()
    hot_idx = np.flatnonzero(in_hot & ~khusus)
    ranked = hot_idx[np.argsort(-w[hot_idx] * rng.uniform(0.7, 1.0, len(hot_idx)))]
    n_sr, n_rawan_hot = int(rng.integers(3, 6)), int(rng.integers(22, 29))
    polri[ranked[:n_sr]] = "sangat_rawan"
    polri[ranked[n_sr:n_sr + n_rawan_hot]] = "rawan"
    cold = np.flatnonzero(~in_hot & ~khusus)
    polri[rng.choice(cold, size=int(rng.integers(6, 11)), replace=False)] = "rawan"

    rows = [{"source": "polri", "tps_kode": k, "kelas": c, "indicators": [],
             "rated_on": _date(rng, "2024-02-01", 8),
             "note": "TPS lokasi khusus (lapas)" if c == "khusus" else None}
            for k, c in zip(tps.kode, polri)]

    # KPU: a subset (all hot TPS, the prison and ~40 % of the rest); disagreements both ways
    kpu_mask = in_hot | khusus | (rng.random(len(tps)) < 0.4)
    kpu = polri.copy()
    in_focus = tps.kelurahan_kode.isin(hot + lagging).to_numpy()
    lag_or_hot = np.flatnonzero(kpu_mask & (polri == "kurang_rawan") & in_focus)
    others = np.flatnonzero(kpu_mask & (polri == "kurang_rawan") & ~in_focus)
    kpu[rng.choice(lag_or_hot, size=min(8, len(lag_or_hot)), replace=False)] = "rawan"
    kpu[rng.choice(others, size=5, replace=False)] = "rawan"
    rawan_rated = np.flatnonzero(kpu_mask & (polri == "rawan"))
    kpu[rng.choice(rawan_rated, size=min(4, len(rawan_rated)), replace=False)] = "kurang_rawan"
    kpu[np.flatnonzero(polri == "sangat_rawan")[:1]] = "rawan"
    for i in np.flatnonzero(kpu_mask):
        rows.append({"source": "kpu", "tps_kode": tps.kode[i], "kelas": kpu[i], "indicators": [],
                     "rated_on": _date(rng, "2024-01-22", 10), "note": None})

    # Bawaslu: indicator sets; most TPS none, some 1-2, a few 3+
    ids = list(tx.BAWASLU_INDICATORS)
    w_cold = np.array([v[0] for v in tx.BAWASLU_INDICATORS.values()], float)
    w_hot = np.array([v[1] for v in tx.BAWASLU_INDICATORS.values()], float)
    for i in range(len(tps)):
        if rng.random() >= (0.45 if in_hot[i] else 0.11):
            continue
        n = int(rng.choice([1, 2, 3, 4], p=[0.66, 0.27, 0.05, 0.02]))
        n += int(in_hot[i] and polri[i] in ("rawan", "sangat_rawan") and rng.random() < 0.4)
        weights = w_hot if in_hot[i] else w_cold
        picked = rng.choice(len(ids), size=min(n, int((weights > 0).sum())), replace=False,
                            p=weights / weights.sum())
        rows.append({"source": "bawaslu", "tps_kode": tps.kode[i], "kelas": None,
                     "indicators": sorted(ids[j] for j in picked),
                     "rated_on": _date(rng, "2024-02-05", 6), "note": None})

    nama = dict(zip(kel.kode, kel.nama))
    n_tps = tps.groupby("kelurahan_kode").size()
    worst = min(hot, key=lambda k: (n_tps[k], k))     # a whole kelurahan rated: keep it small
    rows.append({"source": "bawaslu", "kelurahan_kode": worst, "kelas": "rawan",
                 "indicators": ["riwayat_kekerasan", "politik_uang"],
                 "rated_on": dt.date(2024, 1, 30),
                 "note": f"Kelurahan {nama[worst]}: riwayat gesekan antar pendukung (IKP TPS)"})
    rows.append({"source": "kpu", "kelurahan_kode": lagging[1], "kelas": "rawan", "indicators": [],
                 "rated_on": dt.date(2024, 1, 18),
                 "note": f"Kelurahan {nama[lagging[1]]}: rawan banjir rob / genangan"})
    return pd.DataFrame(rows).reindex(columns=["source", "tps_kode", "kelurahan_kode", "kelas",
                                               "indicators", "rated_on", "note"])


# --- readiness ----------------------------------------------------------------------------

def generate_readiness(tps: pd.DataFrame, lagging, as_of: dt.datetime, seed: int,
                       tax: Taxonomy | None = None) -> pd.DataFrame:
    """Current readiness per TPS on the entry checklist: mostly siap, some sebagian, a few
    belum (concentrated in the lagging kelurahan). The state is derived from the items the
    way readiness entry derives it."""
    rng = _rng(seed, "readiness")
    tax = tax or load_taxonomy()
    labels = {item.key: item.label for item in tax.readiness}
    critical = [i.key for i in tax.readiness if i.critical]
    late_critical = [k for k in tx.CRITICAL_ITEMS if k in critical] or critical
    partial = [i.key for i in tax.readiness if not i.critical]
    p_partial = np.array([tx.PARTIAL_ITEMS.get(k, 1) for k in partial], float)
    p_partial /= p_partial.sum()
    rows = []
    for i, kode in enumerate(tps.kode):
        lag = tps.kelurahan_kode[i] in lagging
        u = rng.random()
        belum, sebagian = u < (0.35 if lag else 0.008), u < (0.65 if lag else 0.075)
        missing: set[str] = set()
        if sebagian or belum:
            n = min(int(rng.integers(2, 5) if belum else rng.integers(1, 4)), len(partial))
            missing = {partial[j] for j in rng.choice(len(partial), size=n, replace=False,
                                                      p=p_partial)}
        if belum:
            missing.add(late_critical[int(rng.integers(len(late_critical)))])
        items = {key: key not in missing for key in tax.readiness_keys}
        note = None
        if missing:
            note = "Belum lengkap: " + ", ".join(labels[k] for k in tax.readiness_keys
                                                 if k in missing)
        at = as_of - dt.timedelta(minutes=int(rng.integers(90, 16 * 60)))
        rows.append({"tps_kode": kode, "state": derive_state(items, tax), "items": items,
                     "note": note, "updated_at": at,
                     "client_uuid": uuid.uuid5(NAMESPACE, f"{seed}:readiness:{kode}")})
    return pd.DataFrame(rows)


# --- personnel ----------------------------------------------------------------------------

def generate_personnel(tps: pd.DataFrame, kel: gpd.GeoDataFrame, hot, lagging, seed: int):
    """Polri per kelurahan (about the 2-4-8 need for kurang rawan TPS, short in several
    kelurahan, surplus in a few), Linmas per TPS (2, with gaps), TNI in a few kelurahan,
    Polri on the prison TPS, and reserves (Polsek per kecamatan, Polresta for the city)."""
    rng = _rng(seed, "personnel")
    kec_nama = tx.KECAMATAN
    rows = []

    def add(agency, target, count, *, tps_kode=None, kel_kode=None, kec_kode=None, unit=None,
            note=None):
        rows.append({"agency": agency, "target": target, "tps_kode": tps_kode,
                     "kelurahan_kode": kel_kode, "kecamatan_kode": kec_kode, "unit": unit,
                     "count": int(count), "note": note})

    regular = tps[~tps.lokasi_khusus]
    n_by_kel = regular.groupby("kelurahan_kode").size()
    codes = list(kel.kode)
    cold = [k for k in codes if k not in hot]
    short = {*rng.choice(hot, size=4, replace=False), *rng.choice(cold, size=3, replace=False)}
    surplus = set(rng.choice([k for k in cold if k not in short], size=5, replace=False))
    for row in kel.itertuples():
        n = int(n_by_kel.get(row.kode, 0))
        polri = 2 * math.ceil(n / 4)
        if row.kode in short:
            polri -= 2 * int(rng.integers(1, 3))
        elif row.kode in surplus:
            polri += 2 * int(rng.integers(2, 4))
        add("polri", "kelurahan", max(polri, 0), kel_kode=row.kode, kec_kode=row.kecamatan_kode,
            unit=f"Polsek {kec_nama[row.kecamatan_kode]}")
    for t in tps[tps.lokasi_khusus].itertuples():
        add("polri", "tps", 2, tps_kode=t.kode, kel_kode=t.kelurahan_kode,
            kec_kode=t.kecamatan_kode, unit=f"Polsek {kec_nama[t.kecamatan_kode]}",
            note="Pengamanan TPS lokasi khusus (lapas)")

    linmas_short = set(lagging) | set(rng.choice(hot, size=2, replace=False))
    nama = dict(zip(kel.kode, kel.nama))
    for t in tps.itertuples():
        p = [0.10, 0.22, 0.68] if t.kelurahan_kode in linmas_short else [0.0, 0.015, 0.985]
        count = int(rng.choice([0, 1, 2], p=p))
        if count:
            add("linmas", "tps", count, tps_kode=t.kode, kel_kode=t.kelurahan_kode,
                kec_kode=t.kecamatan_kode, unit=f"Satlinmas Kel. {nama[t.kelurahan_kode]}")

    for kec in sorted(kec_nama):
        members = [k for k in codes if k.startswith(kec)]
        if not members:
            continue
        first = [k for k in members if k in hot] or members
        picks = {first[0], *rng.choice(members, size=min(2, len(members)), replace=False)}
        for kode in sorted(picks):
            add("tni", "kelurahan", int(rng.integers(2, 5)), kel_kode=kode, kec_kode=kec,
                unit="Kodim 1606/Mataram", note="Babinsa dan personel BKO")
        add("polri", "reserve", int(rng.integers(8, 16)), kec_kode=kec,
            unit=f"Polsek {kec_nama[kec]}", note="Cadangan Polsek")
    add("polri", "reserve", 60, unit="Polresta Mataram", note="Cadangan kota (Polresta)")
    return pd.DataFrame(rows)


# --- incidents ----------------------------------------------------------------------------

def generate_incidents(tps: pd.DataFrame, kel: gpd.GeoDataFrame, hot, as_of: dt.datetime,
                       seed: int) -> gpd.GeoDataFrame:
    """30-50 incidents over the 72 h before as_of, 50-400 m from a TPS (mostly in hot
    kelurahan); a few verified sedang/berat ones close to hot TPS in the last 24 h."""
    rng = _rng(seed, "incidents")
    city = shapely.union_all(kel.geometry.values).buffer(-5)
    shapely.prepare(city)
    cats = list(tx.INCIDENT_CATEGORIES)
    p_cat = np.array([v[1] for v in tx.INCIDENT_CATEGORIES.values()], float)
    p_cat /= p_cat.sum()
    in_hot = tps.kelurahan_kode.isin(hot).to_numpy()
    txy = tps[["x", "y"]].to_numpy(float)
    nama = dict(zip(kel.kode, kel.nama))
    # escalating incidents fall in two hot kelurahan: a 500 m radius already covers ~20 TPS
    n_total, n_escalating = int(rng.integers(36, 46)), 4
    escalation_pools = [np.flatnonzero(tps.kelurahan_kode.to_numpy() == k) for k in hot[::2][:2]]
    rows = []
    for i in range(n_total):
        escalating = i < n_escalating
        if escalating:
            pool = escalation_pools[i % len(escalation_pools)]
        else:
            pool = np.flatnonzero(in_hot if rng.random() < 0.55 else ~in_hot)
        anchor = tps.iloc[int(rng.choice(pool))]
        while True:
            dist = rng.uniform(50, 200 if escalating else 400)
            angle = rng.uniform(0, 2 * math.pi)
            x, y = anchor.x + dist * math.cos(angle), anchor.y + dist * math.sin(angle)
            nearest = np.min(np.hypot(txy[:, 0] - x, txy[:, 1] - y))
            if shapely.contains_xy(city, x, y) and nearest >= 50:
                break
        if escalating:
            cat = str(rng.choice(tx.ESCALATING_CATEGORIES))
            severity = "berat" if rng.random() < 0.35 else "sedang"
            occurred = as_of - dt.timedelta(minutes=int(rng.integers(60, 20 * 60)))
            status = "verified"
        else:
            cat = str(rng.choice(cats, p=p_cat))
            sev_w = np.array(tx.INCIDENT_CATEGORIES[cat][2], float)
            severity = str(rng.choice(["ringan", "sedang", "berat"], p=sev_w / sev_w.sum()))
            occurred = as_of - dt.timedelta(minutes=int(rng.integers(20, 72 * 60)))
            status = str(rng.choice(["reported", "verified", "resolved", "rejected"],
                                    p=[0.30, 0.35, 0.22, 0.13]))
            # serious incidents of the last day are already handled, except the escalating
            # ones above: the story's escalation stays in the hot kelurahan
            if (status == "verified" and severity != "ringan"
                    and occurred > as_of - dt.timedelta(hours=26)):
                status = "resolved"
        texts = tx.INCIDENT_CATEGORIES[cat][3]
        reported = min(occurred + dt.timedelta(minutes=int(rng.integers(5, 120))), as_of)
        who = tx.REPORTERS[int(rng.integers(len(tx.REPORTERS)))]
        reporter = f"{who} Kel. {nama[anchor.kelurahan_kode]}"
        rows.append({"category": cat, "severity": severity, "status": status,
                     "description": texts[int(rng.integers(len(texts)))],
                     "occurred_at": occurred.astimezone(dt.timezone.utc),
                     "reported_at": reported.astimezone(dt.timezone.utc),
                     "reporter_name": reporter, "x": x, "y": y,
                     "review_minutes": int(rng.integers(10, 120))})
    inc = pd.DataFrame(rows)
    for status in ("reported", "verified", "resolved", "rejected"):    # every status shows
        if not (inc.status == status).any():
            inc.loc[n_escalating + int(rng.integers(n_total - n_escalating)), "status"] = status
    inc["lon"], inc["lat"] = _wgs84(inc.x, inc.y)
    inc["id"] = [uuid.uuid5(NAMESPACE, f"{seed}:incident:{i}") for i in range(len(inc))]
    inc["content_hash"] = [incident_content_hash(r) for r in inc.to_dict("records")]
    reviewed = inc.status != "reported"
    inc["reviewed_by"] = np.where(reviewed, "supervisor", None)
    inc["reviewed_at"] = [min(r + dt.timedelta(minutes=m), as_of.astimezone(dt.timezone.utc))
                          if ok else None
                          for r, m, ok in zip(inc.reported_at, inc.review_minutes, reviewed)]
    inc["review_note"] = inc.status.map(tx.REVIEW_NOTES)
    inc = inc.drop(columns=["x", "y", "review_minutes"])
    return gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc.lon, inc.lat, crs="EPSG:4326"))


# --- everything ---------------------------------------------------------------------------

def generate(kelurahan: gpd.GeoDataFrame, *, seed: int = 2024, as_of: dt.datetime | None = None,
             taxonomy: Taxonomy | None = None) -> DemoData:
    """The whole demo from the kelurahan polygons (EPSG:4326 or any CRS with one set);
    ``taxonomy`` (default: the packaged incident_types.toml) gives the readiness checklist."""
    as_of = as_of or DEFAULT_AS_OF
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    kel = prepare_kelurahan(kelurahan)
    tps, prison_kode = generate_tps(kel, seed)
    hot, lagging = pick_hot(kel, tps, prison_kode, seed)
    return DemoData(
        tps=tps.drop(columns=["x", "y"]),
        facilities=generate_facilities(kel, seed),
        ratings=generate_ratings(tps, kel, hot, lagging, seed),
        readiness=generate_readiness(tps, lagging, as_of, seed, taxonomy),
        personnel=generate_personnel(tps, kel, hot, lagging, seed),
        incidents=generate_incidents(tps, kel, hot, as_of, seed),
        hot=hot, lagging=lagging)
