"""Quick-count fixtures: the seeded election on a fresh database per module, the app, and
clients logged in through the real login form (CSRF included)."""
from __future__ import annotations

import re
import uuid

import pytest

from gisdesk.web import create_app

from .seed import PASSWORD, seed_election

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="module")
def seeded(engine):
    with engine.begin() as conn:
        return seed_election(conn)


@pytest.fixture(scope="module")
def app(engine, seeded, tmp_path_factory):
    url = engine.url.render_as_string(hide_password=False)
    app = create_app({"database_url": url, "secret_key": "quickcount-tests", "testing": True,
                      "home": tmp_path_factory.mktemp("home"), "login_rate_limit": "1000/60"})
    assert app.extensions["gisdesk.engine"] is engine
    return app


class Client:
    """A logged-in test client that sends JSON with the session's CSRF token."""

    def __init__(self, app, username: str):
        self.http = app.test_client()
        page = self.http.get("/login")
        self.token = CSRF_INPUT.search(page.text).group(1)
        done = self.http.post("/login", data={"username": username, "password": PASSWORD,
                                              "csrf_token": self.token})
        assert done.status_code == 302, done.text
        self.username = username

    def token_from(self, path: str) -> str:
        """The CSRF token as a page's script reads it (meta tag)."""
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        self.token = CSRF_META.search(page.text).group(1)
        return self.token

    def get(self, path: str, **kw):
        return self.http.get(path, **kw)

    def post_json(self, path: str, body):
        return self.http.post(path, json=body, headers={"X-CSRFToken": self.token,
                                                        "Accept": "application/json"})

    def post_form(self, path: str, data: dict):
        return self.http.post(path, data={**data, "csrf_token": self.token})


@pytest.fixture(scope="module")
def login(app):
    clients: dict[str, Client] = {}

    def _login(username: str) -> Client:
        if username not in clients:
            clients[username] = Client(app, username)
        return clients[username]
    return _login


def entry(tps_kode: str, votes: dict, invalid: int, dpt: int, *, dptb: int = 0, dpk: int = 0,
          entry_id: str | None = None, **extra) -> dict:
    """A consistent result report: valid = sum of votes, ballots used = valid + invalid."""
    valid = sum(votes.values())
    return {"id": entry_id or str(uuid.uuid4()), "tps_kode": tps_kode, "contest": "ppwp",
            "votes": {str(k): v for k, v in votes.items()}, "valid": valid, "invalid": invalid,
            "ballots_used": valid + invalid, "dpt": dpt, "dptb": dptb, "dpk": dpk, **extra}
