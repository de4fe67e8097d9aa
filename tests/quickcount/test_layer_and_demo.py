"""The quick-count map layer (layers/quickcount.toml) and the demo's results.

The layer is the registry's door to the quick count: supervisor and admin see it on the map,
in the OGC API and in exports; for every other role it does not exist. Its numbers are the
ones gisdesk.quickcount.aggregate counts. The demo (built once per session by load_demo)
holds deterministic results with a few open flags, and loading again changes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from gisdesk import layers as registry
from gisdesk import quickcount as qc
from gisdesk.demo.load import load_demo
from gisdesk.demo.results import DemoTps, load_results, plan_results
from gisdesk.quickcount.aggregate import kelurahan_areas
from gisdesk.quickcount.rules import check_arithmetic
from gisdesk.web import create_app

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mataram2024"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIDDEN = ("koordinator", "perencana", "petugas", "operator_kpu")   # viewer .. operator
SEEING = ("supervisor", "admin")


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "x", "login_rate_limit": "1000/300"})


@pytest.fixture(scope="module")
def login(app):
    clients = {}

    def _login(username: str):
        if username not in clients:
            client = app.test_client()
            token = CSRF_INPUT.search(client.get("/login").text).group(1)
            done = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": token})
            assert done.status_code == 302, (username, done.status_code)
            clients[username] = client
        return clients[username]
    return _login


@pytest.fixture(scope="module")
def contest(demo_engine):
    with demo_engine.connect() as conn:
        election = qc.active_election(conn)
        return qc.contest(conn, election.id, None)


def _counts(conn) -> dict:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("result_entry", "result_flag", "result_flag_history")} | {
        "audit_demo_results": conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE action = 'demo.results'")).scalar_one()}


# --- the layer file -------------------------------------------------------------------------

def test_the_layer_is_declared_secret_and_not_shown_by_default():
    layer = registry.load(ROOT / "layers")["quickcount"]
    assert layer.permission == "quickcount" and layer.export_permission == "quickcount"
    assert layer.geometry == "MultiPolygon" and not layer.default_visible
    assert "TIDAK RESMI" in layer.title
    names = [p.name for p in layer.properties]
    assert names[0] == "kelurahan_kode"
    assert {"tps_masuk", "tps_total", "progres_persen", "dpt_masuk", "dpt_total", "suara",
            "suara_json", "unggul_nama", "keterangan"} <= set(names)
    assert {"tps_masuk", "tps_total", "suara", "keterangan"} <= set(layer.popup["fields"])
    assert set(registry.visible_layers("supervisor", {"quickcount": layer})) == {"quickcount"}
    for role in ("viewer", "planner", "desk_staff", "operator"):
        assert registry.visible_layers(role, {"quickcount": layer}) == {}


# --- who sees it ----------------------------------------------------------------------------

@pytest.mark.parametrize("username", SEEING)
def test_supervisor_and_admin_see_the_layer_with_progress(login, username):
    client = login(username)
    r = client.get("/map/layers/quickcount.geojson")
    assert r.status_code == 200, r.text
    doc = json.loads(r.get_data(as_text=True))
    assert doc["name"] == "quickcount" and len(doc["features"]) == 50
    props = [f["properties"] for f in doc["features"]]
    assert all(p["tps_total"] > 0 and 0 <= p["tps_masuk"] <= p["tps_total"] for p in props)
    assert sum(p["tps_masuk"] for p in props) > 0
    assert any(p["progres_persen"] > 0 for p in props)
    assert all("TIDAK RESMI" in p["keterangan"] for p in props)
    assert all(len(p["suara"]) == 3 and len(json.loads(p["suara_json"])) == 3 for p in props)
    assert sum(p["tps_beda"] for p in props) >= 6
    ids = {c["id"] for c in client.get("/api/collections").json["collections"]}
    assert "quickcount" in ids
    assert client.get("/api/collections/quickcount").status_code == 200
    items = client.get("/api/collections/quickcount/items?limit=5")
    assert items.status_code == 200 and items.json["numberReturned"] == 5
    page = client.get("/map")
    assert page.status_code == 200 and "/map/layers/quickcount.geojson" in page.text


@pytest.mark.parametrize("username", HIDDEN)
def test_other_roles_find_no_quickcount_layer_anywhere(login, username):
    client = login(username)
    r = client.get("/map/layers/quickcount.geojson")
    assert r.status_code == 404
    assert "TIDAK RESMI" not in r.get_data(as_text=True)
    ids = {c["id"] for c in client.get("/api/collections").json["collections"]}
    assert "quickcount" not in ids and "tps" in ids
    for url in ("/api/collections/quickcount", "/api/collections/quickcount/items",
                "/api/collections/quickcount/items/52.71.01.1001"):
        assert client.get(url).status_code == 404, url
    assert "quickcount" not in client.get("/api/openapi").get_data(as_text=True)
    page = client.get("/map").get_data(as_text=True)
    assert "quickcount" not in page and "TIDAK RESMI" not in page


def test_a_planner_cannot_export_it_and_a_supervisor_can(login):
    for fmt in ("geojson", "csv"):
        r = login("perencana").get(f"/export/quickcount.{fmt}")
        assert r.status_code in (403, 404), r.status_code
        assert "TIDAK RESMI" not in r.get_data(as_text=True)
    r = login("supervisor").get("/export/quickcount.geojson")
    assert r.status_code == 200
    doc = json.loads(r.get_data(as_text=True))
    assert len(doc["features"]) == 50


# --- the numbers are aggregate.py's ---------------------------------------------------------

def test_layer_numbers_match_the_quickcount_aggregation(demo_engine, login, contest):
    doc = json.loads(login("supervisor").get("/map/layers/quickcount.geojson")
                     .get_data(as_text=True))
    by_kode = {f["properties"]["kelurahan_kode"]: f["properties"] for f in doc["features"]}
    with demo_engine.connect() as conn:
        areas = kelurahan_areas(conn, contest.election_id, contest)
    assert set(by_kode) == {a.kode for a in areas}
    for a in areas:
        p = by_kode[a.kode]
        assert (p["tps_masuk"], p["tps_total"], p["tps_beda"]) == \
            (a.tps_in, a.tps_total, a.tps_flagged), a.kode
        assert (p["dpt_masuk"], p["dpt_total"]) == (a.dpt_in, a.dpt_total)
        assert (p["suara_sah"], p["suara_tidak_sah"]) == (a.valid, a.invalid)
        assert p["progres_persen"] == a.progress_pct and p["dpt_persen"] == a.dpt_pct
        cand = json.loads(p["suara_json"])
        assert {c["nomor"]: c["suara"] for c in cand} == a.votes
        assert {c["nomor"]: c["persen"] for c in cand} == a.shares
        assert p["unggul_nomor"] == a.leading
        if a.leading:
            assert p["unggul_nama"] == dict(contest.candidates)[a.leading]
            assert p["unggul_persen"] == a.shares[a.leading]


# --- the demo results -----------------------------------------------------------------------

def test_demo_city_has_progress_and_open_flags_for_the_supervisor(demo_engine, contest):
    with demo_engine.connect() as conn:
        s = qc.summary(conn, contest.election_id, contest)
        flags = qc.list_flags(conn, contest.election_id, contest.id)
        by_agency = dict(conn.execute(text(
            "SELECT agency, count(*) FROM result_entry WHERE status = 'active' GROUP BY 1")).all())
        audits = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'demo.results'"
                                   )).scalars().all()
    city = s["city"]
    assert city["tps_total"] == 1248 and 0 < city["progress_pct"] < 100
    assert 6 <= s["flags_open"] <= 10
    opened = [f for f in flags if f["status"] == "open"]
    assert len(opened) == s["flags_open"]
    assert all(len(f["entries"]) >= 2 and f["detail"] for f in opened)
    # ~55 % KPU, ~25 % Polri, ~10 % Bawaslu of 1,248 TPS
    assert by_agency == {"kpu": 686, "polri": 312, "bawaslu": 125}
    shares = city["shares"]
    assert 20 < shares["1"] < 32 and 50 < shares["2"] < 66 and 10 < shares["3"] < 22
    assert city["leading"] == 2
    assert 0.74 < city["ballots_used"] / city["dpt_in"] < 0.88
    assert 0.009 < city["invalid"] / city["ballots_used"] < 0.032
    assert len(audits) == 1 and audits[0]["counts"]["flags_open"] == s["flags_open"]


def test_every_demo_entry_obeys_the_tally_rules(demo_engine, contest):
    with demo_engine.connect() as conn:
        election = qc.active_election(conn)
        rows = conn.execute(text("SELECT e.id, e.dpt, t.dpt AS tps_dpt FROM result_entry e "
                                 "JOIN tps t ON t.id = e.tps_id")).all()
        capacity = qc.QuickCountRules().capacity(election.max_voters_per_tps)
        for row in rows:
            entry = qc.store.get_entry(conn, row.id)
            assert check_arithmetic(entry.numbers, capacity) == [], row.id
            assert row.dpt == row.tps_dpt
            assert set(entry.numbers.votes) == set(contest.nomors)


def test_the_demo_plan_is_deterministic_by_seed():
    tps = [DemoTps(i, f"52.71.0{1 + i % 6}.1001-{i:03d}", f"52.71.0{1 + i % 6}", 250 + i % 40)
           for i in range(1, 401)]
    kw = {"voting_date": dt.date(2024, 2, 14), "capacity": 308}
    one, same = (plan_results(tps, (1, 2, 3), seed=7, **kw) for _ in range(2))
    other = plan_results(tps, (1, 2, 3), seed=8, **kw)
    key = lambda p: [(e.id, e.agency, e.numbers.as_json(), e.entered_at) for e in p.entries]  # noqa: E731
    assert key(one) == key(same) and key(one) != key(other)
    assert one.by_agency() == {"kpu": 220, "polri": 100, "bawaslu": 40}
    assert 6 <= len(one.disagreeing) <= 10
    assert all(e.entered_at.date() == dt.date(2024, 2, 14) for e in one.entries)


def test_loading_again_changes_no_result(demo_engine, contest):
    with demo_engine.connect() as conn:
        before = _counts(conn)
        conn.rollback()
        again = load_demo(conn, seed=2024)
        assert not again["created"]
        with conn.begin():
            repeat = load_results(conn, contest.election_id, seed=99)
        after = _counts(conn)
    assert not repeat["created"] and repeat["entries"] == before["result_entry"]
    assert after == before and before["audit_demo_results"] == 1
