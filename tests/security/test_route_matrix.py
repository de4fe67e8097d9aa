"""Every route x every role: allowed or refused, decided on the server.

A new route fails ``test_every_route_is_classified`` until it is added to ROUTES with the
permission it needs; the matrix then checks each role against it with real requests.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gisdesk.demo.taxonomy import DEMO_PASSWORD, USERS
from gisdesk.roles import allowed
from gisdesk.web import create_app

PUBLIC = "public"
# endpoint -> (permissions, any one suffices) | PUBLIC
ROUTES: dict[str, tuple[str, ...] | str] = {
    "static": PUBLIC, "assets.vendor": PUBLIC, "auth.login": PUBLIC, "pages.healthz": PUBLIC,
    "auth.logout": ("view", "result_entry"), "pages.index": ("view", "result_entry"),
    "mapview.map_page": ("view",), "mapview.layer_geojson": ("view",),
    "mapview.gaps": ("view",), "mapview.summary": ("view",), "mapview.search": ("view",),
    "mapview.analysis_state": ("view",), "mapview.strip": ("view",),
    "mapview.briefing_page": ("view",), "mapview.briefing_pdf": ("view",),
    "mapview.suggestions": ("view",),
    "api.landing": ("view",), "api.conformance": ("view",), "api.collections": ("view",),
    "api.collection": ("view",), "api.items": ("view",), "api.item": ("view",),
    "api.openapi": ("view",), "api.queryables": ("view",),
    "account.account_page": ("view", "result_entry"),
    "account.create_token": ("view", "result_entry"),
    "account.revoke_token": ("view", "result_entry"),
    "account.change_password": ("view", "result_entry"),
    "downloads.download": ("export",),
    "entry.create_incident": ("report",), "entry.list_incidents": ("view",),
    "entry.get_incident": ("view",), "entry.review_incident": ("review",),
    "entry.incident_duplicates": ("review",), "entry.update_readiness": ("report",),
    "entry.update_readiness_batch": ("report",),
    "entry.get_readiness": ("view",), "entry.parse_coordinates": ("report", "view"),
    "entry.incidents_page": ("view",), "entry.report_page": ("report",),
    "quickcount.flags_json": ("quickcount",), "quickcount.resolve_json": ("quickcount",),
    "quickcount.kelurahan_layer": ("quickcount",), "quickcount.summary_json": ("quickcount",),
    "quickcount.summary_page": ("quickcount",), "quickcount.resolve_form": ("quickcount",),
    "quickcount.post_result": ("result_entry",), "quickcount.my_results": ("result_entry",),
    "quickcount.input_page": ("result_entry",),
    "bulk.upload_page": ("report",), "bulk.upload": ("report",), "bulk.report_csv": ("report",),
    "bulk.example_file": ("report",),
    "bulk.suggestions_page": ("view",), "bulk.apply_plan": ("review",),
    "bulk.create_plan": ("review",), "entry.merge_candidates": ("review",),
    "bulk.create_move": ("review",), "bulk.update_personnel": ("review",),
    "bulk.audit_page": ("review",),
    "readiness.list_page": ("view",), "readiness.tps_page": ("view",),
    "tiles.tile": ("view",),
}
# quick-count routes are hidden (404) from roles without the right, not merely refused
HIDDEN = {ep for ep, perms in ROUTES.items() if perms != PUBLIC
          and set(perms) <= {"quickcount", "result_entry"}}
ROLE_USERS = {spec[0]: name for name, spec in USERS.items()}


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "matrix", "login_rate_limit": "1000/300"})


@pytest.fixture(scope="module")
def samples(demo_engine):
    with demo_engine.connect() as c:
        tps = c.execute(text("SELECT kode FROM tps ORDER BY kode LIMIT 1")).scalar_one()
        incident = c.execute(text("SELECT id FROM incident ORDER BY id LIMIT 1")).scalar_one()
    return {"collection_id": "tps", "feature_id": tps, "tps_kode": tps, "layer_id": "tps",
            "fmt": "geojson", "incident_id": incident, "action": "verify", "flag_id": 1,
            "lib": "leaflet", "path": "leaflet.js", "filename": "gisdesk.css",
            "token": "0" * 32, "token_id": 1, "assignment_id": 1, "layer": "tps", "z": 12,
            "x": 3368, "y": 2145, "kind": "incidents"}


def _url(app, rule, samples) -> str:
    values = {arg: samples[arg] for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def _rules(app, *methods: str):
    return [(m, r) for r in app.url_map.iter_rules() for m in methods if m in r.methods]


def _client(app, role: str | None):
    client = app.test_client()
    if role:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post("/login", data={"username": ROLE_USERS[role], "password": DEMO_PASSWORD,
                                        "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def _csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'value="([^"]+)"', page.split('name="csrf_token"')[1]).group(1)


def test_every_route_is_classified(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    unclassified = sorted(endpoints - set(ROUTES))
    assert not unclassified, f"classify these routes in ROUTES: {unclassified}"
    for endpoint, expected in ROUTES.items():
        if expected == PUBLIC or endpoint not in app.view_functions:
            continue
        declared = getattr(app.view_functions[endpoint], "gisdesk_permissions", None)
        assert declared == frozenset(expected), f"{endpoint}: code says {declared}"


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_gets_exactly_the_get_routes_it_may(app, samples, role):
    client = _client(app, role)
    wrong = []
    for _, rule in _rules(app, "GET"):
        perms = ROUTES[rule.endpoint]
        if perms == PUBLIC or rule.endpoint == "downloads.download":
            continue
        status = client.get(_url(app, rule, samples)).status_code
        may = any(allowed(role, p) for p in perms)
        if may and status in (401, 403):
            wrong.append((rule.rule, status, "should be allowed"))
        if not may:
            expected = (404,) if rule.endpoint in HIDDEN else (403, 404)
            if status not in expected:
                wrong.append((rule.rule, status, f"should be {expected}"))
    assert not wrong, wrong


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_is_refused_the_writing_routes_it_may_not_use(app, samples, demo_engine, role):
    client = _client(app, role)
    token = _csrf(client)
    with demo_engine.connect() as c:
        before = c.execute(text("SELECT (SELECT count(*) FROM incident), "
                                "(SELECT count(*) FROM result_entry)")).one()
    wrong = []
    for method, rule in _rules(app, "POST", "PUT", "PATCH", "DELETE"):
        perms = ROUTES[rule.endpoint]
        if perms == PUBLIC or any(allowed(role, p) for p in perms):
            continue
        r = client.open(_url(app, rule, samples), method=method, json={},
                        headers={"X-CSRFToken": token})
        expected = (404,) if rule.endpoint in HIDDEN else (403, 404)
        if r.status_code not in expected:
            wrong.append((method, rule.rule, r.status_code))
    assert not wrong, wrong
    with demo_engine.connect() as c:
        after = c.execute(text("SELECT (SELECT count(*) FROM incident), "
                               "(SELECT count(*) FROM result_entry)")).one()
    assert tuple(after) == tuple(before)


def test_anonymous_gets_401_json_for_data_and_login_redirect_for_pages(app, samples):
    client = app.test_client()
    for _, rule in _rules(app, "GET"):
        if ROUTES[rule.endpoint] == PUBLIC:
            continue
        r = client.get(_url(app, rule, samples))
        if r.status_code == 302:
            assert "/login" in r.headers["Location"], rule.rule
        else:
            assert r.status_code == 401, (rule.rule, r.status_code)
            body = r.get_json() if r.is_json else None
            # OGC API errors follow the OGC shape {code, description}; the rest {error}
            assert body and ("error" in body or "description" in body), rule.rule


def test_downloads_only_for_roles_that_may_export(app):
    for role in ROLE_USERS:
        status = _client(app, role).get("/export/kelurahan.geojson").status_code
        assert (status == 200) == allowed(role, "export"), (role, status)
