"""Sessions live on the server: a copied cookie dies with logout, a password change, a
disabled user, idleness or age; every app instance (gunicorn worker) agrees; cookies are
Secure behind HTTPS."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gisdesk import accounts
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app


def _config(demo_engine, home, **extra) -> dict:
    return {"database_url": demo_engine.url.render_as_string(hide_password=False),
            "testing": True, "home": home, "secret_key": "sessions", **extra}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def app(demo_engine, home):
    return create_app(_config(demo_engine, home))


def _csrf(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf[-_]token"[^>]*(?:value|content)="([^"]+)"', page).group(1)


def login(app, user="supervisor", password=DEMO_PASSWORD):
    client = app.test_client()
    r = client.post("/login", data={"username": user, "password": password,
                                    "csrf_token": _csrf(client)})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def copy_of(app, client):
    """Another client carrying the same session cookie (what a thief would hold)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def logout(client):
    return client.post("/logout", data={"csrf_token": _csrf(client, "/map")})


def test_a_copied_session_cookie_is_refused_after_logout(app):
    owner = login(app)
    thief = copy_of(app, owner)
    assert thief.get("/audit").status_code == 200
    assert thief.get("/api/quickcount/summary").status_code == 200
    assert logout(owner).status_code == 302
    assert thief.get("/audit").status_code == 302            # back to the login page
    r = thief.get("/api/quickcount/summary")
    assert r.status_code == 401 and "quick" not in r.get_data(as_text=True).lower()


def test_logout_in_one_worker_ends_the_session_in_another(app, demo_engine, home):
    other_worker = create_app(_config(demo_engine, home))     # its own process memory
    owner = login(app)
    elsewhere = copy_of(other_worker, owner)
    assert elsewhere.get("/audit").status_code == 200
    logout(owner)
    assert elsewhere.get("/audit").status_code == 302


def _token_status(app, token: str) -> int:
    return app.test_client().get("/api/incidents",
                                 headers={"Authorization": f"Bearer {token}"}).status_code


def _new_token(demo_engine, username: str) -> str:
    with demo_engine.begin() as conn:
        uid = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                           {"u": username}).scalar_one()
        return accounts.create_token(conn, uid, "uji sesi", "test")


def test_a_password_change_ends_every_session_and_revokes_the_api_tokens(app, demo_engine):
    with demo_engine.begin() as conn:
        accounts.create_user(conn, "ganti_sandi", DEMO_PASSWORD, "viewer", actor="test")
    first, second = login(app, "ganti_sandi"), login(app, "ganti_sandi")
    token = _new_token(demo_engine, "ganti_sandi")
    assert _token_status(app, token) == 200
    with demo_engine.begin() as conn:
        ended = accounts.change_password(conn, "ganti_sandi", "kopi-tubruk-pagi-77",
                                         actor="test")
    assert ended == {"sessions_ended": 2, "tokens_revoked": 1}
    assert first.get("/map").status_code == 302 and second.get("/map").status_code == 302
    assert _token_status(app, token) == 401
    login(app, "ganti_sandi", "kopi-tubruk-pagi-77")           # the new password works
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = "
                                 "'user.password' AND target = 'ganti_sandi'")).scalar_one() == 1


def test_disabling_a_user_ends_sessions_and_tokens_and_enabling_does_not_revive_them(
        app, demo_engine):
    with demo_engine.begin() as conn:
        accounts.create_user(conn, "dinonaktifkan", DEMO_PASSWORD, "viewer", actor="test")
    client = login(app, "dinonaktifkan")
    token = _new_token(demo_engine, "dinonaktifkan")
    with demo_engine.begin() as conn:
        accounts.set_active(conn, "dinonaktifkan", False, actor="test")
    assert client.get("/map").status_code == 302 and _token_status(app, token) == 401
    with demo_engine.begin() as conn:
        accounts.set_active(conn, "dinonaktifkan", True, actor="test")
    assert client.get("/map").status_code == 302 and _token_status(app, token) == 401
    login(app, "dinonaktifkan")                                # a fresh login is fine


def _age_sessions(demo_engine, username: str, column: str, age: str) -> None:
    with demo_engine.begin() as conn:
        conn.execute(text(f"UPDATE user_session SET {column} = now() - CAST(:a AS interval) "
                          "WHERE user_id = (SELECT id FROM users WHERE username = :u)"),
                     {"a": age, "u": username})


def test_a_session_idle_for_longer_than_two_hours_ends(app, demo_engine):
    client = login(app, "perencana")
    _age_sessions(demo_engine, "perencana", "last_seen_at", "119 minutes")
    assert client.get("/map").status_code == 200               # still within the idle time
    _age_sessions(demo_engine, "perencana", "last_seen_at", "121 minutes")
    assert client.get("/map").status_code == 302


def test_a_session_ends_sixteen_hours_after_login_even_when_in_use(app, demo_engine):
    client = login(app, "koordinator")
    _age_sessions(demo_engine, "koordinator", "created_at", "15 hours 59 minutes")
    assert client.get("/map").status_code == 200
    _age_sessions(demo_engine, "koordinator", "created_at", "16 hours 1 minute")
    assert client.get("/map").status_code == 302


def test_session_lifetimes_are_configurable(demo_engine, home):
    app = create_app(_config(demo_engine, home, session_idle_minutes=10, session_max_hours=1))
    client = login(app, "admin")
    _age_sessions(demo_engine, "admin", "last_seen_at", "11 minutes")
    assert client.get("/map").status_code == 302
    client = login(app, "admin")
    _age_sessions(demo_engine, "admin", "created_at", "61 minutes")
    assert client.get("/map").status_code == 302


def test_a_request_keeps_an_idle_session_alive(app, demo_engine):
    client = login(app, "operator_kpu")
    _age_sessions(demo_engine, "operator_kpu", "last_seen_at", "100 minutes")
    assert client.get("/map").status_code == 200               # refreshes last_seen_at
    with demo_engine.connect() as conn:
        idle = conn.execute(text(
            "SELECT max(now() - last_seen_at) < interval '1 minute' FROM user_session "
            "WHERE ended_at IS NULL AND user_id = (SELECT id FROM users "
            "WHERE username = 'operator_kpu')")).scalar_one()
    assert idle


@pytest.mark.parametrize("public_url, setting, secure", [
    (None, None, False), ("http://127.0.0.1:5000", None, False),
    ("https://desk.example.go.id", None, True), ("https://desk.example.go.id", False, False),
    (None, True, True)])
def test_the_session_cookie_is_secure_behind_https(demo_engine, home, public_url, setting,
                                                   secure):
    app = create_app(_config(demo_engine, home, public_url=public_url, cookie_secure=setting))
    client = app.test_client()
    cookie = client.get("/login").headers.get("Set-Cookie", "")
    assert ("; Secure" in cookie) is secure and "HttpOnly" in cookie
