"""Login throttling slows guessing per user name and address, never locks the real user out,
tells the desk heads, and believes X-Forwarded-For only from configured proxies."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.login_throttle import address_key
from gisdesk.web import create_app


def make_app(demo_engine, home, limit="5/900/60", **extra):
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": home, "secret_key": "throttle",
                       "login_rate_limit": limit, **extra})


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return make_app(demo_engine, tmp_path_factory.mktemp("home"))


def attempt(app, user, password, addr, headers=None):
    client = app.test_client()            # a fresh client each time: nothing rides on cookies
    client.environ_base["REMOTE_ADDR"] = addr
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": token}, headers=headers or {})


def test_ten_failures_from_ten_addresses_do_not_keep_the_right_password_out(app):
    for i in range(10):
        assert attempt(app, "supervisor", "salah-tebak", f"203.0.113.{i + 1}").status_code == 401
    assert attempt(app, "supervisor", DEMO_PASSWORD, "198.51.100.7").status_code == 302


def _age(demo_engine, addr: str, seconds: int) -> None:
    """Move this address's failures into the past (as if the client had waited)."""
    with demo_engine.begin() as conn:
        conn.execute(text("UPDATE rate_limit_hit SET at = at - make_interval(secs => :s) "
                          "WHERE bucket LIKE :b"), {"s": seconds, "b": f"login:%{addr}"})


def test_guessing_from_one_address_is_slowed_with_growing_delays(app, demo_engine):
    addr = "192.0.2.10"
    assert [attempt(app, "admin", f"tebakan-{i}", addr).status_code for i in range(5)] == [401] * 5
    slowed = attempt(app, "admin", "tebakan-6", addr)
    assert slowed.status_code == 429 and 55 <= int(slowed.headers["Retry-After"]) <= 60
    assert "Tunggu" in slowed.get_data(as_text=True)
    # while slowed, this address is not even asked for the password ...
    assert attempt(app, "admin", DEMO_PASSWORD, addr).status_code == 429
    # ... but the real admin elsewhere logs in
    assert attempt(app, "admin", DEMO_PASSWORD, "192.0.2.99").status_code == 302
    _age(demo_engine, addr, 61)
    assert attempt(app, "admin", "tebakan-7", addr).status_code == 401
    doubled = attempt(app, "admin", "tebakan-8", addr)
    assert doubled.status_code == 429 and 115 <= int(doubled.headers["Retry-After"]) <= 120
    with demo_engine.connect() as conn:
        limited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = "
                                    "'login.rate_limited' AND actor = 'admin'")).scalar_one()
    assert limited == 3


def test_one_address_spraying_many_user_names_is_slowed(demo_engine, tmp_path):
    app = make_app(demo_engine, tmp_path, limit="2/900/60")    # 20 failures per address
    addr = "192.0.2.77"
    statuses = [attempt(app, f"nama{i}", "salah", addr).status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert attempt(app, "perencana", DEMO_PASSWORD, "192.0.2.78").status_code == 302


def test_an_account_under_attack_is_reported_once_to_the_desk_heads(app, demo_engine):
    for i in range(12):
        attempt(app, "koordinator", "salah", f"100.64.0.{i + 1}")
    with demo_engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, detail FROM audit_log WHERE action = "
                                 "'login.suspicious' AND target = 'koordinator'")).all()
    assert len(rows) == 1 and rows[0].detail["failures"] == 10
    assert rows[0].detail["addresses"] == 10
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    attempt_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', attempt_page).group(1)
    client.post("/login", data={"username": "supervisor", "password": DEMO_PASSWORD,
                                "csrf_token": token})
    page = client.get("/audit").get_data(as_text=True)
    notice = re.search(r'id="login-alerts".*?</div>', page, re.S).group(0)
    assert "koordinator" in notice and "12 kali" in notice and "12 alamat" in notice


def test_forwarded_addresses_count_only_behind_a_configured_proxy(demo_engine, tmp_path):
    direct = make_app(demo_engine, tmp_path, limit="2/900/60")
    spoofed = [attempt(direct, "operator_kpu", "salah", "192.0.2.200",
                       {"X-Forwarded-For": f"198.18.0.{i}"}).status_code for i in range(3)]
    assert spoofed == [401, 401, 429]          # one socket address, whatever the header says
    proxied = make_app(demo_engine, tmp_path, limit="2/900/60", trusted_proxies=1)
    behind = [attempt(proxied, "operator_kpu", "salah", "192.0.2.201",
                      {"X-Forwarded-For": f"198.18.1.{i}"}).status_code for i in range(3)]
    assert behind == [401, 401, 401]           # three clients behind the desk's proxy


def test_ipv6_clients_are_counted_per_64_network():
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"
