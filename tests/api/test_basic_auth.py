"""HTTP Basic with the user name and a personal token (what stock QGIS sends): read-only, on
the API and downloads only, never with the account password, never a Basic challenge; failed
token checks are rate-limited per address; every user manages their own tokens at /akun."""
from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import text

from gisdesk.demo.taxonomy import DEMO_PASSWORD

from conftest import DEMO_USERS, make_app


def basic(user: str, password: str) -> dict:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def planner(demo):
    return DEMO_USERS["planner"], demo["tokens"]["planner"]


def test_user_name_and_token_read_the_api_and_download_files(app, planner):
    user, token = planner
    client = app.test_client()
    r = client.get("/api/collections", headers=basic(user, token))
    assert r.status_code == 200 and {c["id"] for c in r.json["collections"]} >= {"tps"}
    assert client.head("/api/collections/tps/items?limit=1",
                       headers=basic(user, token)).status_code == 200
    csv = client.get("/export/tps.csv", headers=basic(user.upper(), token))
    assert csv.status_code == 200 and csv.data.count(b"\n") == 1249


@pytest.mark.parametrize("who", ["account password", "another user's name", "empty",
                                 "not base64"])
def test_basic_without_a_matching_token_is_refused_without_a_basic_challenge(app, demo, who):
    user, token = DEMO_USERS["planner"], demo["tokens"]["planner"]
    headers = {"account password": basic(user, DEMO_PASSWORD),
               "another user's name": basic(DEMO_USERS["viewer"], token),
               "empty": basic(user, ""),
               "not base64": {"Authorization": "Basic %%%"}}[who]
    r = app.test_client().get("/api/collections", headers=headers)
    assert r.status_code == 401 and r.json["code"] == "Unauthorized"
    assert "basic" not in r.headers.get("WWW-Authenticate", "").lower()


def test_basic_is_only_for_reading_the_api_and_downloads(app, demo):
    user, token = DEMO_USERS["desk_staff"], demo["tokens"]["desk_staff"]
    client = app.test_client()
    post = client.post("/api/incidents", json={"id": "2b7e9c1e-7f5e-4d0a-9c55-000000000001"},
                       headers=basic(user, token))
    assert post.status_code in (400, 401) and post.status_code != 201
    assert post.status_code == 401 or post.json.get("csrf")  # never acted as the user
    page = client.get("/map", headers=basic(user, token))
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    # the same token as Bearer still works for writes, as before
    assert client.get("/api/collections", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200


def test_failed_token_checks_are_rate_limited_per_address_and_successes_do_not_count(
        engine, demo, tmp_path):
    strict = make_app(engine, tmp_path, login_rate_limit="2/300")  # 10 token failures
    user, token = DEMO_USERS["planner"], demo["tokens"]["planner"]
    client = strict.test_client()
    for _ in range(30):  # parallel requests of a working QGIS never trip the limit
        assert client.get("/api/conformance", headers=basic(user, token)).status_code == 200
    addr = {"REMOTE_ADDR": "10.9.8.7"}
    codes = [client.get("/api/conformance", headers=basic(user, f"gd_salah{i}"),
                        environ_base=addr).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    # at the limit even the right token is refused from that address, not from others
    limited = client.get("/api/conformance", headers=basic(user, token), environ_base=addr)
    assert limited.status_code == 429 and limited.json["code"] == "TooManyRequests"
    assert client.get("/api/conformance", headers={"Authorization": f"Bearer {token}"},
                      environ_base={"REMOTE_ADDR": "10.9.8.8"}).status_code == 200
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_limit_hit WHERE bucket LIKE 'token:%'"))


def _login(client, role: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": DEMO_USERS[role], "password": DEMO_PASSWORD,
                                       "csrf_token": csrf}).status_code == 302


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("role", ["viewer", "operator", "planner"])
def test_every_user_creates_names_lists_and_revokes_their_own_tokens(app, engine, role):
    client = app.test_client()
    _login(client, role)
    page = client.get("/akun")
    assert page.status_code == 200 and "Buat token" in page.get_data(as_text=True)
    made = client.post("/akun/token", data={"name": "QGIS laptop",
                                            "csrf_token": _csrf(page.get_data(as_text=True))})
    body = made.get_data(as_text=True)
    assert made.status_code == 201 and "tidak akan ditampilkan lagi" in body
    token = re.search(r'id="token-value">(gd_[^<]+)<', body).group(1)
    user = DEMO_USERS[role]
    reader = app.test_client()
    assert reader.get("/api/conformance", headers=basic(user, token)).status_code == 200
    again = client.get("/akun").get_data(as_text=True)
    assert "QGIS laptop" in again and token not in again  # shown once only
    with engine.connect() as conn:
        token_id = conn.execute(text(
            "SELECT t.id FROM api_token t JOIN users u ON u.id = t.user_id "
            "WHERE u.username = :u AND t.name = 'QGIS laptop' ORDER BY t.id DESC LIMIT 1"),
            {"u": user}).scalar_one()
    revoked = client.post(f"/akun/token/{token_id}/cabut", data={"csrf_token": _csrf(again)})
    assert revoked.status_code == 200 and "dicabut" in revoked.get_data(as_text=True)
    assert reader.get("/api/conformance", headers=basic(user, token)).status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(app, engine):
    with engine.connect() as conn:
        other = conn.execute(text(
            "SELECT t.id FROM api_token t JOIN users u ON u.id = t.user_id "
            "WHERE u.username = :u AND NOT t.revoked LIMIT 1"),
            {"u": DEMO_USERS["planner"]}).scalar_one()
    client = app.test_client()
    _login(client, "viewer")
    csrf = _csrf(client.get("/akun").get_data(as_text=True))
    assert client.post(f"/akun/token/{other}/cabut", data={"csrf_token": csrf}).status_code \
        == 404
    with engine.connect() as conn:
        assert conn.execute(text("SELECT revoked FROM api_token WHERE id = :i"),
                            {"i": other}).scalar_one() is False
