"""Smaller hardening: password strength on every path that sets one, HSTS as an option, and
OGC API links from the configured public URL rather than the client's Host header."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk import accounts
from gisdesk.cli import main
from gisdesk.config import load_settings
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.errors import InputRejected
from gisdesk.web import create_app


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def gisdesk(engine):
    runner = CliRunner()

    def run(*args, password):
        return runner.invoke(main, list(args), env={"GISDESK_DATABASE_URL": url_of(engine),
                                                    "GISDESK_NEW_PASSWORD": password})
    return run


@pytest.mark.parametrize("name, password, reason", [
    ("baru1", "12345678", "paling umum"),
    ("baru2", "password", "paling umum"),
    ("baru3", "        ", "spasi"),
    ("baru4", "abc", "paling sedikit 8"),
    ("petugaskota", "petugaskota", "nama pengguna"),
    ("petugaskota", "Petugaskota2024!", "nama pengguna"),
])
def test_users_add_refuses_a_weak_password_with_an_indonesian_reason(gisdesk, engine, name,
                                                                     password, reason):
    result = gisdesk("users", "add", name, "--role", "viewer", password=password)
    assert result.exit_code == 1
    assert "Kata sandi ditolak" in result.output and reason in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = :u"),
                            {"u": name}).scalar_one() == 0


def test_the_demo_password_and_a_passphrase_are_strong_enough(gisdesk, engine):
    assert gisdesk("users", "add", "demo.kuat", "--role", "viewer",
                   password=DEMO_PASSWORD).exit_code == 0
    result = gisdesk("users", "add", "frasa", "--role", "viewer",
                     password="nasi goreng di pantai ampenan")
    assert result.exit_code == 0, result.output


def test_users_passwd_checks_strength_and_ends_sessions(gisdesk, engine):
    assert gisdesk("users", "add", "ubah", "--role", "viewer", password=DEMO_PASSWORD
                   ).exit_code == 0
    weak = gisdesk("users", "passwd", "ubah", password="ubah1234")
    assert weak.exit_code == 1 and "nama pengguna" in weak.output
    with engine.begin() as conn:
        uid = conn.execute(text("SELECT id FROM users WHERE username = 'ubah'")).scalar_one()
        accounts.create_token(conn, uid, "uji", "test")
    done = gisdesk("users", "passwd", "ubah", password="lontong-sayur-pagi-9")
    assert done.exit_code == 0 and "1 token dicabut" in done.output
    with engine.connect() as conn:
        assert accounts.authenticate(conn, "ubah", "lontong-sayur-pagi-9") is not None
        assert conn.execute(text("SELECT bool_and(revoked) FROM api_token WHERE user_id = :u"),
                            {"u": uid}).scalar_one()


def test_users_disable_and_enable_from_the_command_line(gisdesk, engine):
    assert gisdesk("users", "add", "cuti", "--role", "viewer", password=DEMO_PASSWORD
                   ).exit_code == 0
    assert "dinonaktifkan" in gisdesk("users", "disable", "cuti", password="").output
    with engine.connect() as conn:
        assert accounts.authenticate(conn, "cuti", DEMO_PASSWORD) is None
    assert "diaktifkan" in gisdesk("users", "enable", "cuti", password="").output
    with engine.connect() as conn:
        assert accounts.authenticate(conn, "cuti", DEMO_PASSWORD) is not None
    unknown = gisdesk("users", "disable", "tidak-ada", password="")
    assert unknown.exit_code == 1 and "tidak ada" in unknown.output


def test_users_add_refuses_an_unknown_kelurahan_scope_with_a_clear_message(gisdesk, engine):
    result = gisdesk("users", "add", "petugas.x", "--role", "desk_staff", "--kelurahan",
                     "52.71.99.9999", password=DEMO_PASSWORD)
    assert result.exit_code == 1 and "52.71.99.9999 tidak dikenal" in result.output
    assert "Traceback" not in result.output


def test_a_weak_password_is_refused_before_anything_is_written(conn):
    with pytest.raises(InputRejected) as err:
        accounts.create_user(conn, "lemah", "qwertyuiop", "viewer")
    assert err.value.field == "password"
    assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'lemah'")
                        ).scalar_one() == 0


# --- HSTS and the public URL ---------------------------------------------------------------

def _app(demo_engine, tmp_path, **extra):
    return create_app({"database_url": url_of(demo_engine), "testing": True,
                       "home": tmp_path, "secret_key": "settings", **extra})


@pytest.mark.parametrize("extra, expected", [
    ({}, None),
    ({"public_url": "http://127.0.0.1:5000"}, None),
    ({"public_url": "https://desk.example.go.id"}, "max-age=31536000"),
    ({"public_url": "https://desk.example.go.id", "hsts_seconds": 0}, None),
    ({"hsts_seconds": 600}, "max-age=600"),
])
def test_hsts_is_sent_behind_https_or_when_configured(demo_engine, tmp_path, extra, expected):
    response = _app(demo_engine, tmp_path, **extra).test_client().get("/login")
    assert response.headers.get("Strict-Transport-Security") == expected


def test_settings_come_from_gisdesk_environment_variables():
    settings = load_settings(environ={
        "GISDESK_PUBLIC_URL": "https://desk.example.go.id", "GISDESK_COOKIE_SECURE": "0",
        "GISDESK_HSTS_SECONDS": "86400", "GISDESK_SESSION_IDLE_MINUTES": "30",
        "GISDESK_SESSION_MAX_HOURS": "12", "GISDESK_TRUSTED_PROXIES": "1"})
    assert (settings.public_url, settings.cookie_secure, settings.hsts_seconds) == (
        "https://desk.example.go.id", False, 86400)
    assert (settings.session_idle_minutes, settings.session_max_hours,
            settings.trusted_proxies) == (30, 12, 1)
    with pytest.raises(ValueError):
        load_settings(environ={"GISDESK_COOKIE_SECURE": "mungkin"})


def _links(app, token: str, host: str) -> list[str]:
    response = app.test_client().get("/api/collections", headers={
        "Authorization": f"Bearer {token}", "Host": host})
    assert response.status_code == 200
    body = response.get_json()
    found = [link["href"] for link in body.get("links", [])]
    for collection in body["collections"]:
        found += [link["href"] for link in collection["links"]]
    return found


def test_ogc_api_links_use_the_public_url_not_the_host_header(demo_engine, tmp_path):
    with demo_engine.begin() as conn:
        uid = conn.execute(text("SELECT id FROM users WHERE username = 'koordinator'")
                           ).scalar_one()
        token = accounts.create_token(conn, uid, "uji tautan", "test")
    configured = _app(demo_engine, tmp_path, public_url="https://desk.example.go.id/peta")
    links = _links(configured, token, "evil.example")
    assert links and all(h.startswith("https://desk.example.go.id/peta/api/") for h in links)
    # without a public URL the request's own host is used (a plain local install)
    assert all(h.startswith("http://localhost/api/")
               for h in _links(_app(demo_engine, tmp_path), token, "localhost"))
