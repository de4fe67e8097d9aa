"""/akun: a user changes their own password in headless Chromium: the old one must be right,
the new one strong (zxcvbn, as `gisdesk users passwd`) and typed twice; the form needs its
CSRF token; the change ends the user's other sessions, keeps this one, and is audited."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gisdesk import accounts
from gisdesk.web import create_app
from live import log_in, serving, watch_errors

USER = "rina.desk"
OLD = "kapal-layar-Merah-1987"
NEW = "gunung rinjani pagi 42 kopi"


@pytest.fixture(scope="module")
def app(engine, tmp_path_factory):
    with engine.begin() as conn:
        accounts.create_user(conn, USER, OLD, "desk_staff", actor="test")
    return create_app({"database_url": engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "akun", "login_rate_limit": "1000/300"})


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


def _client_logged_in(app, password):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": USER, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def _hash(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT password_hash FROM users WHERE username = :u"),
                            {"u": USER}).scalar_one()


def _submit(page, old, new, again):
    page.fill("#old_password", old)
    page.fill("#password", new)
    page.fill("#password_again", again)
    page.click("text=Ganti kata sandi >> nth=-1")  # the button (the heading says it too)


def test_a_post_without_the_csrf_token_changes_nothing(app, engine):
    client = _client_logged_in(app, OLD)
    before = _hash(engine)
    r = client.post("/akun/sandi", data={"old_password": OLD, "password": NEW,
                                         "password_again": NEW})
    assert r.status_code in (400, 419)
    assert _hash(engine) == before


def test_user_changes_own_password_and_other_sessions_end(browser, server, app, engine):
    other_device = _client_logged_in(app, OLD)
    assert other_device.get("/akun").status_code == 200
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID").new_page()
    errors = watch_errors(page, ignore=("favicon", "422"))  # the refused forms answer 422
    log_in(page, server, USER, OLD, "/akun")
    before = _hash(engine)

    _submit(page, "bukan-sandi-lama-99", NEW, NEW)
    assert "Kata sandi lama salah." in page.locator("#ganti-sandi").inner_text()
    _submit(page, OLD, "password123", "password123")
    assert "Kata sandi ditolak:" in page.locator("#ganti-sandi").inner_text()
    _submit(page, OLD, NEW, NEW + "x")
    assert "Kedua kata sandi baru tidak sama." in page.locator("#ganti-sandi").inner_text()
    _submit(page, OLD, USER + "-2024-panjang", USER + "-2024-panjang")
    assert "memuat nama pengguna" in page.locator("#ganti-sandi").inner_text()
    assert _hash(engine) == before  # nothing written by any refused attempt

    with engine.connect() as conn:  # this browser, the other device, the CSRF test's client
        others = conn.execute(text(
            "SELECT count(*) - 1 FROM user_session s JOIN users u ON u.id = s.user_id "
            "WHERE u.username = :u AND s.ended_at IS NULL"), {"u": USER}).scalar_one()
    assert others >= 1
    _submit(page, OLD, NEW, NEW)
    page.wait_for_url("**/akun")
    assert f"Kata sandi diganti. {others} sesi lain" in page.locator(".flash").inner_text()
    assert _hash(engine) != before
    page.reload()  # this session lives on
    assert page.url.endswith("/akun") and page.locator("#ganti-sandi").is_visible()
    r = other_device.get("/akun")  # the other device is sent to the login form
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert errors == []

    with engine.connect() as conn:
        audited = conn.execute(text(
            "SELECT action, detail FROM audit_log WHERE target = :u AND action LIKE "
            "'user.password%' ORDER BY id"), {"u": USER}).all()
    assert [a for a, _ in audited] == ["user.password_failed", "user.password"]
    assert audited[-1][1] == {"sessions_ended": others, "by": "self"}
    with engine.begin() as conn:
        assert accounts.authenticate(conn, USER, OLD) is None
        assert accounts.authenticate(conn, USER, NEW) is not None
