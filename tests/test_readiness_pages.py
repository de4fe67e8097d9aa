"""Readiness pages (/kesiapan, /kesiapan/<tps>) and the map's reporting/polling config, without
a browser: real PostGIS with the analysed Mataram demo, requests through the Flask client."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from sqlalchemy import text

from gisdesk.accounts import create_user
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app



@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    with demo_engine.begin() as conn:
        kel = conn.execute(text("SELECT kelurahan_kode FROM tps ORDER BY kode DESC LIMIT 1")
                           ).scalar_one()
        create_user(conn, "petugas_kel", DEMO_PASSWORD, "desk_staff", kelurahan_kode=kel)
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "x", "login_rate_limit": "1000/300"})


def _token(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or \
        re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return m.group(1)


def login(app, username: str):
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


@pytest.fixture(scope="module")
def tps(demo_engine):
    with demo_engine.connect() as c:
        # a TPS in the kelurahan the demo's desk officer `petugas` may record for
        return c.execute(text("SELECT t.kode, t.kelurahan_kode, k.nama FROM tps t JOIN kelurahan k "
                              "ON k.kode = t.kelurahan_kode JOIN users u ON u.kelurahan_kode = "
                              "t.kelurahan_kode AND u.username = 'petugas' ORDER BY t.kode "
                              "LIMIT 1")).one()


def test_list_page_rollup_and_badges(app, demo_engine, tps):
    html = login(app, "koordinator").get(f"/kesiapan?kelurahan={tps.kelurahan_kode}"
                                         ).get_data(as_text=True)
    assert "Kesiapan TPS" in html and "Rekap per kelurahan" in html
    with demo_engine.connect() as c:
        n_kel = c.execute(text("SELECT count(DISTINCT kelurahan_kode) FROM tps")).scalar_one()
        n_tps = c.execute(text("SELECT count(*) FROM tps WHERE kelurahan_kode = :k"),
                          {"k": tps.kelurahan_kode}).scalar_one()
        states = dict(c.execute(text(
            "SELECT r.state, count(*) FROM tps t JOIN tps_readiness r ON r.tps_id = t.id "
            "WHERE t.kelurahan_kode = :k GROUP BY 1"), {"k": tps.kelurahan_kode}).all())
    assert len(re.findall(r'<tr data-kelurahan="', html)) == n_kel
    assert len(re.findall(r'<tr data-tps="', html)) == n_tps
    assert f'value="{tps.kelurahan_kode}" selected' in html
    for state in ("siap", "sebagian", "belum"):
        shown = re.search(rf'data-count="{state}">(\d+)<', html).group(1)
        expected = states.get(state, 0) + (n_tps - sum(states.values()) if state == "belum" else 0)
        assert int(shown) == expected, state
    assert "WITA" in html and 'class="rd-badge' in html


def test_list_default_is_user_scope_else_a_kelurahan_needing_attention(app, demo_engine):
    with demo_engine.connect() as c:
        scope = c.execute(text("SELECT kelurahan_kode FROM users WHERE username = 'petugas_kel'")
                          ).scalar_one()
    html = login(app, "petugas_kel").get("/kesiapan").get_data(as_text=True)
    assert f'value="{scope}" selected' in html
    html = login(app, "koordinator").get("/kesiapan?kelurahan=nope").get_data(as_text=True)
    chosen = re.search(r'value="([^"]+)" selected', html).group(1)
    with demo_engine.connect() as c:
        not_ready = c.execute(text(
            "SELECT count(*) FROM tps t LEFT JOIN tps_readiness r ON r.tps_id = t.id "
            "WHERE t.kelurahan_kode = :k AND r.state IS DISTINCT FROM 'siap'"), {"k": chosen}
            ).scalar_one()
    assert not_ready > 0


def test_tps_page_form_only_for_reporters(app, tps):
    viewer = login(app, "koordinator").get(f"/kesiapan/{tps.kode}")
    assert viewer.status_code == 200
    page = viewer.get_data(as_text=True)
    assert 'id="readiness-form"' not in page and 'id="readiness-readonly"' in page
    assert "Lokasi / tenda TPS berdiri" in page and "Riwayat" in page
    staff = login(app, "petugas").get(f"/kesiapan/{tps.kode}").get_data(as_text=True)
    assert 'id="readiness-form"' in staff and 'name="csrf-token"' in staff
    assert f'data-api="/api/tps/{tps.kode}/readiness"' in staff
    assert staff.count('name="item"') == len(json.loads(re.search(
        r'id="readiness-config">(.*?)</script>', staff, re.S).group(1))["checklist"])


def test_unknown_tps_is_a_page_error_not_a_crash(app):
    client = login(app, "koordinator")
    assert client.get("/kesiapan/52.71.99.1999-999").status_code == 404
    assert client.get("/kesiapan/bukan-kode").status_code == 422


def test_update_changes_state_history_and_list(app, tps):
    staff = login(app, "petugas")
    page = staff.get(f"/kesiapan/{tps.kode}").get_data(as_text=True)
    keys = [i["key"] for i in json.loads(re.search(
        r'id="readiness-config">(.*?)</script>', page, re.S).group(1))["checklist"]]
    before = staff.get(f"/api/tps/{tps.kode}/readiness").get_json()
    body = {"client_uuid": str(uuid.uuid4()), "items": {k: k != keys[0] for k in keys},
            "note": "tenda belum berdiri"}
    r = staff.post(f"/api/tps/{tps.kode}/readiness", json=body,
                   headers={"X-CSRFToken": _token(page)})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["current"]["state"] == "belum"
    page = staff.get(f"/kesiapan/{tps.kode}").get_data(as_text=True)
    assert "tenda belum berdiri" in page
    assert page.count("<tr>") - 1 >= len(before["history"]) + 1  # one more history row
    listing = staff.get(f"/kesiapan?kelurahan={tps.kelurahan_kode}").get_data(as_text=True)
    row = re.search(rf'<tr data-tps="{re.escape(tps.kode)}" data-state="(\w+)"', listing)
    assert row.group(1) == "belum"
    # a viewer may read the page but not post
    viewer = login(app, "koordinator")
    vpage = viewer.get(f"/kesiapan/{tps.kode}").get_data(as_text=True)
    assert "tenda belum berdiri" in vpage
    token = _token(viewer.get("/login").get_data(as_text=True))
    r = viewer.post(f"/api/tps/{tps.kode}/readiness", json={**body, "client_uuid": str(uuid.uuid4())},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 403


def _map_config(client) -> dict:
    html = client.get("/map").get_data(as_text=True)
    return json.loads(re.search(r'id="gisdesk-map-config">(.*?)</script>', html, re.S).group(1))


def test_map_config_reporting_flags(app):
    staff = _map_config(login(app, "petugas"))
    assert staff["can_report"] is True and staff["report_url"] == "/lapor"
    assert staff["readiness_url"] == "/kesiapan/__TPS__"
    assert "incidents" in staff["live_layers"] and "tps" in staff["tps_layers"]
    assert staff["time_pinned"] is True and staff["poll_seconds"] == 20
    viewer = _map_config(login(app, "koordinator"))
    assert viewer["can_report"] is False and viewer["report_url"] is None
    assert viewer["readiness_url"] is None


def test_live_layer_etag_and_304(app):
    client = login(app, "koordinator")
    first = client.get("/map/layers/incidents.geojson")
    assert first.status_code == 200 and first.headers.get("ETag")
    n = len(first.get_json()["features"])
    again = client.get("/map/layers/incidents.geojson",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    stale = client.get("/map/layers/incidents.geojson", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and len(stale.get_json()["features"]) == n
    # the big layers still stream, without an ETag
    assert "ETag" not in client.get("/map/layers/tps.geojson").headers


def test_readiness_entries_name_the_desk_staff_who_ticked_them_not_cli_root(app, tps):
    html = login(app, "koordinator").get(f"/kesiapan?kelurahan={tps.kelurahan_kode}"
                                         ).get_data(as_text=True)
    assert "Petugas desk kelurahan (demo) (petugas)" in html
    assert "cli:" not in html and ">demo<" not in html


@pytest.mark.parametrize("username, lands_on", [
    ("petugas", "/lapor"), ("operator_kpu", "/hasil/input"), ("koordinator", "/map"),
    ("supervisor", "/map")])
def test_each_role_lands_where_its_work_is(app, username, lands_on):
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                    "csrf_token": token})
    assert r.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == lands_on
