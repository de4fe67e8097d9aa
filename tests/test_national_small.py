"""The national generator at small scale (2 provinces, ~2,300 kelurahan, ~16k TPS): counts,
Kemendagri codes, TPS inside their kelurahan, valid non-overlapping polygons, determinism,
and loading beside boundaries that are already there. The full national run is `make bench`."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from gisdesk.demo import national as N

SPEC = N.national_spec(["52", "53"], scale=0.5)
SEED = 7
KEL_RE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{2})\.([12]\d{3})$")
# a boundary already in the database (like the Mataram demo) inside NTB's synthetic land
EXISTING = shapely.box(117.35, -8.65, 117.45, -8.55)


@pytest.fixture(scope="module")
def data():
    return N.generate(SPEC, seed=SEED)


@pytest.fixture(scope="module")
def loaded(engine):
    """The national demo loaded beside an existing, active election and its boundary."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO election (kode, nama, kind, voting_date, "
                          "max_voters_per_tps, active) VALUES ('kota-lain', 'Pemilu kota', "
                          "'pemilu', '2024-02-14', 300, true)"))
        conn.execute(text("INSERT INTO kecamatan (kode, nama, geom) VALUES ('52.71.01', "
                          "'Ada', ST_Multi(ST_GeomFromText(:w, 4326)))"), {"w": EXISTING.wkt})
        conn.execute(text("INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) VALUES "
                          "('52.71.01.1001', 'Ada', '52.71.01', "
                          "ST_Multi(ST_GeomFromText(:w, 4326)))"), {"w": EXISTING.wkt})
    with engine.begin() as conn:
        counts = N.load_national(conn, seed=SEED, spec=SPEC, actor="test")
    return counts


def test_full_scale_spec_matches_the_national_counts():
    totals = N.national_spec().totals
    assert totals == {"provinces": 38, "kabkota": 514, "kecamatan": 7277,
                      "kelurahan": 83731, "tps": 820161, "dpt": 204_807_222}
    codes = [p.kode for p in N.national_spec().provinces]
    assert codes[0] == "11" and codes[-1] == "96" and len(set(codes)) == 38


def test_counts(data):
    t = SPEC.totals
    assert len(data.kelurahan) == t["kelurahan"] and len(data.kecamatan) == t["kecamatan"]
    assert data.kelurahan.kode.str[:5].nunique() == t["kabkota"]
    assert len(data.tps) == t["tps"] and int(data.tps.dpt.sum()) == t["dpt"]
    assert data.tps.dpt.between(1, 300).all()
    # every kelurahan has TPS, and counts vary
    per_kel = np.bincount(data.tps.kel_idx, minlength=len(data.kelurahan))
    assert per_kel.min() >= 1 and per_kel.max() > 3 * np.median(per_kel)
    assert set(data.readiness.state) == {"siap", "sebagian", "belum"}
    polri = data.ratings[data.ratings.source == "polri"]
    assert len(polri) == len(data.tps)
    assert (polri.kelas == "kurang_rawan").mean() > 0.8
    assert len(data.incidents) >= 20


def test_codes_follow_kemendagri(data):
    kel, kec = data.kelurahan, data.kecamatan
    parts = kel.kode.str.extract(KEL_RE.pattern)
    assert parts.notna().all().all(), kel.kode[parts.isna().any(axis=1)].head()
    assert set(parts[0]) == {"52", "53"}
    assert (kel.kecamatan_kode == kel.kode.str[:8]).all()
    assert set(kel.kecamatan_kode) == set(kec.kode) and kec.kode.is_unique
    assert kel.kode.is_unique and data.tps.kode.is_unique
    for p in SPEC.provinces:
        kab = {int(k[3:5]) for k in kel.kode if k.startswith(p.kode + ".")}
        kabupaten = {k for k in kab if k < 71}
        kota = {k for k in kab if k >= 71}
        assert kabupaten == set(range(1, p.n_kab + 1))       # 01..79: kabupaten
        assert kota == set(range(71, 71 + p.n_kota))         # 71..99: kota
    kota_kel = kel[kel.kode.str[3:5].astype(int) >= 71]
    assert (kota_kel.kode.str[9] == "1").all()               # a kota has kelurahan only
    assert (kel.kode.str[9] == "2").mean() > 0.6              # most of the rest are desa
    assert data.tps.kode.str.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.[12]\d{3}-\d{3}").all()
    assert (data.tps.kode.str[:13] == data.tps.kelurahan_kode).all()


def test_polygons_are_valid_realistic_and_tile_without_overlap(data):
    kel = data.kelurahan.geom.to_numpy()
    kec = data.kecamatan.geom.to_numpy()
    assert shapely.is_valid(kel).all() and shapely.is_valid(kec).all()
    verts = shapely.get_num_coordinates(kel)
    assert 30 < verts.mean() < 300 and verts.max() < 1000
    # a coverage: the pieces add up to their union (no overlaps), kecamatan = their kelurahan
    assert shapely.area(kel).sum() == pytest.approx(shapely.union_all(kel).area, rel=1e-9)
    by_kec = data.kelurahan.assign(a=shapely.area(kel)).groupby("kecamatan_kode").a.sum()
    kec_area = dict(zip(data.kecamatan.kode, shapely.area(kec)))
    assert all(by_kec[k] == pytest.approx(kec_area[k], rel=1e-9) for k in by_kec.index)
    assert data.kelurahan.area_km2.between(0.05, 5000).all()


def test_every_tps_inside_its_kelurahan(data):
    geoms = data.kelurahan.geom.to_numpy()[data.tps.kel_idx.to_numpy()]
    assert shapely.contains_xy(geoms, data.tps.lon.to_numpy(), data.tps.lat.to_numpy()).all()


def _digest(d) -> str:
    h = hashlib.sha256()
    for g in shapely.to_wkb(d.kelurahan.geom.to_numpy()):
        h.update(g)
    h.update("|".join(d.kelurahan.kode).encode())
    h.update(d.tps[["lon", "lat", "dpt"]].to_numpy().tobytes())
    h.update("|".join(d.ratings.kelas.fillna("")).encode())
    return h.hexdigest()


def test_deterministic_by_seed():
    spec = N.national_spec(["75"], scale=0.5)
    a, b = N.generate(spec, seed=3), N.generate(spec, seed=3)
    c = N.generate(spec, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_loaded_database(engine, loaded):
    t = SPEC.totals
    assert loaded["created"] is True
    assert {k: loaded[k] for k in ("tps", "dpt", "kelurahan", "kecamatan", "kabkota")} == {
        "tps": t["tps"], "dpt": t["dpt"], "kelurahan": t["kelurahan"],
        "kecamatan": t["kecamatan"], "kabkota": t["kabkota"]}
    with engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).scalar()
        e = conn.execute(text("SELECT id, active, is_demo, pinned_as_of FROM election "
                              "WHERE kode = 'pemilu-2024-nasional'")).one()
        assert e.active is False and e.is_demo is True and e.pinned_as_of is not None
        assert q("SELECT kode FROM election WHERE active") == "kota-lain"
        # every TPS inside the kelurahan its code names, none flagged
        assert q(f"""SELECT count(*) FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode
                     WHERE t.election_id = {e.id} AND NOT ST_Contains(k.geom, t.geom)""") == 0
        assert q("SELECT count(*) FROM kelurahan WHERE NOT ST_IsValid(geom)") == 0
        assert q("SELECT count(*) FROM kecamatan WHERE NOT ST_IsValid(geom)") == 0
        # neighbours share edges: no pair overlaps by more than a rounding sliver
        assert q("""SELECT count(*) FROM kelurahan a JOIN kelurahan b
                      ON a.kode < b.kode AND a.geom && b.geom
                    WHERE ST_Area(ST_Intersection(a.geom, b.geom)) > 1e-12""") == 0
        # the existing boundary is left alone: no synthetic polygon on it, its code unused
        assert q("""SELECT count(*) FROM kelurahan WHERE source = 'demo-nasional'
                    AND ST_Area(ST_Intersection(geom, ST_GeomFromText('%s', 4326))) > 0"""
                 % EXISTING.wkt) == 0
        assert q("SELECT count(*) FROM kelurahan WHERE kode LIKE '52.71.%'") == 1
        assert q("SELECT count(*) FROM kelurahan WHERE kode LIKE '52.72.%'") > 0
        # bulk-load indexes are back
        assert q("SELECT count(*) FROM pg_indexes WHERE tablename = 'tps' "
                 "AND indexdef ILIKE '%gist%'") == 1
        assert q(f"SELECT count(*) FROM tps_readiness r JOIN tps t ON t.id = r.tps_id "
                 f"WHERE t.election_id = {e.id}") == t["tps"]


def test_loading_again_changes_nothing(engine, loaded):
    with engine.begin() as conn:
        again = N.load_national(conn, seed=SEED, spec=SPEC, actor="test")
    assert again["created"] is False and again["tps"] == loaded["tps"]
