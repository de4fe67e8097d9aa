"""Fixtures for the entry tests: the seeded area, the app, clients and a live server."""
from __future__ import annotations

import re

import pytest

from gisdesk.web import create_app
from entry.seed import PASSWORD, seed
from live import serving


@pytest.fixture(scope="module")
def area(engine):
    return seed(engine)


@pytest.fixture(scope="module")
def app(engine, area, tmp_path_factory):
    url = engine.url.render_as_string(hide_password=False)
    return create_app({"database_url": url, "testing": True,
                       "home": tmp_path_factory.mktemp("home")})


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A test client speaking JSON with one role's bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, url, payload=None):
        return self.client.post(url, json=payload, headers=self.headers)

    def get(self, url, **params):
        return self.client.get(url, query_string=params, headers=self.headers)


@pytest.fixture
def as_role(client, area):
    return lambda role: Api(client, area["tokens"].get(role))


def login(client, role: str) -> str:
    """Log in through the form; returns the CSRF token of the session."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": f"uji_{role}", "password": PASSWORD,
                                       "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    page = client.get("/lapor").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    return match.group(1) if match else token


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app) as url:
        yield url
