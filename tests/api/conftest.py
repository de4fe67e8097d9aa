"""Fixtures for the API and export tests: the Mataram demo in a fresh database per module,
an API token per role, the app, and a live server on 127.0.0.1 for GDAL to read."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from gisdesk import accounts
from gisdesk.analysis.store import recompute
from gisdesk.demo.load import load_demo
from gisdesk.demo.taxonomy import USERS
from gisdesk.ingest.write_boundaries import import_boundaries
from gisdesk.web import create_app

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = ROOT / "data/boundaries/mataram_kelurahan.geojson"
# the demo user of each role
DEMO_USERS = {role: name for name, (role, _agency, _full) in USERS.items()}


@pytest.fixture(scope="module")
def demo(engine):
    """The demo city (50 kelurahan, 1,248 TPS) with analysis results and one token per role."""
    import_boundaries(engine, BOUNDARIES, actor="test")
    with engine.begin() as conn:
        load_demo(conn, seed=2024)
        recompute(conn)
    tokens = {}
    with engine.begin() as conn:
        for role, username in DEMO_USERS.items():
            user_id = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                                   {"u": username}).scalar_one()
            tokens[role] = accounts.create_token(conn, user_id, "uji api", "test")
    return {"tokens": tokens, "url": engine.url.render_as_string(hide_password=False)}


def make_app(engine, home: Path, **extra):
    config = {"database_url": engine.url.render_as_string(hide_password=False),
              "testing": True, "home": home, "secret_key": "test-secret",
              "login_rate_limit": "1000/300"}
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="module")
def app(engine, demo, tmp_path_factory):
    return make_app(engine, tmp_path_factory.mktemp("home"))


class Api:
    """A test client speaking with one role's bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, url, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.get(url, headers=headers, **kwargs)


@pytest.fixture
def as_role(app, demo):
    return lambda role: Api(app.test_client(), demo["tokens"].get(role))


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


@pytest.fixture(scope="module")
def live(app):
    with LiveServer(app) as server:
        yield server
