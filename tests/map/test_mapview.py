"""The map's HTTP endpoints through Flask's test client (the browser tests do the rest)."""
from __future__ import annotations

import json
import re

from map.conftest import login
from map.seed import kelas_of


def test_anonymous_map_redirects_and_json_answers_401(app):
    client = app.test_client()
    response = client.get("/map")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for url in ("/map/layers/tps.geojson", "/map/gaps.json", "/map/summary.json",
                "/map/search?q=amp"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.get_json()["status"] == 401


def test_map_page_uses_only_local_assets(app):
    client = login(app.test_client(), "viewer")
    html = client.get("/map").get_data(as_text=True)
    assert "DATA DEMO" in html and "Kekurangan personel terbesar" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
    assert "cdn" not in html.lower() and "bootstrap" not in html.lower()


def test_layer_geojson_streams_and_validates(app):
    client = login(app.test_client(), "viewer")
    response = client.get("/map/layers/tps.geojson?kecamatan_kode=52.71.02&limit=5")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    fc = json.loads(response.get_data(as_text=True))
    assert len(fc["features"]) == 5
    assert {f["properties"]["kecamatan_kode"] for f in fc["features"]} == {"52.71.02"}
    response = client.get("/map/layers/tps.geojson?password_hash=x")
    assert response.status_code == 422 and response.get_json()["field"] == "password_hash"
    response = client.get("/map/layers/tps.geojson?limit=banyak")
    assert response.status_code == 422 and response.get_json()["field"] == "limit"


def test_unknown_layer_is_404_json(app):
    client = login(app.test_client(), "viewer")
    response = client.get("/map/layers/tidak_ada.geojson")
    assert response.status_code == 404 and response.get_json()["status"] == 404


def test_gaps_are_sorted_by_polri_gap(app):
    client = login(app.test_client(), "planner")
    rows = client.get("/map/gaps.json").get_json()["rows"]
    assert [r["polri_gap"] for r in rows] == [6, 1, -2]
    rows = client.get("/map/gaps.json?kecamatan=52.71.02").get_json()["rows"]
    assert [r["kelurahan_nama"] for r in rows] == ["Pagesangan"]
    assert client.get("/map/gaps.json?kecamatan=x'--").status_code == 422


def test_summary_counts_the_city(app):
    client = login(app.test_client(), "desk_staff")
    body = client.get("/map/summary.json").get_json()
    assert body["election"]["is_demo"] is True
    assert body["summary"]["tps"] == 30
    # kurang sums the short kelurahan (6 + 1); Pagesangan's 2 extra do not cover them
    assert body["summary"]["polri"] == {"required": 20, "assigned": 15, "short": 7, "surplus": 2}
    polri = body["summary"]["polri"]
    assert polri["required"] - polri["assigned"] == polri["short"] - polri["surplus"]


def test_summary_follows_the_kecamatan_and_class_filters(app):
    client = login(app.test_client(), "viewer")
    ampenan = client.get("/map/summary.json?kecamatan=52.71.01").get_json()["summary"]
    assert ampenan["scope"] == {"kecamatan_kode": "52.71.01", "kecamatan_nama": "Ampenan",
                                "classes": None}
    rawan = client.get("/map/summary.json?kelas=rawan,sangat_rawan").get_json()["summary"]
    expected = sum(1 for i in range(30) if kelas_of(i) in ("rawan", "sangat_rawan"))
    assert rawan["tps"] == expected and set(rawan["by_class"]) == {"rawan", "sangat_rawan"}
    assert rawan["polri"]["required"] == 20   # personnel are planned per kelurahan, all classes
    none = client.get("/map/summary.json?kelas=").get_json()["summary"]
    assert none["tps"] == 0 and none["scope"]["classes"] == []
    bad = client.get("/map/summary.json?kelas=merah")
    assert bad.status_code == 422 and bad.get_json()["field"] == "kelas"
    assert client.get("/map/summary.json?kecamatan=52.71.09").status_code == 422


def test_strip_names_its_scope_and_explains_the_shortfall(app):
    client = login(app.test_client(), "viewer")
    html = client.get("/map/strip?kecamatan=52.71.02&kelas=khusus").get_data(as_text=True)
    assert "Kecamatan Mataram" in html and "kelas khusus" in html
    assert "lebih <b>2</b> di kelurahan lain" in html
    assert "butuh − ada = kurang − lebih" in html
    assert "angka personel mencakup semua kelas" in html
    city = client.get("/map/strip").get_data(as_text=True)
    assert "Seluruh kota" in city and "semua kelas TPS" in city
    page = client.get("/map?kecamatan=52.71.01").get_data(as_text=True)  # a shared link
    assert "Kecamatan Ampenan" in page


def test_summary_of_a_kecamatan_reads_its_stored_sums(app):
    client = login(app.test_client(), "viewer")
    body = client.get("/map/summary.json?kecamatan=52.71.01").get_json()["summary"]
    # Ampenan Selatan short 6 and Ampenan Tengah short 1 (Pagesangan's surplus is elsewhere)
    assert body["polri"] == {"required": 16, "assigned": 9, "short": 7, "surplus": 0}
    assert body["tps"] == 20 and sum(body["by_class"].values()) == 20
    assert body["kelurahan_short"] == 2
    assert client.get("/map/summary.json?kecamatan=52.71").status_code == 422


def test_search_finds_tps_and_kelurahan(app):
    client = login(app.test_client(), "viewer")
    hits = client.get("/map/search?q=TPS 004").get_json()["results"]
    assert {h["kode"] for h in hits} == {"52.71.01.1004-004", "52.71.01.1005-004",
                                         "52.71.02.1001-004"}
    hits = client.get("/map/search?q=pagesa").get_json()["results"]
    assert hits[0]["kind"] == "kelurahan" and hits[0]["kode"] == "52.71.02.1001"
    assert client.get("/map/search?q=%25%25").get_json()["results"] == []  # % is literal
    assert client.get("/map/search?q=52.71.01.1005-002").get_json()["results"][0]["kind"] == "tps"


def test_operator_sees_the_map_but_vendor_assets_are_cached(app):
    client = login(app.test_client(), "operator")
    assert client.get("/map").status_code == 200
    response = client.get("/vendor/leaflet/leaflet.js?v=1.9.3")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    response.close()
    assert client.get("/vendor/leaflet/../../../../etc/passwd").status_code == 404
    assert client.get("/vendor/nope/x.js").status_code == 404
