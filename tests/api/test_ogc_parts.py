"""The OGC abstract test suites of OGC API Features Parts 1 (Core), 2 (CRS) and 3 (Filtering)
turned into tests against our documents, plus GDAL 3.6 reading each collection with its
defaults in at most 3 item requests (counted on the server)."""
from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter

import pytest
from sqlalchemy import text

from conftest import LiveServer, make_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
ITEMS = "/api/collections/{}/items"


def _ids(doc) -> list:
    return [f["properties"]["tps_kode"] for f in doc["features"]]


# --- Part 1: Core ------------------------------------------------------------------------------

def test_a_limit_above_the_maximum_is_capped_and_the_links_say_so(as_role):
    doc = as_role("viewer").get(ITEMS.format("tps") + "?limit=20000&properties=tps_kode").json
    assert doc["numberReturned"] == 1248  # all of them: fewer than the 10,000 maximum
    self_link = next(link for link in doc["links"] if link["rel"] == "self")
    assert "limit=10000" in self_link["href"] and "10000" in self_link["title"]


def test_a_six_number_bbox_selects_like_the_four_number_one(as_role):
    api = as_role("viewer")
    four = api.get(ITEMS.format("tps") + "?bbox=116.07,-8.60,116.10,-8.57&limit=2000").json
    six = api.get(ITEMS.format("tps") + "?bbox=116.07,-8.60,-50,116.10,-8.57,3000"
                  "&limit=2000").json
    assert 0 < four["numberMatched"] < 1248 and _ids(four) == _ids(six)


def test_datetime_on_a_collection_without_time_is_ignored_as_part_1_says(as_role):
    api = as_role("viewer")
    plain = api.get(ITEMS.format("kelurahan") + "?limit=100").json
    timed = api.get(ITEMS.format("kelurahan") + "?limit=100&datetime=2024-02-14").json
    assert timed["numberMatched"] == plain["numberMatched"] == 50
    bad = api.get(ITEMS.format("kelurahan") + "?datetime=kemarin")
    assert bad.status_code == 400 and bad.json["field"] == "datetime"


def test_sortby_orders_like_sql(as_role, engine):
    doc = as_role("viewer").get(ITEMS.format("tps") + "?sortby=-dpt,tps_kode&limit=20").json
    with engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT kode FROM tps ORDER BY dpt DESC, kode LIMIT 20")).scalars().all()
    assert _ids(doc) == expected
    assert as_role("viewer").get(ITEMS.format("tps") + "?sortby=reasons").status_code == 400


def test_properties_keeps_only_the_named_attributes(as_role):
    doc = as_role("viewer").get(ITEMS.format("tps") + "?properties=dpt,kelas&limit=3").json
    assert all(set(f["properties"]) == {"dpt", "kelas"} for f in doc["features"])
    r = as_role("viewer").get(ITEMS.format("tps") + "?properties=dpt,rahasia")
    assert r.status_code == 400 and r.json["field"] == "properties"


def test_number_matched_is_counted_on_the_first_page_and_known_on_the_last(as_role):
    api = as_role("viewer")
    first = api.get(ITEMS.format("tps") + "?limit=1000").json
    assert first["numberMatched"] == 1248
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    last = api.get(nxt).json
    assert last["numberReturned"] == 248 and last["numberMatched"] == 1248
    assert not any(link["rel"] == "next" for link in last["links"])


def test_every_page_has_self_alternate_and_collection_links(as_role):
    doc = as_role("viewer").get(ITEMS.format("facilities") + "?limit=5").json
    rels = Counter(link["rel"] for link in doc["links"])
    assert rels["self"] == 1 and rels["alternate"] >= 1 and rels["collection"] == 1
    assert all({"href", "rel", "type"} <= set(link) for link in doc["links"])


# --- Part 2: CRS ------------------------------------------------------------------------------

def test_collections_offer_the_indonesian_crs_list(as_role):
    tps = as_role("viewer").get("/api/collections/tps").json
    offered = set(tps["crs"])
    wanted = {CRS84} | {EPSG.format(c) for c in (4326, 3857, 4755, *range(23830, 23846),
                                                 *range(32646, 32655), *range(32746, 32755))}
    assert wanted <= offered and tps["storageCrs"] == CRS84


def test_epsg_4326_puts_latitude_first_and_says_so_in_content_crs(as_role):
    api = as_role("viewer")
    lonlat = api.get(ITEMS.format("tps") + "?limit=5")
    latlon = api.get(ITEMS.format("tps") + f"?limit=5&crs={EPSG.format(4326)}")
    assert lonlat.headers["Content-Crs"] == f"<{CRS84}>"
    assert latlon.headers["Content-Crs"] == f"<{EPSG.format(4326)}>"
    for a, b in zip(lonlat.json["features"], latlon.json["features"]):
        lon, lat = a["geometry"]["coordinates"]
        assert b["geometry"]["coordinates"] == [lat, lon] and lat < 0 < lon


@pytest.mark.parametrize("code", [32750, 23840, 3857, 4755])
def test_coordinates_in_a_requested_crs_match_postgis(as_role, engine, code):
    doc = as_role("viewer").get(ITEMS.format("tps") + f"?limit=20&crs=EPSG:{code}").json
    with engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT kode, ARRAY[ST_X(g), ST_Y(g)] FROM (SELECT kode, "
            "ST_Transform(geom, :c) g FROM tps ORDER BY kode LIMIT 20) s"), {"c": code}).all())
    for f in doc["features"]:
        x, y = rows[f["properties"]["tps_kode"]]
        expected = [y, x] if code == 4755 else [x, y]  # DGN95 is latitude first too
        assert f["geometry"]["coordinates"] == pytest.approx(expected, abs=0.01)


def test_bbox_crs_in_latlon_and_in_utm_select_the_same_tps_as_sql(as_role, engine):
    api = as_role("viewer")
    base = api.get(ITEMS.format("tps") + "?bbox=116.07,-8.60,116.10,-8.57&limit=2000").json
    flipped = api.get(ITEMS.format("tps") + "?bbox=-8.60,116.07,-8.57,116.10&limit=2000"
                      f"&bbox-crs={EPSG.format(4326)}").json
    assert _ids(flipped) == _ids(base)
    with engine.connect() as conn:
        box = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Transform("
            "ST_MakeEnvelope(116.07, -8.60, 116.10, -8.57, 4326), 32750) e) s")).one()
        expected = conn.execute(text(
            "SELECT kode FROM tps WHERE ST_Intersects(geom, ST_Transform(ST_MakeEnvelope("
            ":a, :b, :c, :d, 32750), 4326)) ORDER BY kode"),
            dict(zip("abcd", box))).scalars().all()
    utm = api.get(ITEMS.format("tps") + "?limit=2000&bbox-crs=EPSG:32750&bbox="
                  + ",".join(str(v) for v in box)).json
    assert _ids(utm) == expected and len(expected) >= len(_ids(base))


@pytest.mark.parametrize("param", ["crs", "bbox-crs", "filter-crs"])
def test_an_unsupported_crs_is_a_400_naming_the_parameter(as_role, param):
    r = as_role("viewer").get(ITEMS.format("tps") + f"?{param}=EPSG:27700&bbox=0,0,1,1")
    assert r.status_code == 400 and r.json["field"] == param


# --- Part 3: Filtering ----------------------------------------------------------------------

def test_conformance_declares_crs_filter_and_cql2_classes(as_role):
    conforms = set(as_role("viewer").get("/api/conformance").json["conformsTo"])
    for cls in ("ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/queryables",
                "ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json",
                "cql2/1.0/conf/basic-cql2", "cql2/1.0/conf/advanced-comparison-operators",
                "cql2/1.0/conf/basic-spatial-functions"):
        assert f"http://www.opengis.net/spec/{cls}" in conforms


def test_queryables_are_a_json_schema_of_the_declared_types(as_role, app):
    api = as_role("viewer")
    col = api.get("/api/collections/tps").json
    link = next(link for link in col["links"]
                if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables")
    r = api.get(link["href"])
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    schema = r.json
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["$id"]
    props = schema["properties"]
    layer = app.extensions["gisdesk.layers"]["tps"]
    want = {"string": "string", "integer": "integer", "boolean": "boolean"}
    for p in layer.properties:
        if p.type in want:
            assert props[p.name]["type"] == want[p.type], p.name
    assert "reasons" not in props and props["geometry"]["format"] == "geometry-point"
    assert api.get("/api/collections/tidak_ada/queryables").status_code == 404


# (CQL2-text, the same in CQL2-JSON, the same by hand in SQL over tps/tps_risk)
FILTERS = [
    ("kelas = 'rawan'", {"op": "=", "args": [{"property": "kelas"}, "rawan"]},
     "r.kelas = 'rawan'"),
    ("dpt > 280 AND kelas <> 'kurang_rawan'",
     {"op": "and", "args": [{"op": ">", "args": [{"property": "dpt"}, 280]},
                            {"op": "<>", "args": [{"property": "kelas"}, "kurang_rawan"]}]},
     "t.dpt > 280 AND r.kelas <> 'kurang_rawan'"),
    ("NOT (dpt < 250) OR escalated = true",
     {"op": "or", "args": [{"op": "not", "args": [{"op": "<", "args": [
         {"property": "dpt"}, 250]}]}, {"op": "=", "args": [{"property": "escalated"}, True]}]},
     "NOT (t.dpt < 250) OR COALESCE(r.escalated, false)"),
    ("alamat LIKE 'Jl. M%'", {"op": "like", "args": [{"property": "alamat"}, "Jl. M%"]},
     "t.alamat LIKE 'Jl. M%'"),
    ("kelas IN ('rawan', 'khusus')",
     {"op": "in", "args": [{"property": "kelas"}, ["rawan", "khusus"]]},
     "r.kelas IN ('rawan', 'khusus')"),
    ("nomor BETWEEN 3 AND 5", {"op": "between", "args": [{"property": "nomor"}, 3, 5]},
     "t.nomor BETWEEN 3 AND 5"),
    ("kelas_bawaslu IS NULL", {"op": "isNull", "args": [{"property": "kelas_bawaslu"}]},
     "r.kelas_bawaslu IS NULL"),
    ("S_INTERSECTS(geometry, BBOX(116.07, -8.60, 116.10, -8.57))",
     {"op": "s_intersects", "args": [{"property": "geometry"},
                                     {"bbox": [116.07, -8.60, 116.10, -8.57]}]},
     "ST_Intersects(t.geom, ST_MakeEnvelope(116.07, -8.60, 116.10, -8.57, 4326))"),
    ("S_INTERSECTS(geometry, POLYGON((116.07 -8.60, 116.10 -8.60, 116.10 -8.57, "
     "116.07 -8.60)))",
     {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon",
      "coordinates": [[[116.07, -8.60], [116.10, -8.60], [116.10, -8.57], [116.07, -8.60]]]}]},
     "ST_Intersects(t.geom, ST_GeomFromText('POLYGON((116.07 -8.60, 116.10 -8.60, "
     "116.10 -8.57, 116.07 -8.60))', 4326))"),
]


def _by_hand(engine, where: str) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT t.kode FROM tps t LEFT JOIN tps_risk r ON r.tps_id = t.id AND "
            f"r.election_id = t.election_id WHERE {where} ORDER BY t.kode")).scalars().all()


@pytest.mark.parametrize("cql_text, cql_json, sql", FILTERS, ids=[f[0][:40] for f in FILTERS])
def test_cql2_text_and_json_select_what_the_same_filter_in_sql_selects(
        as_role, engine, cql_text, cql_json, sql):
    expected = _by_hand(engine, sql)
    api = as_role("viewer")
    for raw, lang in ((cql_text, "cql2-text"), (json.dumps(cql_json), "cql2-json")):
        r = api.get(ITEMS.format("tps"), query_string={
            "filter": raw, "filter-lang": lang, "limit": 2000, "properties": "tps_kode"})
        assert r.status_code == 200, r.json
        assert _ids(r.json) == expected, (raw, lang)
    assert 0 < len(expected) < 1248 or "IS NULL" in cql_text


def test_filter_crs_reads_the_geometry_in_that_crs(as_role):
    api = as_role("viewer")
    plain = api.get(ITEMS.format("tps"), query_string={
        "filter": "S_INTERSECTS(geometry, BBOX(116.07, -8.60, 116.10, -8.57))",
        "limit": 2000}).json
    latlon = api.get(ITEMS.format("tps"), query_string={
        "filter": "S_INTERSECTS(geometry, BBOX(-8.60, 116.07, -8.57, 116.10))",
        "filter-crs": EPSG.format(4326), "limit": 2000}).json
    assert _ids(plain) == _ids(latlon) and plain["numberReturned"] > 0


def test_filter_combines_with_bbox_property_filters_and_datetime(as_role, engine):
    doc = as_role("viewer").get(ITEMS.format("incidents"), query_string={
        "filter": "tingkat IN ('sedang', 'berat')", "status": "verified",
        "datetime": "2024-01-01T00:00:00Z/..", "limit": 500}).json
    with engine.connect() as conn:
        n = conn.execute(text(
            "SELECT count(*) FROM incident WHERE severity IN ('sedang', 'berat') AND "
            "status = 'verified' AND occurred_at >= '2024-01-01Z'")).scalar_one()
    assert doc["numberMatched"] == n


@pytest.mark.parametrize("bad", [
    "kelas = ", "rahasia = 1", "dpt = 'banyak'", "kelas > 3", "reasons = 'x'",
    "S_INTERSECTS(kelas, BBOX(0,0,1,1))", "dpt + 1 > 2", "escalated > true",
    '{"op": "=", "args": [{"property": "kelas; DROP TABLE tps"}, 1]}', "{bukan json"])
def test_bad_filters_are_a_400_naming_filter(as_role, bad):
    r = as_role("viewer").get(ITEMS.format("tps"), query_string={"filter": bad})
    assert r.status_code == 400 and r.json["field"] in ("filter", "filter-lang"), r.json
    assert "Traceback" not in r.get_data(as_text=True)


# --- GDAL 3.6 with its defaults ------------------------------------------------------------------

class _Counting:
    """WSGI middleware counting item requests per collection."""

    def __init__(self, wsgi):
        self.wsgi, self.items, self.lock = wsgi, Counter(), threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/collections/") and path.endswith("/items"):
            with self.lock:
                self.items[path.split("/")[3]] += 1
        return self.wsgi(environ, start_response)


@pytest.fixture(scope="module")
def counted(engine, demo, tmp_path_factory):
    app = make_app(engine, tmp_path_factory.mktemp("gdal"))
    counter = _Counting(app.wsgi_app)
    app.wsgi_app = counter
    with LiveServer(app) as server:
        yield server, counter


def test_gdal_reads_every_collection_with_its_defaults_in_at_most_3_item_requests(
        counted, demo, engine, tmp_path):
    """ogr2ogr (system GDAL 3.6, no open options) over HTTP Basic with the planner's name and
    token: each collection comes whole, the city's 1,248 TPS in 3 item requests."""
    server, counter = counted
    with engine.connect() as conn:
        n_tps = conn.execute(text("SELECT count(*) FROM tps")).scalar_one()
    planner = demo["tokens"]["planner"]
    for layer, expected in (("tps", n_tps), ("kelurahan", 50), ("facilities", None),
                            ("incidents", None), ("kecamatan", 6)):
        out = tmp_path / f"{layer}.geojson"
        proc = subprocess.run(
            ["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{server.url}/api", layer,
             "--config", "GDAL_HTTP_USERPWD", f"perencana:{planner}"],
            capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        features = json.loads(out.read_text())["features"]
        assert expected is None or len(features) == expected, layer
        assert len(features) > 0
        assert counter.items[layer] <= 3, (layer, counter.items)
    assert counter.items["tps"] == 3
