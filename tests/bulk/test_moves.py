"""Acting on suggestions (real PostGIS): POST /api/moves, the /saran page with its "Terapkan"
forms, PUT /api/personnel/<id>; the move queues donor and receiver for the analysis worker
in its own transaction (``drain`` here does what the worker does)."""
from __future__ import annotations

import uuid

from sqlalchemy import text

from bulk.conftest import snapshot
from gisdesk.analysis.catchup import drain
from gisdesk.analysis.catchup import drain


def _suggestion(engine, kind: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM suggestion WHERE from_kind = :k ORDER BY rank, id "
                                "LIMIT 1"), {"k": kind}).mappings().first()
    assert row is not None, f"the demo has no {kind} suggestion"
    return dict(row)


def _gap(engine, kode: str, agency: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT {agency}_gap FROM kelurahan_gap WHERE "
                                 "kelurahan_kode = :k"), {"k": kode}).scalar_one()


def _post(client, token, payload):
    return client.post("/api/moves", json=payload, headers={"X-CSRFToken": token})


def test_applying_a_stored_suggestion_moves_personnel_and_queues_donor_and_receiver(
        as_role, engine, demo):
    s = _suggestion(engine, "kelurahan")
    to, donor, agency, n = s["kelurahan_kode"], s["from_kelurahan_kode"], s["agency"], s["count"]
    gap_to, gap_from = _gap(engine, to, agency), _gap(engine, donor, agency)
    before = snapshot(engine)
    client, token = as_role("supervisor")
    move_id = str(uuid.uuid4())
    resp = _post(client, token, {"suggestion_id": s["id"], "client_uuid": move_id})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["count"] == n and body["to_kelurahan_kode"] == to
    assert body["to_gap"] == gap_to - n and body["from_gap"] == gap_from + n   # said at once
    with engine.connect() as conn:
        queued = conn.execute(text("SELECT kelurahan_kode FROM analysis_queue")).scalars().all()
    assert queued == [sorted([to, donor])]                 # what the worker will recompute
    assert drain(engine)
    assert _gap(engine, to, agency) == gap_to - n           # the receiver's gap shrinks
    assert _gap(engine, donor, agency) == gap_from + n       # the donor's surplus shrinks
    after = snapshot(engine)
    assert after["moves"] == before["moves"] + 1 and after["audit"] == before["audit"] + 1
    with engine.connect() as conn:
        still = conn.execute(text("SELECT count(*) FROM suggestion WHERE kelurahan_kode = :t "
                                  "AND agency = :a AND from_kelurahan_kode = :d AND count = :n"),
                             {"t": to, "a": agency, "d": donor, "n": n}).scalar()
        entry = conn.execute(text("SELECT action, target, detail FROM audit_log ORDER BY id "
                                  "DESC LIMIT 1")).one()
    assert still == 0                                        # suggestion list recomputed
    assert entry.action == "personnel.move" and entry.target == to
    assert entry.detail["client_uuid"] == move_id and entry.detail["count"] == n

    again = _post(client, token, {"suggestion_id": s["id"], "client_uuid": move_id})
    assert again.status_code == 200                          # applied once, not refused
    replay = _post(client, token, {**{k: body[k] for k in (
        "agency", "count", "to_kelurahan_kode", "from_kelurahan_kode", "from_reserve")},
        "client_uuid": move_id})
    assert replay.status_code == 200
    assert snapshot(engine)["moves"] == after["moves"]        # applied once

    page = client.get("/saran").get_data(as_text=True)
    assert "Perpindahan personel" in page and "WITA" in page
    with engine.connect() as conn:
        to_nama = conn.execute(text("SELECT nama FROM kelurahan WHERE kode = :k"),
                               {"k": to}).scalar()
    assert to_nama in page.split("Perpindahan personel")[1]


def test_a_move_bigger_than_the_donor_surplus_is_422_and_changes_nothing(as_role, engine, demo):
    s = _suggestion(engine, "kelurahan")
    surplus = -_gap(engine, s["from_kelurahan_kode"], s["agency"])
    client, token = as_role("supervisor")
    before = snapshot(engine)
    resp = _post(client, token, {"agency": s["agency"], "count": surplus + 1,
                                 "to_kelurahan_kode": s["kelurahan_kode"],
                                 "from_kelurahan_kode": s["from_kelurahan_kode"]})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["field"] == "count" and "melebihi" in body["error"]
    assert snapshot(engine) == before


def test_same_client_uuid_with_other_content_is_a_conflict(as_role, engine, demo):
    s = _suggestion(engine, "polresta_reserve")
    client, token = as_role("admin")
    move_id = str(uuid.uuid4())
    first = _post(client, token, {"agency": s["agency"], "count": 1, "from_reserve": "polresta",
                                  "to_kelurahan_kode": s["kelurahan_kode"],
                                  "client_uuid": move_id})
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["from_reserve"] == "polresta"
    before = snapshot(engine)
    other = _post(client, token, {"agency": s["agency"], "count": 2, "from_reserve": "polresta",
                                  "to_kelurahan_kode": s["kelurahan_kode"],
                                  "client_uuid": move_id})
    assert other.status_code == 409
    assert snapshot(engine) == before


def test_only_reviewers_move_personnel(as_role, engine, demo):
    s = _suggestion(engine, "kelurahan")
    before = snapshot(engine)
    for role in ("viewer", "desk_staff", "planner"):
        client, token = as_role(role)
        resp = _post(client, token, {"suggestion_id": s["id"]})
        assert resp.status_code == 403
        page = client.get("/saran").get_data(as_text=True)
        assert "Terapkan rencana" not in page and "/saran/rencana" not in page
    assert snapshot(engine) == before


def test_supervisor_edits_an_assignment_count(as_role, engine, demo):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, count FROM personnel_assignment WHERE target = "
                                "'kelurahan' AND agency = 'polri' ORDER BY id LIMIT 1")).one()
    client, token = as_role("supervisor")
    resp = client.put(f"/api/personnel/{row.id}", json={"count": row.count + 2},
                      headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["count"] == row.count + 2
    bad = client.put(f"/api/personnel/{row.id}", json={"count": -1},
                     headers={"X-CSRFToken": token})
    assert bad.status_code == 422 and bad.get_json()["field"] == "count"
    with engine.connect() as conn:
        entry = conn.execute(text("SELECT action, detail FROM audit_log ORDER BY id DESC "
                                  "LIMIT 1")).one()
    assert entry.action == "personnel.update" and entry.detail["new"] == row.count + 2
    desk, desk_token = as_role("desk_staff")
    assert desk.put(f"/api/personnel/{row.id}", json={"count": 1},
                    headers={"X-CSRFToken": desk_token}).status_code == 403


# plans last: applying one takes the demo's kelurahan surplus the tests above use
def _plan_form(page: str, kode: str | None = None) -> dict:
    import re
    forms = page.split('action="/saran/rencana"')[1:]
    assert forms, "no 'Terapkan rencana' form on /saran"
    chosen = next(f for f in forms if kode is None or f'value="{kode}"' in f.split("</form>")[0])
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', chosen.split("</form>")[0]))


def test_saran_shows_one_block_per_kelurahan_with_its_moves_in_order(as_role, engine, demo):
    client, _ = as_role("supervisor")
    page = client.get("/saran").get_data(as_text=True)
    with engine.connect() as conn:
        top = conn.execute(text("SELECT kelurahan_kode, array_agg(move_text ORDER BY agency, id) "
                                "AS moves FROM suggestion WHERE rank = (SELECT min(rank) FROM "
                                "suggestion) AND from_kind <> 'tidak_tercukupi' "
                                "GROUP BY kelurahan_kode")).one()
        blocks = conn.execute(text("SELECT count(DISTINCT kelurahan_kode) FROM suggestion")
                              ).scalar()
    assert page.count('<article class="plan"') == blocks      # one block, not one per donor
    block = page.split(f'data-kelurahan="{top.kelurahan_kode}"')[1].split("</article>")[0]
    shown = [m.strip() for m in block.split("<li>")[1:]]
    assert [m.split("</li>")[0] for m in shown] == list(top.moves)
    assert block.count("Alasan:") == 1 and block.count("Terapkan rencana") == 1


def test_terapkan_rencana_applies_the_whole_plan_as_one_recorded_action(as_role, engine, demo):
    client, _ = as_role("supervisor")
    fields = _plan_form(client.get("/saran").get_data(as_text=True))
    kode = fields["kelurahan_kode"]
    with engine.connect() as conn:
        planned = conn.execute(text("SELECT count(*), sum(count) FROM suggestion WHERE "
                                    "kelurahan_kode = :k AND from_kind <> 'tidak_tercukupi'"),
                               {"k": kode}).one()
    before = snapshot(engine)
    resp = client.post("/saran/rencana", data=fields)
    assert resp.status_code == 303
    after = snapshot(engine)
    assert after["moves"] == before["moves"] + planned[0]
    assert after["audit"] == before["audit"] + 1               # ONE recorded action
    with engine.connect() as conn:
        entry = conn.execute(text("SELECT action, target, detail FROM audit_log ORDER BY id "
                                  "DESC LIMIT 1")).one()
    assert entry.action == "personnel.plan" and entry.target == kode
    assert sum(m["count"] for m in entry.detail["moves"]) == planned[1]
    assert entry.detail["based_on_version"] == int(fields["based_on_version"])
    assert client.post("/saran/rencana", data=fields).status_code == 303   # double click
    assert snapshot(engine)["moves"] == after["moves"]
    assert "Rencana ini sudah diterapkan" in client.get("/saran").get_data(as_text=True)


def test_a_plan_based_on_results_that_moved_on_is_refused_with_409(as_role, engine, demo):
    client, token = as_role("supervisor")
    page = client.get("/saran").get_data(as_text=True)
    first, second = (_plan_form(page, k) for k in _plan_kelurahan(page)[:2])
    assert client.post("/saran/rencana", data=first).status_code == 303
    again = dict(first, client_uuid=str(uuid.uuid4()))      # the same plan from a reload
    assert client.post("/saran/rencana", data=again).status_code == 409
    drain(engine)                                           # the worker: results move on
    before = snapshot(engine)
    stale = client.post("/saran/rencana", data=second)
    assert stale.status_code == 409
    assert "Hasil analisis sudah berubah" in stale.get_data(as_text=True)
    api = client.post("/api/plans", json={"kelurahan_kode": second["kelurahan_kode"],
                                          "based_on_version": second["based_on_version"]},
                      headers={"X-CSRFToken": token})
    assert api.status_code == 409 and api.get_json()["field"] == "based_on_version"
    assert snapshot(engine) == before                           # nothing applied


def _plan_kelurahan(page: str) -> list[str]:
    import re
    return re.findall(r'name="kelurahan_kode" value="([^"]+)"', page)


def test_audit_page_says_moves_in_words_not_stored_keys(as_role, engine, demo):
    import re
    client, _ = as_role("supervisor")
    html = client.get("/audit").get_data(as_text=True)
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "Perpindahan personel" in visible and "Rencana personel diterapkan" in visible
    assert "kekurangan tujuan setelahnya" in visible and "instansi: Polri" in visible
    for key in ("personnel.move", "to_gap", "client_uuid", "from_kelurahan_kode", "cli:"):
        assert key not in visible, key
    filtered = client.get("/audit?action=personnel.move").get_data(as_text=True)
    assert ">Perpindahan personel</option>" in filtered


def test_a_plan_of_given_moves_is_refused_whole_naming_the_bad_move(as_role, engine, demo):
    client, token = as_role("supervisor")
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version FROM analysis_run")).scalar_one()
        to = conn.execute(text("SELECT kelurahan_kode FROM suggestion ORDER BY rank LIMIT 1")
                          ).scalar_one()
    before = snapshot(engine)
    bad = client.post("/api/plans", headers={"X-CSRFToken": token}, json={
        "based_on_version": version, "moves": [
            {"agency": "polri", "count": 1, "to_kelurahan_kode": to, "from_reserve": "polresta"},
            {"agency": "polri", "count": 0, "to_kelurahan_kode": to, "from_reserve": "polresta"}]})
    body = bad.get_json()
    assert bad.status_code == 422 and body["field"] == "moves[1].count"
    assert body["error"].startswith("Perpindahan ke-2:")
    assert snapshot(engine) == before                            # the first move is undone
    empty = client.post("/api/plans", headers={"X-CSRFToken": token},
                        json={"based_on_version": version, "moves": []})
    assert empty.status_code == 422 and empty.get_json()["field"] == "moves"
