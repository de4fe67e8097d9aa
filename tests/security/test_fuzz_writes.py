"""Fuzz pass over every write route found in the app's URL map (issue 12, "Done when").

Each POST/PUT/PATCH/DELETE route gets, as every role that may use it (and the login form as
nobody), hostile JSON and hostile form posts: NUL bytes, lone surrogates, nesting 50,000 deep,
huge numbers, a body over the size limit. Every answer must be a 4xx, and no data table may
gain or lose a row after the fuzzing clients have logged in (the audit log and the rate-limit
table may grow). A few hundred requests.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gisdesk.demo.taxonomy import DEMO_PASSWORD, USERS
from gisdesk.roles import allowed
from gisdesk.web import create_app

ROLE_USERS = {spec[0]: name for name, spec in USERS.items()}
BOOKKEEPING = {"audit_log", "rate_limit_hit", "alembic_version", "spatial_ref_sys"}
FIELDS = ("description", "note", "category", "tps", "kind", "agency", "count", "username",
          "password", "contest", "mode", "id", "client_uuid", "lat", "lon", "reason")
MAX_MB = 1


def _json_bodies() -> dict[str, bytes]:
    def each(value: str) -> bytes:
        return ("{" + ", ".join(f'"{f}": {value}' for f in FIELDS) + "}").encode()
    return {
        "nul": each('"a\\u0000b"'),
        "surrogate": each('"a\\udc80b"'),
        "deep": b"[" * 50_000 + b"]" * 50_000,
        "deep_object": b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        "long_number": each("9" * 5000),
        "huge_float": each("1e30"),
        "infinity": each("Infinity"),
        "huge_body": b'{"description": "' + b"a" * (MAX_MB * 1024 * 1024 + 10) + b'"}',
    }


def _form_bodies() -> dict[str, dict]:
    return {
        "nul": {f: "a\x00b" for f in FIELDS},
        "nul_name": {"a\x00b": "1"},
        "huge_body": {"note": "a" * (MAX_MB * 1024 * 1024 + 10)},
    }


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "fuzz", "login_rate_limit": "100000/300",
                       "max_upload_mb": MAX_MB})


def _counts(engine) -> dict[str, int]:
    with engine.connect() as c:
        tables = [t for t in c.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY 1")).scalars() if t not in BOOKKEEPING]
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
        return dict(c.execute(text(sql)).all())


def _client(app, role: str | None):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    if role:
        r = client.post("/login", data={"username": ROLE_USERS[role],
                                        "password": DEMO_PASSWORD, "csrf_token": token})
        assert r.status_code == 302
    return client, token


def _write_routes(app) -> list[tuple[str, str, tuple]]:
    """(method, url, permissions or () for public) for each write rule in the URL map."""
    samples = {"flag_id": 1, "assignment_id": 1, "incident_id": 1, "tps_kode": "x",
               "action": "verify", "token": "x"}
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            view = app.view_functions[rule.endpoint]
            perms = tuple(getattr(view, "gisdesk_permissions", ()))
            with app.test_request_context():
                from flask import url_for
                url = url_for(rule.endpoint, **{a: samples.get(a, 1) for a in rule.arguments})
            found.append((method, url, perms))
    return found


def test_the_fuzz_pass_finds_the_write_routes(app):
    urls = {url for _, url, _ in _write_routes(app)}
    for known in ("/api/incidents", "/api/results", "/unggah", "/login", "/api/moves"):
        assert known in urls


def test_hostile_writes_get_4xx_and_change_no_data_table(app, demo_engine):
    clients = {role: _client(app, role) for role in ROLE_USERS}
    clients[None] = _client(app, None)
    before = _counts(demo_engine)            # after the logins (they open sessions)
    wrong = []
    for method, url, perms in _write_routes(app):
        roles = [None] if not perms else [r for r in ROLE_USERS
                                          if any(allowed(r, p) for p in perms)]
        for role in roles:
            client, token = clients[role]
            for name, body in _json_bodies().items():
                r = client.open(url, method=method, data=body, content_type="application/json",
                                headers={"X-CSRFToken": token})
                if not 400 <= r.status_code < 500:
                    wrong.append((method, url, role, "json", name, r.status_code))
            for name, form in _form_bodies().items():
                r = client.open(url, method=method, data={**form, "csrf_token": token},
                                headers={"X-CSRFToken": token})
                if not 400 <= r.status_code < 500:
                    wrong.append((method, url, role, "form", name, r.status_code))
    assert not wrong, wrong
    assert _counts(demo_engine) == before
