"""Issue 12, items 4-7: bad input is a 4xx before anything is sent, the quick count's very
existence stays hidden, one 503 for every URL while the database is down, and the incident
GeoPackage once a report came through the API."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import create_engine, text

from gisdesk.demo.taxonomy import DEMO_PASSWORD, USERS
from gisdesk.web import create_app

ROLE_USERS = {spec[0]: name for name, spec in USERS.items()}
BIG = "99999999999999999999"


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "hardening", "login_rate_limit": "1000/300"})


def _login(app, role: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": ROLE_USERS[role], "password": DEMO_PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 302
    client.csrf = token
    return client


def _shape(response) -> tuple:
    """What a caller can compare: status, header names, body without the per-request nonce
    and CSRF token (signed with the time: two requests a second apart differ)."""
    body = re.sub(rb"nonce-?=?\"?[A-Za-z0-9_-]{16,}", b"NONCE", response.get_data())
    body = re.sub(rb'name="csrf_token" value="[^"]+"', b'name="csrf_token" value="CSRF"', body)
    return response.status_code, sorted(response.headers.keys()), body


def _rows(engine) -> tuple:
    with engine.connect() as c:
        return tuple(c.execute(text(
            "SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM result_entry), "
            "(SELECT count(*) FROM tps_readiness_history), (SELECT count(*) FROM personnel_move)")).one())


# --- item 5: 4xx, never 500, and validated before a streamed answer starts ----------------

@pytest.mark.parametrize("query", [f"limit={BIG}", f"offset={BIG}", "kelas=%00", "limit=-1"])
def test_streamed_layer_refuses_bad_parameters_with_422_json_before_sending(app, query):
    r = _login(app, "viewer").get(f"/map/layers/tps.geojson?{query}")
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] and body["field"] == query.split("=")[0]


def test_audit_page_number_beyond_any_page_is_refused_not_a_server_error(app):
    r = _login(app, "supervisor").get(f"/audit?page={BIG}")
    assert r.status_code == 422
    assert "page" in r.get_data(as_text=True)


@pytest.mark.parametrize("name,body", [
    ("nul", '{"description": "a\\u0000b"}'),
    ("surrogate", '{"description": "a\\ud800b"}'),
    ("deep", "[" * 50000 + "]" * 50000),
    ("long_tps", '{"tps": ' + "9" * 5000 + "}"),
    ("huge_count", '{"count": 1e30}'),
    ("nan", '{"count": NaN}'),
])
def test_hostile_json_gets_422_with_a_field_and_writes_nothing(app, demo_engine, name, body):
    client = _login(app, "supervisor")
    before = _rows(demo_engine)
    for url in ("/api/incidents", "/api/moves"):
        r = client.post(url, data=body, content_type="application/json",
                        headers={"X-CSRFToken": client.csrf})
        assert r.status_code == 422, (url, r.status_code, r.get_data()[:200])
        assert r.get_json()["field"]
    assert _rows(demo_engine) == before


def test_vote_written_as_superscript_two_is_refused_not_a_server_error(app, demo_engine):
    client = _login(app, "operator")
    with demo_engine.connect() as c:
        tps = c.execute(text("SELECT kode FROM tps ORDER BY kode LIMIT 1")).scalar_one()
    before = _rows(demo_engine)
    r = client.post("/api/results", json={"id": str(uuid.uuid4()), "tps_kode": tps,
                                          "contest": "ppwp", "votes": {"1": "²", "2": "3"}},
                    headers={"X-CSRFToken": client.csrf})
    assert r.status_code == 422
    assert r.get_json()["field"] == "votes.1"
    assert _rows(demo_engine) == before


def test_tps_given_as_superscript_digit_is_refused(app):
    client = _login(app, "desk_staff")
    r = client.post("/api/incidents", json={
        "id": str(uuid.uuid4()), "category": "intimidasi", "severity": "sedang",
        "occurred_at": "2024-02-14T09:30", "lon": 116.1, "lat": -8.58, "tps": "²"},
        headers={"X-CSRFToken": client.csrf})
    assert r.status_code == 422


def test_nul_in_a_header_a_query_filter_a_form_field_and_the_login_name_is_refused(app):
    viewer = _login(app, "viewer")
    assert viewer.get("/map", headers={"X-Catatan": "a\x00b"}).status_code == 422
    assert viewer.get("/api/incidents?kategori=a%00b").status_code == 422
    anonymous = app.test_client()
    page = anonymous.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = anonymous.post("/login", data={"username": "admin\x00", "password": DEMO_PASSWORD,
                                       "csrf_token": token})
    assert r.status_code == 422
    assert "NUL" in r.get_data(as_text=True)


# --- item 4: incident GeoPackage after a report through the API ---------------------------

def test_incident_geopackage_exports_after_a_report_came_through_the_api(app):
    desk = _login(app, "supervisor")   # city-wide (the demo desk staff are kelurahan-scoped)
    r = desk.post("/api/incidents", json={
        "id": str(uuid.uuid4()), "category": "intimidasi", "severity": "sedang",
        "description": "uji ekspor", "occurred_at": "2024-02-14T09:30", "lon": 116.1,
        "lat": -8.58}, headers={"X-CSRFToken": desk.csrf})
    assert r.status_code == 201
    with _login(app, "supervisor").get("/export/incidents.gpkg") as r:
        assert r.status_code == 200
        assert r.get_data()[:16] == b"SQLite format 3\x00"


# --- item 6: the quick count's existence does not show -----------------------------------

HIDDEN_VS_MISSING = [
    ("GET", "/api/results", "/api/tidak-ada"),
    ("GET", "/hitung-cepat/tanda/1", "/hitung-cepat/tidak-ada/1"),
    ("PUT", "/hitung-cepat", "/tidak-ada"),
    ("GET", "/hitung-cepat", "/tidak-ada"),
    ("GET", "/api/quickcount/summary", "/api/tidak-ada"),
]


@pytest.mark.parametrize("role", ["viewer", "planner", "desk_staff"])
def test_lower_roles_get_for_quick_count_urls_exactly_what_a_missing_url_gets(app, role):
    client = _login(app, role)
    for method, hidden, missing in HIDDEN_VS_MISSING:
        headers = {"X-CSRFToken": client.csrf}
        got = client.open(hidden, method=method, headers=headers)
        expected = client.open(missing, method=method, headers=headers)
        assert got.status_code == 404, (method, hidden, got.status_code)
        assert _shape(got) == _shape(expected), (method, hidden, dict(got.headers),
                                                 dict(expected.headers))


def test_quick_count_tiles_are_never_cached(app):
    r = _login(app, "supervisor").get("/tiles/quickcount/12/3368/2145.pbf")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert "Pragma" not in r.headers


# --- item 7: database down -> the same 503 everywhere, and recovery ----------------------

def test_database_down_gives_every_url_the_same_503_and_recovers_by_itself(
        server_url, demo_template, tmp_path):
    from gisdesk.db import testing as dbtesting
    name = f"gt_down_{uuid.uuid4().hex[:8]}"
    url = dbtesting.clone(server_url, demo_template, name)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        app = create_app({"database_url": url, "testing": True, "home": tmp_path,
                          "secret_key": "down", "login_rate_limit": "1000/300"})
        app.extensions["gisdesk.db_health"].recheck = 0   # no waiting in the test
        viewer, supervisor = _login(app, "viewer"), _login(app, "supervisor")
        assert viewer.get("/map").status_code == 200

        with admin.connect() as c:   # the server refuses this database, as if it were stopped
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = :d"), {"d": name})
        shapes = {}
        for who, client in (("viewer", viewer), ("supervisor", supervisor),
                            ("anonymous", app.test_client())):
            for method, path in (("GET", "/hitung-cepat"), ("GET", "/api/results"),
                                 ("GET", "/tidak-ada"), ("GET", "/map"),
                                 ("GET", "/api/quickcount/summary"), ("GET", "/api/tidak-ada"),
                                 ("PUT", "/hitung-cepat"), ("GET", "/api/collections"),
                                 ("GET", "/static/gisdesk.css")):
                r = client.open(path, method=method)
                assert r.status_code == 503, (who, method, path, r.status_code)
                kind = "json" if path.startswith("/api") else "html"
                _, headers, body = _shape(r)
                shapes.setdefault(kind, set()).add((tuple(headers), body))
                assert b"hitung" not in r.get_data().lower()
        assert len(shapes["json"]) == 1 and len(shapes["html"]) == 1, [h for h, _ in shapes["html"]]
        assert viewer.get("/healthz").status_code == 503

        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert viewer.get("/map").status_code == 200
        assert viewer.get("/tidak-ada").status_code == 404
        app.extensions["gisdesk.engine"].dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        dbtesting.drop_database(server_url, name)
