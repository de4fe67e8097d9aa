"""OGC API Features over the demo: documents, paging, filters, errors, roles."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

GEOJSON = "application/geo+json"


def test_landing_page_links_api_description_conformance_and_data(as_role):
    r = as_role("viewer").get("/api")
    assert r.status_code == 200 and r.mimetype == "application/json"
    rels = {link["rel"]: link["href"] for link in r.json["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"].endswith("/api/openapi")
    assert "export" in r.json["description"]  # the export rule is documented here
    assert as_role("viewer").get("/api/").status_code == 200


def test_conformance_declares_core_geojson_oas30_html(as_role):
    conforms = as_role("viewer").get("/api/conformance").json["conformsTo"]
    for cls in ("core", "geojson", "oas30", "html"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{cls}" in conforms


def test_collections_list_the_layers_with_extent_from_the_data(as_role, engine):
    cols = {c["id"]: c for c in as_role("viewer").get("/api/collections").json["collections"]}
    assert {"tps", "kelurahan", "kecamatan", "incidents"} <= set(cols)
    tps = cols["tps"]
    assert tps["itemType"] == "feature"
    assert tps["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert "http://www.opengis.net/def/crs/EPSG/0/32750" in tps["crs"]
    with engine.connect() as conn:
        box = conn.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                "(SELECT ST_Extent(geom) e FROM tps) s")).one()
    assert tps["extent"]["spatial"]["bbox"][0] == pytest.approx(list(box), abs=1e-9)
    assert "temporal" in cols["incidents"]["extent"]


def test_items_page_has_counts_timestamp_links_and_geojson_type(as_role):
    assert as_role("viewer").get("/api/collections/tps/items?limit=10").json[
        "numberMatched"] == 1248  # counted on the first page of a read
    r = as_role("viewer").get("/api/collections/tps/items?limit=10&offset=20")
    assert r.status_code == 200 and r.mimetype == GEOJSON
    doc = r.json
    assert doc["type"] == "FeatureCollection"
    assert "numberMatched" not in doc and doc["numberReturned"] == 10  # not counted again
    assert len(doc["features"]) == 10
    assert dt.datetime.fromisoformat(doc["timeStamp"].replace("Z", "+00:00"))
    rels = {link["rel"]: link["href"] for link in doc["links"]}
    assert {"self", "next", "prev", "alternate"} <= set(rels)
    assert "offset=30" in rels["next"] and "offset=10" in rels["prev"]
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert 116.0 < lon < 116.2 and -8.7 < lat < -8.5  # lon/lat order


def test_paging_walks_every_feature_exactly_once(as_role):
    api, ids = as_role("viewer"), []
    url = "/api/collections/tps/items?limit=100"
    while url:
        doc = api.get(url).json
        ids += [f["id"] for f in doc["features"]]
        url = next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)
    assert len(ids) == 1248 and len(set(ids)) == 1248


def test_bbox_datetime_and_property_filters_narrow_the_items(as_role, engine):
    api = as_role("viewer")
    with engine.connect() as conn:
        rawan = conn.execute(text("SELECT count(*) FROM tps_risk WHERE kelas = 'rawan'")).scalar()
        in_box = conn.execute(text(
            "SELECT count(*) FROM tps WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(116.07, -8.60, 116.10, -8.57, 4326))")).scalar()
        first = conn.execute(text("SELECT min(occurred_at) FROM incident "
                                  "WHERE status NOT IN ('rejected', 'merged')")).scalar()
    assert api.get("/api/collections/tps/items?kelas=rawan&limit=1").json[
        "numberMatched"] == rawan > 0
    assert api.get("/api/collections/tps/items?bbox=116.07,-8.60,116.10,-8.57").json[
        "numberMatched"] == in_box > 0
    instant = first.astimezone(dt.timezone.utc).isoformat()
    doc = api.get("/api/collections/incidents/items", query_string={"datetime": instant}).json
    assert doc["numberMatched"] >= 1
    assert api.get("/api/collections/incidents/items",
                   query_string={"datetime": f"../{instant}"}).json["numberMatched"] == \
        doc["numberMatched"]


@pytest.mark.parametrize("query, field", [
    ("bbox=1,2,3", "bbox"), ("bbox=10,0,5,1", "bbox"), ("limit=0", "limit"),
    ("limit=banyak", "limit"), ("offset=-1", "offset"), ("warna=merah", "warna"),
    ("datetime=kemarin", "datetime"), ("f=xml", "f"), ("dpt=banyak", "dpt"),
    ("escalated=mungkin", "escalated"),
])
def test_bad_parameters_answer_400_naming_the_parameter(as_role, query, field):
    r = as_role("viewer").get(f"/api/collections/tps/items?{query}")
    assert r.status_code == 400, r.json
    assert r.json["code"] and field in (r.json.get("field"), r.json["description"])
    assert "Traceback" not in r.get_data(as_text=True)


def test_datetime_on_incidents_validates_intervals(as_role):
    api = as_role("viewer")
    for bad in ("kemarin", "../..", "2024-02-15T00:00:00Z/2024-02-14T00:00:00Z"):
        assert api.get("/api/collections/incidents/items",
                       query_string={"datetime": bad}).status_code == 400


def test_single_feature_and_missing_one(as_role):
    api = as_role("viewer")
    first = api.get("/api/collections/tps/items?limit=1").json["features"][0]
    r = api.get(f"/api/collections/tps/items/{first['id']}")
    assert r.status_code == 200 and r.mimetype == GEOJSON
    assert r.json["id"] == first["id"] and r.json["properties"]["tps_kode"] == first["id"]
    missing = api.get("/api/collections/tps/items/52.71.99.9999-999")
    assert missing.status_code == 404 and missing.json["code"] == "NotFound"
    assert api.get("/api/collections/facilities/items/bukan-angka").status_code == 404
    assert api.get("/api/collections/tidak_ada").status_code == 404
    assert api.get("/api/collections/tidak_ada/items").json["code"] == "NotFound"


def test_html_pages_render_for_browsers(as_role):
    for url in ("/api", "/api/conformance", "/api/collections", "/api/collections/tps",
                "/api/collections/tps/items?limit=5", "/api/collections/kelurahan/items"):
        # a fresh client each time: the page sets a session cookie (its CSRF token)
        r = as_role("viewer").get(url, headers={
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert r.status_code == 200 and r.mimetype == "text/html", url
    page = as_role("viewer").get("/api/collections/tps/items?f=html&limit=3").get_data(as_text=True)
    assert "52.71." in page


def test_anonymous_gets_401_json(app):
    r = app.test_client().get("/api/collections")
    assert r.status_code == 401 and r.is_json and r.json["code"] == "Unauthorized"
    assert app.test_client().get("/api/collections",
                                 headers={"Authorization": "Bearer salah"}).status_code == 401


def test_viewer_pages_items_but_csv_is_an_export(as_role):
    viewer = as_role("viewer")
    assert viewer.get("/api/collections/tps/items?limit=10000").json["numberReturned"] == 1248
    r = viewer.get("/api/collections/tps/items?f=csv")
    assert r.status_code == 403 and r.json["code"] == "Forbidden"
    for fmt in ("csv", "gpkg", "geojson"):  # fresh clients: the 403 page sets a cookie
        assert as_role("viewer").get(f"/export/tps.{fmt}").status_code == 403
    planner = as_role("planner").get("/api/collections/tps/items?f=csv&limit=5")
    assert planner.status_code == 200 and planner.mimetype == "text/csv"
    assert planner.data.startswith(b"\xef\xbb\xbf") and len(planner.data.splitlines()) == 6


def test_exports_are_audited_with_format_filters_and_count(as_role, engine):
    r = as_role("planner").get("/export/tps.geojson?kelas=rawan")
    assert r.status_code == 200 and r.mimetype == GEOJSON
    n = len(r.json["features"])
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, target, detail FROM audit_log WHERE action = "
                                "'export.tps' ORDER BY id DESC LIMIT 1")).one()
    assert row.actor == "perencana" and row.target == "tps"
    assert row.detail["format"] == "geojson" and row.detail["count"] == n
    assert row.detail["filters"] == {"kelas": "rawan"}


def test_openapi_document_has_per_collection_paths_and_filters(as_role):
    doc = as_role("viewer").get("/api/openapi").json
    assert doc["openapi"].startswith("3.0")
    items = doc["paths"]["/collections/tps/items"]["get"]
    names = {p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in items["parameters"]}
    assert {"bbox", "limit", "offset", "kelas", "kelurahan_kode"} <= names
    assert "datetime" not in names
    assert "datetime" in {p.get("$ref", "/").rsplit("/", 1)[1] for p in
                          doc["paths"]["/collections/incidents/items"]["get"]["parameters"]}
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 10000
