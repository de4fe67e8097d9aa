"""The quick count is secret, enforced by the server: viewer, planner and desk staff get the
same 404 as for a URL that does not exist, on every quick-count URL, and no numbers."""
from __future__ import annotations

import re

import pytest

from gisdesk import quickcount as qc

from .conftest import entry
from .seed import KEL_A, KEL_B

# distinctive numbers, so a leak would be visible in any response body
SECRET_VOTES = {1: 97, 2: 113, 3: 68}   # valid 278
# "surat suara" (ballot papers) and "penggelembungan suara" (vote inflation) are incident
# categories on the report form where desk staff land; any other "suara" is a leak
LEAK = re.compile(r"\b(97|113|68|278)\b|Prabowo|hitung cepat|TIDAK RESMI|"
                  r"(?<!surat )(?<!penggelembungan )\bsuara\b", re.I)
TOKEN = re.compile(r'(name="csrf_token" value=|name="csrf-token" content=)"[^"]*"')


def visible(resp) -> str:
    """The body without CSRF tokens (random, and signed with a timestamp)."""
    return TOKEN.sub(r"\1", resp.get_data(as_text=True))
HIDDEN_ROLES = ("viewer1", "planner1", "desk1")


@pytest.fixture(scope="module")
def entered(engine, seeded):
    with engine.begin() as conn:
        for agency, tps in (("kpu", f"{KEL_A}-001"), ("polri", f"{KEL_B}-001")):
            qc.submit_entry(conn, qc.Actor(f"op_{agency}", agency=agency),
                            entry(tps, SECRET_VOTES, invalid=2, dpt=290), qc.QuickCountRules())
    return True


def quickcount_urls(app) -> list[tuple[str, str]]:
    """Every URL of the quick-count blueprint with every method it answers."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("quickcount."):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            urls += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_the_blueprint_has_all_documented_urls(app):
    assert set(quickcount_urls(app)) == {
        ("GET", "/hasil/input"), ("POST", "/api/results"), ("GET", "/api/results/mine"),
        ("GET", "/hitung-cepat"), ("POST", "/hitung-cepat/tanda/1"),
        ("GET", "/api/quickcount/summary"), ("GET", "/api/quickcount/flags"),
        ("POST", "/api/quickcount/flags/1/resolve"),
        ("GET", "/api/quickcount/kelurahan.geojson")}


def _call(client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    if path.startswith("/api"):
        return client.post_json(path, entry(f"{KEL_A}-002", SECRET_VOTES, invalid=1, dpt=290))
    return client.post_form(path, {"entry_id": "00000000-0000-0000-0000-000000000000"})


@pytest.mark.parametrize("username", HIDDEN_ROLES)
def test_other_roles_get_404_and_no_numbers_on_every_quickcount_url(app, login, entered,
                                                                     username):
    client = login(username)
    unknown_api = client.get("/api/tidak-ada")
    unknown_page = client.get("/tidak-ada")
    for method, path in quickcount_urls(app):
        resp = _call(client, method, path)
        assert resp.status_code == 404, (method, path, resp.status_code)
        same = unknown_api if path.startswith("/api") else unknown_page
        assert visible(resp) == visible(same), (method, path)
        assert not LEAK.search(visible(resp)), (method, path)
        assert resp.headers["Cache-Control"] == "no-store"


def test_operators_get_404_on_aggregates_and_supervisors_on_entry(app, login, entered):
    operator, kepala = login("op_kpu"), login("kepala")
    for method, path in quickcount_urls(app):
        client = operator if path.startswith(("/hitung-cepat", "/api/quickcount")) else None
        if client:
            assert _call(client, method, path).status_code == 404, path
    assert kepala.get("/hasil/input").status_code == 404
    assert kepala.get("/api/results/mine").status_code == 404


def test_not_logged_in_reveals_nothing(app, entered):
    anon = app.test_client()
    resp = anon.get("/api/quickcount/summary")
    assert resp.status_code == 401 and not LEAK.search(resp.text)
    page = anon.get("/hitung-cepat")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_no_role_sees_quickcount_numbers_elsewhere(app, login, entered):
    """The landing page and the other pages of these roles carry no quick-count numbers."""
    for username in HIDDEN_ROLES:
        client = login(username)
        for path in ("/", "/healthz"):
            resp = client.get(path, follow_redirects=True)
            assert not LEAK.search(visible(resp)), (username, path)


def test_seed_demo_contest_is_idempotent(engine, seeded):
    with engine.begin() as conn:
        first = qc.seed_demo_contest(conn, seeded["election_id"])
        again = qc.seed_demo_contest(conn, seeded["election_id"])
        (contest,) = qc.list_contests(conn, seeded["election_id"])
    assert first == again == seeded["contest_id"] == contest.id
    assert contest.kode == "ppwp" and contest.candidates == (
        (1, "Anies Baswedan – Muhaimin Iskandar"),
        (2, "Prabowo Subianto – Gibran Rakabuming Raka"),
        (3, "Ganjar Pranowo – Mahfud MD"))
