"""Entering results over HTTP: tally rules as 422 with the field, idempotency by client UUID,
the agency always from the account, operators see only their own agency's entries."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from .conftest import entry
from .seed import KEL_A, KEL_B

TPS1, TPS2, TPSB = f"{KEL_A}-001", f"{KEL_A}-002", f"{KEL_B}-001"


@pytest.fixture(scope="module")
def kpu(login):
    client = login("op_kpu")
    client.token_from("/hasil/input")
    return client


@pytest.fixture(scope="module")
def polri(login):
    client = login("op_polri")
    client.token_from("/hasil/input")
    return client


def test_entry_page_is_in_bahasa_with_notice_and_csrf_meta(kpu):
    page = kpu.get("/hasil/input")
    assert page.status_code == 200
    assert "INTERNAL — TIDAK RESMI (bukan hasil resmi KPU)" in page.text
    assert "Input hasil penghitungan TPS" in page.text and 'name="csrf-token"' in page.text
    assert "Prabowo Subianto – Gibran Rakabuming Raka" in page.text
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("changes, field, words", [
    ({"valid": 171, "ballots_used": 176}, "votes", "harus sama dengan suara sah"),
    ({"ballots_used": 180}, "ballots_used", "harus sama dengan surat suara digunakan"),
    ({"dpt": 100}, "ballots_used", "melebihi DPT + DPTb + DPK"),
    ({"invalid": -5}, "invalid", "tidak boleh negatif"),
    ({"dpt": 5000}, "dpt", "melebihi kapasitas TPS (308 pemilih)"),
    ({"tps_kode": "52.71.01.1001-099"}, "tps_kode", "TPS tidak dikenal"),
    ({"contest": "pilgub"}, "contest", "tidak dikenal"),
    ({"id": "bukan-uuid"}, "id", "UUID"),
])
def test_impossible_entries_are_refused_with_422_naming_the_field(kpu, changes, field, words):
    body = {**entry(TPS1, {1: 50, 2: 90, 3: 30}, invalid=5, dpt=200), **changes}
    resp = kpu.post_json("/api/results", body)
    assert resp.status_code == 422, resp.text
    assert resp.json["field"] == field
    assert words in resp.json["error"] and resp.json["problems"][0]["field"] == field


def test_same_uuid_same_content_is_200_different_content_is_409(kpu, engine):
    body = entry(TPS1, {1: 50, 2: 90, 3: 30}, invalid=5, dpt=200, dptb=2, dpk=1)
    first = kpu.post_json("/api/results", body)
    assert first.status_code == 201, first.text
    assert first.json["created"] is True and first.json["entry"]["agency"] == "kpu"
    again = kpu.post_json("/api/results", body)
    assert again.status_code == 200 and again.json["created"] is False
    other = kpu.post_json("/api/results", {**body, "invalid": 6, "ballots_used": 176})
    assert other.status_code == 409 and other.json["field"] == "id"
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM result_entry WHERE id = :i"),
                         {"i": body["id"]}).scalar_one() == 1
        assert c.execute(text("SELECT count(*) FROM audit_log WHERE action = 'quickcount.entry'"
                              " AND detail->>'id' = :i"), {"i": body["id"]}).scalar_one() == 1


def test_a_new_report_of_the_same_agency_replaces_the_earlier_one(kpu, engine):
    first = entry(TPS2, {1: 60, 2: 100, 3: 40}, invalid=9, dpt=250)
    fixed = entry(TPS2, {1: 60, 2: 100, 3: 40}, invalid=10, dpt=250)
    assert kpu.post_json("/api/results", first).status_code == 201
    assert kpu.post_json("/api/results", fixed).status_code == 201
    with engine.connect() as c:
        rows = dict(c.execute(text("SELECT id::text, status FROM result_entry "
                                   "WHERE id IN (:a, :b)"),
                              {"a": first["id"], "b": fixed["id"]}).all())
    assert rows == {first["id"]: "superseded", fixed["id"]: "active"}


def test_agency_comes_from_the_account_not_the_request(kpu, engine):
    body = entry(TPSB, {1: 70, 2: 110, 3: 50}, invalid=6, dpt=270)
    resp = kpu.post_json("/api/results", {**body, "agency": "polri"})
    assert resp.status_code == 403 and resp.json["field"] == "agency"
    assert "KPU" in resp.json["error"]
    resp = kpu.post_json("/api/results", {**body, "entered_by": "op_polri"})
    assert resp.status_code == 201 and resp.json["entry"]["agency"] == "kpu"
    with engine.connect() as c:
        assert c.execute(text("SELECT agency, entered_by FROM result_entry WHERE id = :i"),
                         {"i": body["id"]}).one() == ("kpu", "op_kpu")


def test_an_operator_sees_only_its_own_agency_entries(kpu, polri):
    polri_body = entry(TPS1, {1: 51, 2: 89, 3: 30}, invalid=5, dpt=200, dptb=2, dpk=1)
    assert polri.post_json("/api/results", polri_body).status_code == 201
    mine = polri.get("/api/results/mine")
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    assert {e["agency"] for e in mine.json["entries"]} == {"polri"}
    assert [e["id"] for e in mine.json["entries"]] == [polri_body["id"]]
    kpu_ids = {e["id"] for e in kpu.get("/api/results/mine").json["entries"]}
    assert polri_body["id"] not in kpu_ids and kpu_ids
    # the same client UUID from another agency: a conflict that reveals nothing of the other
    taken = polri.post_json("/api/results", {**polri_body, "id": next(iter(kpu_ids))})
    assert taken.status_code == 409 and "kpu" not in taken.text.lower()
    page = polri.get("/hasil/input")
    assert "op_kpu" not in page.text and "op_polri" in page.text
    # ...and nothing of the aggregates or flags (TPS 001 now disagrees: KPU vs Polri)
    for path in ("/hitung-cepat", "/api/quickcount/summary", "/api/quickcount/flags",
                 "/api/quickcount/kelurahan.geojson"):
        assert polri.get(path).status_code == 404


def test_an_operator_scoped_to_a_kelurahan_enters_only_its_tps(app, engine, login):
    from gisdesk.accounts import create_user
    with engine.begin() as c:
        create_user(c, "op_kel_b", "rahasia-123", "operator", agency="bawaslu",
                    kelurahan_kode=KEL_B)
    client = login("op_kel_b")
    page = client.get("/hasil/input")
    assert TPSB in page.text and TPS1 not in page.text
    client.token_from("/hasil/input")
    resp = client.post_json("/api/results", entry(TPS1, {1: 1, 2: 1, 3: 1}, invalid=0, dpt=200))
    assert resp.status_code == 403 and resp.json["field"] == "tps_kode"


def test_admin_without_agency_cannot_enter_numbers(login):
    admin = login("admin1")
    admin.token_from("/hasil/input")
    resp = admin.post_json("/api/results", entry(TPS1, {1: 1, 2: 1, 3: 1}, invalid=0, dpt=200))
    assert resp.status_code == 422 and resp.json["field"] == "agency"


def test_non_json_body_is_refused_clearly(kpu):
    resp = kpu.http.post("/api/results", data="votes=1", headers={"X-CSRFToken": kpu.token})
    assert resp.status_code == 422 and "JSON" in resp.json["error"]
