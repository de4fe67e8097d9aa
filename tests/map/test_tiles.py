"""Vector tiles: what a tile holds at each zoom, the size cap, who may get which tile, and
the caching headers. Tiles are decoded with a small reader (map/mvt.py)."""
from __future__ import annotations

import gzip
import math

import pytest
from sqlalchemy import text

from gisdesk.layers import tiles
from map.big import seed_big
from map.conftest import login, make_app
from map.mvt import decode
from map.seed import GAPS, KELURAHAN, seed

MATARAM = (116.10, -8.58)   # inside the seeded city's kelurahan


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


@pytest.fixture(scope="module")
def world(engine):
    """The test city (inactive after this) plus a 30k-TPS synthetic election (active)."""
    with engine.begin() as conn:
        city = seed(conn, n_tps=30)
        big = seed_big(conn, n_tps=30000)
    return {"city": city, "big": big}


@pytest.fixture(scope="module")
def layers():
    from gisdesk.layers.tiles import _default_layers
    return _default_layers()


def _tile(engine, layer, z, lon, lat, election_id, **kw):
    x, y = tile_of(lon, lat, z)
    with engine.connect() as conn:
        return decode(tiles.tile(conn, layer, z, x, y, election_id, "admin", **kw))


def test_tps_tile_over_mataram_at_z6_z10_z14(engine, world, layers):
    e = world["city"]["election_id"]
    z6 = _tile(engine, layers["tps"], 6, *MATARAM, e)["tps"]["features"]
    assert [f["properties"]["level"] for f in z6] == ["kabkota"]
    kab = z6[0]["properties"]
    assert kab["kode"] == "52.71" and kab["n_tps"] == 30 and kab["n_kelurahan"] == 3
    short = sum(max(pr - pa, 0) for pr, pa, *_ in GAPS.values())
    assert kab["polri_short"] == short and kab["kelurahan_short"] == 2
    assert kab["linmas_short"] == sum(max(lr - la, 0) for _, _, lr, la, _ in GAPS.values())

    z10 = _tile(engine, layers["tps"], 10, *MATARAM, e)["tps"]["features"]
    by_kode = {f["properties"]["kode"]: f["properties"] for f in z10}
    assert set(by_kode) == set(KELURAHAN)
    assert {f["properties"]["level"] for f in z10} == {"kelurahan"}
    assert sum(p["n_tps"] for p in by_kode.values()) == 30
    assert by_kode["52.71.01.1004"]["polri_short"] == 6
    assert by_kode["52.71.02.1001"]["polri_short"] == 0  # a surplus is not a shortfall

    with engine.connect() as conn:  # a tile with TPS in it (they sit near the south edge)
        where = tuple(conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM tps WHERE election_id = :e ORDER BY kode "
            "LIMIT 1"), {"e": e}).one())
    z14 = _tile(engine, layers["tps"], 14, *where, e)["tps"]
    props = [f["properties"] for f in z14["features"]]
    assert props and all(f["type"] == "Point" for f in z14["features"])
    assert all("level" not in p for p in props)
    assert {"tps_kode", "kelas", "dpt", "kelurahan_kode", "nomor"} <= set(props[0])
    with engine.connect() as conn:
        x, y = tile_of(*where, 14)
        inside = conn.execute(text(
            "SELECT count(*) FROM tps WHERE election_id = :e AND "
            "ST_Intersects(geom, ST_Transform(ST_TileEnvelope(14, :x, :y), 4326))"),
            {"e": e, "x": x, "y": y}).scalar_one()
        kelas = dict(conn.execute(text(
            "SELECT t.kode, r.kelas FROM tps t JOIN tps_risk r ON r.tps_id = t.id "
            "WHERE t.election_id = :e"), {"e": e}).all())
    assert len(props) >= inside > 0   # the buffer may add neighbours, never lose one
    assert all(kelas[p["tps_kode"]] == p["kelas"] for p in props)


def test_kelurahan_layer_is_polygons_with_gaps_and_kecamatan_sums_at_low_zoom(engine, world,
                                                                             layers):
    e = world["city"]["election_id"]
    z10 = _tile(engine, layers["kelurahan"], 10, *MATARAM, e)["kelurahan"]["features"]
    props = {f["properties"]["kelurahan_kode"]: f["properties"] for f in z10}
    assert set(KELURAHAN) <= set(props)  # (the big election's kelurahan are beside them)
    assert all(f["type"] == "Polygon" for f in z10)
    assert props["52.71.01.1004"]["polri_gap"] == 6
    z8 = _tile(engine, layers["kelurahan"], 8, *MATARAM, e)["kelurahan"]["features"]
    kec = {f["properties"]["kecamatan_kode"]: f["properties"] for f in z8
           if f["properties"]["kecamatan_kode"] in ("52.71.01", "52.71.02")}
    assert kec["52.71.01"]["polri_gap"] == 6 + 1 and kec["52.71.01"]["n_kelurahan"] == 2
    assert _tile(engine, layers["kelurahan"], 5, *MATARAM, e) == {}


def test_low_zoom_tiles_read_the_stored_kecamatan_and_kabkota_sums(engine, world, layers):
    """z 6-9 show kecamatan_gap / kabkota_gap as stored with the results (one row per
    unit), not sums of kelurahan_gap made per tile: a stored figure is what the tile says."""
    e = world["city"]["election_id"]
    with engine.connect() as conn, conn.begin() as trans:
        conn.execute(text("UPDATE kecamatan_gap SET polri_short = 901, incidents_recent = 902 "
                          "WHERE election_id = :e AND kecamatan_kode = '52.71.01'"), {"e": e})
        conn.execute(text("UPDATE kabkota_gap SET linmas_short = 903 "
                          "WHERE election_id = :e AND kabkota_kode = '52.71'"), {"e": e})

        def props(layer, z, key):
            x, y = tile_of(*MATARAM, z)
            data = decode(tiles.tile(conn, layers[layer], z, x, y, e, "admin"))
            return {f["properties"][key]: f["properties"]
                    for f in data[layer]["features"]}
        kec = props("tps", 8, "kode")["52.71.01"]
        assert (kec["polri_short"], kec["incidents_recent"]) == (901, 902)
        assert props("kelurahan", 8, "kecamatan_kode")["52.71.01"]["polri_gap"] == 901
        assert props("tps", 6, "kode")["52.71"]["linmas_short"] == 903
        trans.rollback()


def test_no_tile_over_the_cap_on_the_big_election_z6_to_z14(engine, world, layers):
    e = world["big"]["election_id"]
    w, s, east, n = world["big"]["bounds"]
    biggest = {}
    with engine.connect() as conn:
        for z in range(6, 15):
            x0, y0 = tile_of(w, n, z)
            x1, y1 = tile_of(east, s, z)
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    for lid in ("tps", "kelurahan", "kecamatan"):
                        data = tiles.tile(conn, layers[lid], z, x, y, e, "viewer")
                        assert len(data) <= tiles.MAX_TILE_BYTES, (lid, z, x, y, len(data))
                        biggest[(lid, z)] = max(biggest.get((lid, z), 0), len(data))
    assert biggest[("tps", 14)] > 0 and biggest[("tps", 6)] > 0
    print({k: round(v / 1024, 1) for k, v in sorted(biggest.items())})


def test_cap_makes_a_tile_coarser_instead_of_cutting_it(engine, world, layers):
    e = world["big"]["election_id"]
    lon, lat = 116.23, -8.64
    x, y = tile_of(lon, lat, 14)
    with engine.connect() as conn:
        full = decode(tiles.tile(conn, layers["tps"], 14, x, y, e, "viewer"))["tps"]
        small = decode(tiles.tile(conn, layers["tps"], 14, x, y, e, "viewer",
                                  max_bytes=8 * 1024))["tps"]
        raw = tiles.raw_tile(conn, layers["tps"], 14, x, y, e)
        # z12 over the whole synthetic city: ~8,000 TPS in one tile -> per kelurahan instead
        x12, y12 = tile_of(lon, lat, 12)
        dense = decode(tiles.tile(conn, layers["tps"], 12, x12, y12, e))["tps"]["features"]
        raw12 = tiles.raw_tile(conn, layers["tps"], 12, x12, y12, e)
    n_points = len(full["features"])
    assert n_points > 300 and all("level" not in f["properties"] for f in full["features"])
    assert {f["properties"]["level"] for f in small["features"]} == {"grid"}
    # grouped, not dropped: every TPS is still counted
    assert sum(f["properties"]["n_tps"] for f in small["features"]) == n_points
    assert len(decode(raw)["tps"]["features"]) == n_points
    assert {f["properties"]["level"] for f in dense} == {"kelurahan"}
    assert len(decode(raw12)["tps"]["features"]) > tiles.MAX_TILE_POINTS


def test_aggregates_count_every_tps_once(engine, world, layers):
    e = world["big"]["election_id"]
    with engine.connect() as conn:
        for z, level in ((6, "kabkota"), (8, "kecamatan"), (10, "kelurahan")):
            x0, y0 = tile_of(116.14, -8.56, z)
            x1, y1 = tile_of(116.32, -8.72, z)
            seen: dict[str, int] = {}
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    for f in decode(tiles.tile(conn, layers["tps"], z, x, y, e)).get(
                            "tps", {"features": []})["features"]:
                        p = f["properties"]
                        assert p["level"] == level
                        # the buffer may show a unit in two tiles: same numbers both times
                        assert seen.setdefault(p["kode"], p["n_tps"]) == p["n_tps"]
            assert sum(seen.values()) == world["big"]["n_tps"], z


def test_out_of_range_and_unknown_layers(engine, world, layers):
    with engine.connect() as conn:
        for z, x, y in ((-1, 0, 0), (23, 0, 0), (3, 8, 0), (3, 0, -1)):
            with pytest.raises(tiles.TileOutOfRange):
                tiles.tile(conn, layers["tps"], z, x, y, None)
        with pytest.raises(tiles.NotFound):
            tiles.tile(conn, layers["quickcount"], 10, 0, 0, None, "viewer")
        with pytest.raises(tiles.NotFound):
            tiles.tile(conn, "tidak_ada", 10, 0, 0, None, "admin")


# --- the HTTP route ---------------------------------------------------------------------

@pytest.fixture
def app(engine, world, tmp_path):
    return make_app(engine, tmp_path, MAP_TILES_MIN_TPS=20000)


def _url(layer, z, lon=116.23, lat=-8.64):
    x, y = tile_of(lon, lat, z)
    return f"/tiles/{layer}/{z}/{x}/{y}.pbf"


def test_route_serves_tiles_with_private_caching(app):
    client = login(app.test_client(), "viewer")
    r = client.get(_url("tps", 14))
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.mapbox-vector-tile"
    assert r.headers["Cache-Control"] == "private, max-age=60"
    assert r.headers.get("ETag")
    assert decode(r.data)["tps"]["features"]
    again = client.get(_url("tps", 14), headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    zipped = client.get(_url("tps", 14), headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == r.data
    assert len(zipped.data) < len(r.data)


def test_etag_differs_between_roles_and_changes_with_the_data(app, engine, world):
    viewer = login(app.test_client(), "viewer")
    supervisor = login(app.test_client(), "supervisor")
    tag_v = viewer.get(_url("tps", 12)).headers["ETag"]
    tag_s = supervisor.get(_url("tps", 12)).headers["ETag"]
    assert tag_v != tag_s
    # a viewer's tag is no good for a supervisor (no 304 across roles)
    assert supervisor.get(_url("tps", 12), headers={"If-None-Match": tag_v}).status_code == 200
    with engine.begin() as conn:
        # a new results version (the ETag follows the version, not the time of computing)
        conn.execute(text("UPDATE analysis_run SET version = nextval('analysis_version_seq') "
                          "WHERE election_id = :e"), {"e": world["big"]["election_id"]})
    assert viewer.get(_url("tps", 12)).headers["ETag"] != tag_v


def test_route_refuses_what_the_role_may_not_see_and_bad_tiles(app):
    viewer = login(app.test_client(), "viewer")
    r = viewer.get(_url("quickcount", 12))
    assert r.status_code == 404 and r.is_json and "error" in r.get_json()
    assert viewer.get(_url("tidak_ada", 12)).status_code == 404
    assert login(app.test_client(), "supervisor").get(_url("quickcount", 12)).status_code == 200
    for url in ("/tiles/tps/3/8/0.pbf", "/tiles/tps/23/0/0.pbf", "/tiles/tps/5/-1/0.pbf"):
        r = viewer.get(url)
        assert r.status_code == 400 and r.is_json, url
    anon = app.test_client().get(_url("tps", 12))
    assert anon.status_code == 401 and anon.is_json and "error" in anon.get_json()


def test_map_page_uses_tiles_only_for_a_big_election(app, engine, world, tmp_path):
    viewer = login(app.test_client(), "viewer")
    page = viewer.get("/map").get_data(as_text=True)
    assert "Leaflet.VectorGrid.bundled.min.js" in page
    assert '"tiles": "/tiles/tps/{z}/{x}/{y}.pbf"' in page or "/tiles/tps/{z}/{x}/{y}.pbf" in page
    zipped = viewer.get("/map", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    # the same database with a threshold above its size: GeoJSON + clusters as before
    small = make_app(engine, tmp_path / "b", MAP_TILES_MIN_TPS=10 ** 6)
    page = login(small.test_client(), "viewer").get("/map").get_data(as_text=True)
    assert "VectorGrid" not in page and "/tiles/" not in page
    assert "/map/layers/tps.geojson" in page
