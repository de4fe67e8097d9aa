"""Web security: CSRF, cookies, headers, errors without stack traces (login throttling and
sessions: test_login_throttle.py, test_sessions.py)."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "web-security", "login_rate_limit": "5/300"})


def _token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _login(client, user="petugas", password=DEMO_PASSWORD):
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": _token(client)})


def test_login_form_without_csrf_token_is_refused(app):
    r = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    assert r.status_code in (400, 200, 401)
    assert "Set-Cookie" not in r.headers or "remember" not in r.headers.get("Set-Cookie", "")
    # no session was opened: the map still redirects to the login page
    assert app.test_client().get("/map").status_code == 302


def test_json_post_with_session_but_without_csrf_header_is_refused(app, demo_engine):
    client = app.test_client()
    assert _login(client).status_code == 302
    with demo_engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM incident")).scalar_one()
    r = client.post("/api/incidents", json={"id": str(uuid.uuid4()), "category": "intimidasi",
                                            "severity": "sedang", "lat": -8.58, "lon": 116.09})
    assert r.status_code == 400
    with demo_engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM incident")).scalar_one() == before


def test_logout_is_a_post_with_csrf(app):
    client = app.test_client()
    _login(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400          # no token
    assert client.get("/map").status_code == 200              # still logged in


def test_session_cookie_is_httponly_and_samesite(app):
    client = app.test_client()
    r = _login(client)
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_security_headers_and_a_csp_with_a_fresh_nonce(app):
    client = app.test_client()
    _login(client)
    r1, r2 = client.get("/map"), client.get("/map")
    for r in (r1, r2):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Cache-Control"] == "no-store"
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
    nonce = lambda r: re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    assert nonce(r1) != nonce(r2)
    # every inline script of the page carries the nonce, so the CSP does not break the map
    html = r1.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce(r1)}"' in attrs for attrs in inline)


def test_unexpected_errors_show_no_stack_trace(demo_engine, tmp_path):
    app = create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                      "home": tmp_path, "secret_key": "boom"})

    @app.route("/_boom")
    def _boom():  # registered only on this test's app instance
        raise RuntimeError("secret internals: password=hunter2")
    _boom.gisdesk_permissions = frozenset({"view"})
    client = app.test_client()
    _login(client)
    for accept in ("text/html", "application/json"):
        r = client.get("/_boom", headers={"Accept": accept})
        body = r.get_data(as_text=True)
        assert r.status_code == 500
        assert "Traceback" not in body and "hunter2" not in body and "RuntimeError" not in body


def test_sql_looking_text_is_stored_literally(app, demo_engine):
    client = app.test_client()
    _login(client)
    token = _token(client)
    evil = "'); DROP TABLE tps; -- <script>alert(1)</script>"
    with demo_engine.connect() as c:
        # a TPS in the kelurahan the demo desk officer is scoped to
        lon, lat = c.execute(text("SELECT ST_X(t.geom), ST_Y(t.geom) FROM tps t JOIN users u "
                                  "ON u.kelurahan_kode = t.kelurahan_kode "
                                  "WHERE u.username = 'petugas' ORDER BY t.kode LIMIT 1")).one()
        occurred = c.execute(text("SELECT (pinned_as_of - interval '1 hour') FROM election "
                                  "WHERE active")).scalar_one()
    ident = str(uuid.uuid4())
    r = client.post("/api/incidents", headers={"X-CSRFToken": token}, json={
        "id": ident, "category": "intimidasi", "severity": "ringan", "description": evil,
        "lon": lon + 0.0003, "lat": lat, "occurred_at": occurred.isoformat(),
        "confirm_warnings": True})
    assert r.status_code == 201, r.get_json()
    with demo_engine.connect() as c:
        stored = c.execute(text("SELECT description FROM incident WHERE id = :i"),
                           {"i": ident}).scalar_one()
        assert c.execute(text("SELECT count(*) FROM tps")).scalar_one() > 0
    assert stored == evil
    page = client.get("/insiden").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
