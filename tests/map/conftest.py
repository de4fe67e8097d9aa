"""Fixtures for the map tests: a seeded database per module, an app and a logged-in client,
the browser tests take their live server from tests/live.py."""
from __future__ import annotations

import pytest

from gisdesk.web import create_app
from map.seed import PASSWORD, seed


@pytest.fixture(scope="module")
def seeded(engine):
    with engine.begin() as conn:
        return seed(conn, n_tps=30)


def make_app(engine, tmp_path, **extra):
    config = {"database_url": engine.url.render_as_string(hide_password=False),
              "testing": True, "home": tmp_path, "secret_key": "test-secret",
              "login_rate_limit": "1000/300", "WTF_CSRF_ENABLED": False}
    config.update(extra)
    return create_app(config)


@pytest.fixture
def app(engine, seeded, tmp_path):
    return make_app(engine, tmp_path)


def login(client, role: str):
    response = client.post("/login", data={"username": role, "password": PASSWORD})
    assert response.status_code == 302, response.data[:300]
    return client


def demo_app(demo_engine, home, **extra):
    """The app on the analysed Mataram demo (demo users, password DEMO_PASSWORD)."""
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": home, "secret_key": "x",
                       "login_rate_limit": "1000/300", **extra})
