"""Two agencies, one TPS: agreement counts, disagreement is a flag a supervisor resolves,
and the aggregate (TPS -> kelurahan -> kecamatan -> city) uses only agreed/resolved numbers.

The steps build on each other (one database for the module), in file order:
  TPS A-001: KPU and Polri agree           -> counts
  TPS A-002: only KPU                      -> counts
  TPS B-001: KPU 2=110, Polri 2=101        -> flag, not counted until resolved
  TPS A-003: nothing entered
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from .conftest import entry
from .seed import KEL_A, KEL_B

A1, A2, A3, B1 = f"{KEL_A}-001", f"{KEL_A}-002", f"{KEL_A}-003", f"{KEL_B}-001"
KPU_B1 = entry(B1, {1: 70, 2: 110, 3: 50}, invalid=6, dpt=270)
POLRI_B1 = entry(B1, {1: 70, 2: 101, 3: 50}, invalid=6, dpt=270)


@pytest.fixture(scope="module")
def ops(login):
    clients = {}
    for agency in ("kpu", "polri", "bawaslu"):
        clients[agency] = login(f"op_{agency}")
        clients[agency].token_from("/hasil/input")
    return clients


@pytest.fixture(scope="module")
def kepala(login):
    client = login("kepala")
    client.token_from("/hitung-cepat")
    return client


def summary(client) -> dict:
    resp = client.get("/api/quickcount/summary")
    assert resp.status_code == 200, resp.text
    return resp.json


def test_entries_from_two_agencies_are_compared(ops, kepala):
    a1 = {1: 50, 2: 90, 3: 30}
    for agency in ("kpu", "polri"):
        assert ops[agency].post_json("/api/results", entry(A1, a1, invalid=5, dpt=200,
                                                           dptb=2, dpk=1)).status_code == 201
    assert ops["kpu"].post_json("/api/results", entry(A2, {1: 60, 2: 100, 3: 40}, invalid=10,
                                                      dpt=250)).status_code == 201
    assert ops["kpu"].post_json("/api/results", KPU_B1).status_code == 201
    resp = ops["polri"].post_json("/api/results", POLRI_B1)
    assert resp.status_code == 201
    assert "flag" not in resp.text and "110" not in resp.text  # nothing of KPU's numbers

    flags = kepala.get("/api/quickcount/flags").json["flags"]
    assert [(f["tps_kode"], f["status"], f["agencies"]) for f in flags] == [
        (B1, "open", ["kpu", "polri"])]
    assert flags[0]["detail"] == [
        {"field": "votes.2", "values": {"kpu": 110, "polri": 101}},
        {"field": "ballots_used", "values": {"kpu": 236, "polri": 227}},
        {"field": "valid", "values": {"kpu": 230, "polri": 221}}]


def test_a_flagged_tps_does_not_count_until_resolved(kepala):
    data = summary(kepala)
    city = data["city"]
    assert (city["tps_in"], city["tps_total"], city["tps_flagged"]) == (2, 4, 1)
    assert (city["dpt_in"], city["dpt_total"]) == (450, 1000)
    assert city["votes"] == {"1": 110, "2": 190, "3": 70}
    assert city["shares"] == {"1": 29.73, "2": 51.35, "3": 18.92}
    assert data["flags_open"] == 1


def test_supervisor_resolves_by_choosing_an_entry_and_the_aggregate_uses_it(kepala, engine):
    flag = kepala.get("/api/quickcount/flags").json["flags"][0]
    resp = kepala.post_json(f"/api/quickcount/flags/{flag['id']}/resolve",
                            {"entry_id": KPU_B1["id"], "note": "dicek ke foto C.Hasil"})
    assert resp.status_code == 200, resp.text
    assert resp.json["chosen_entry_id"] == KPU_B1["id"]

    data = summary(kepala)
    city = data["city"]
    assert (city["tps_in"], city["tps_total"], city["progress_pct"]) == (3, 4, 75.0)
    assert (city["dpt_in"], city["dpt_pct"], city["tps_flagged"]) == (720, 72.0, 0)
    assert city["votes"] == {"1": 180, "2": 300, "3": 120}
    assert city["shares"] == {"1": 30.0, "2": 50.0, "3": 20.0} and city["leading"] == 2
    assert (city["valid"], city["invalid"], city["ballots_used"]) == (600, 21, 621)
    kel = {k["kode"]: k for k in data["kelurahan"]}
    assert (kel[KEL_A]["tps_in"], kel[KEL_A]["tps_total"], kel[KEL_A]["dpt_in"]) == (2, 3, 450)
    assert (kel[KEL_B]["tps_in"], kel[KEL_B]["tps_total"], kel[KEL_B]["votes"]["2"]) == (1, 1, 110)
    assert [(k["kode"], k["tps_in"], k["tps_total"]) for k in data["kecamatan"]] == [
        ("52.71.01", 3, 4)]
    assert data["keterangan"] == "INTERNAL — TIDAK RESMI (bukan hasil resmi KPU)"

    with engine.connect() as c:
        history = c.execute(text("SELECT action, status, actor FROM result_flag_history "
                                 "WHERE flag_id = :f ORDER BY id"), {"f": flag["id"]}).all()
        audited = c.execute(text("SELECT actor, target FROM audit_log "
                                 "WHERE action = 'quickcount.resolve'")).all()
    assert [tuple(h) for h in history] == [("opened", "open", "op_polri"),
                                           ("resolved", "resolved", "kepala")]
    assert [tuple(a) for a in audited] == [("kepala", B1)]


def test_an_entry_confirming_the_decision_keeps_it_a_different_one_reopens(ops, kepala):
    same_as_kpu = entry(B1, {1: 70, 2: 110, 3: 50}, invalid=6, dpt=270)
    assert ops["polri"].post_json("/api/results", same_as_kpu).status_code == 201
    assert kepala.get("/api/quickcount/flags").json["flags"][0]["status"] == "resolved"
    assert summary(kepala)["city"]["tps_in"] == 3

    # Bawaslu reads TPS A-001 differently: it drops out of the count until decided
    other = entry(A1, {1: 50, 2: 80, 3: 40}, invalid=5, dpt=200, dptb=2, dpk=1)
    assert ops["bawaslu"].post_json("/api/results", other).status_code == 201
    flags = {f["tps_kode"]: f for f in kepala.get("/api/quickcount/flags").json["flags"]}
    assert flags[A1]["status"] == "open" and flags[A1]["agencies"] == ["bawaslu", "kpu", "polri"]
    city = summary(kepala)["city"]
    assert (city["tps_in"], city["votes"]) == (2, {"1": 130, "2": 210, "3": 90})


def test_supervisor_enters_corrected_numbers_through_the_page(kepala, engine):
    flag = next(f for f in kepala.get("/api/quickcount/flags").json["flags"]
                if f["tps_kode"] == A1)
    bad = kepala.post_json(f"/api/quickcount/flags/{flag['id']}/resolve",
                           {"corrected": {"votes": {"1": 51, "2": 89, "3": 30}, "valid": 171,
                                          "invalid": 5, "ballots_used": 176, "dpt": 200}})
    assert bad.status_code == 422 and bad.json["field"] == "votes"
    form = {"mode": "koreksi", "votes.1": "51", "votes.2": "89", "votes.3": "30",
            "valid": "170", "invalid": "5", "ballots_used": "175", "dpt": "200", "dptb": "2",
            "dpk": "1", "note": "hitung ulang di PPK"}
    resp = kepala.post_form(f"/hitung-cepat/tanda/{flag['id']}?contest=ppwp", form)
    assert resp.status_code == 302, resp.text
    city = summary(kepala)["city"]
    assert (city["tps_in"], city["votes"]) == (3, {"1": 181, "2": 299, "3": 120})
    with engine.connect() as c:
        row = c.execute(text("SELECT e.agency, e.status, e.entered_by, f.resolution "
                             "FROM result_flag f JOIN result_entry e ON e.id = f.chosen_entry_id "
                             "WHERE f.id = :f"), {"f": flag["id"]}).one()
    assert tuple(row) == ("desk", "correction", "kepala", "hitung ulang di PPK")
    page = kepala.get("/hitung-cepat")
    assert "hitung ulang di PPK" in page.text and "KOREKSI" in page.text


def test_supervisor_page_shows_tables_flags_and_the_notice(kepala):
    page = kepala.get("/hitung-cepat")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.text.count("INTERNAL — TIDAK RESMI (bukan hasil resmi KPU)") >= 2
    for words in ("Per kecamatan", "Per kelurahan", "Ampenan Barat", "3 / 4", "75,0 %",
                  "Beda angka antar-instansi", "WITA"):
        assert words in page.text, words


def test_kelurahan_layer_has_progress_and_leading_candidate(kepala):
    resp = kepala.get("/api/quickcount/kelurahan.geojson")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    assert resp.headers["Cache-Control"] == "no-store"
    features = {f["id"]: f for f in resp.json["features"]}
    assert set(features) == {KEL_A, KEL_B}
    a = features[KEL_A]["properties"]
    assert (a["tps_in"], a["tps_total"], a["progress_pct"]) == (2, 3, 66.67)
    assert a["leading_nomor"] == 2
    assert a["leading_nama"] == "Prabowo Subianto – Gibran Rakabuming Raka"
    assert features[KEL_A]["geometry"]["type"] == "MultiPolygon"
    assert a["keterangan"] == resp.json["keterangan"] == \
        "INTERNAL — TIDAK RESMI (bukan hasil resmi KPU)"


def test_every_view_of_results_is_audited(kepala, ops, engine):
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM audit_log "
                                "WHERE action = 'quickcount.view'")).scalar_one()
    for path in ("/hitung-cepat", "/api/quickcount/summary", "/api/quickcount/flags",
                 "/api/quickcount/kelurahan.geojson"):
        assert kepala.get(path).status_code == 200
    assert ops["kpu"].get("/api/results/mine").status_code == 200
    with engine.connect() as c:
        rows = c.execute(text("SELECT actor, target, detail->>'path' FROM audit_log "
                              "WHERE action = 'quickcount.view' ORDER BY id OFFSET :n"),
                         {"n": before}).all()
    assert [tuple(r) for r in rows] == [
        ("kepala", "hitung-cepat", "/hitung-cepat"),
        ("kepala", "summary", "/api/quickcount/summary"),
        ("kepala", "flags", "/api/quickcount/flags"),
        ("kepala", "kelurahan.geojson", "/api/quickcount/kelurahan.geojson"),
        ("op_kpu", "results.mine", "/api/results/mine")]
