"""Readiness from offline queues: a batch of checklists stored all or none, each idempotent
by its own UUID, the current state decided by the device's check time, and check times
too far in the future refused."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from entry import seed as S
from entry.test_review_readiness import READY

TPS_A1, TPS_A2, TPS_B1 = f"{S.KEL_A}-001", f"{S.KEL_A}-002", f"{S.KEL_B}-001"


def _at(minutes: float) -> str:
    """A device check time ``minutes`` from now, as ISO 8601 with its offset (WITA)."""
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()


def check(tps, minutes=-5.0, **items) -> dict:
    return {"client_uuid": S.new_id(), "tps_kode": tps, "items": dict(READY, **items),
            "checked_at": _at(minutes)}


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM tps_readiness_history")).scalar(),
                conn.execute(text("SELECT count(*) FROM audit_log "
                                  "WHERE action = 'readiness.update'")).scalar())


def current(api, tps) -> dict:
    return api.get(f"/api/tps/{tps}/readiness").get_json()["current"]


def test_a_batch_stores_every_checklist_once_and_a_repeat_changes_nothing(as_role, engine):
    staff = as_role("desk_staff")
    batch = {"updates": [check(TPS_A1, tinta=False), check(TPS_A2), check(TPS_B1, segel=False)]}
    before = counts(engine)
    first = staff.post("/api/readiness", batch)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["created"] == 3
    assert counts(engine) == (before[0] + 3, before[1] + 3)
    again = staff.post("/api/readiness", batch)
    assert again.status_code == 200 and again.get_json()["repeated"] == 3
    assert counts(engine) == (before[0] + 3, before[1] + 3)
    assert current(staff, TPS_A2)["state"] == "siap"
    assert current(staff, TPS_A1)["state"] == "sebagian"


def test_a_batch_with_one_bad_item_stores_nothing(as_role, engine):
    staff = as_role("desk_staff")
    good = [check(TPS_A1), check(TPS_A2)]
    before = counts(engine)
    unknown = staff.post("/api/readiness", {"updates": good + [check(f"{S.KEL_B}-009")]})
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "updates[2].tps_kode"
    invalid = staff.post("/api/readiness",
                         {"updates": good + [dict(check(TPS_B1), items={"helikopter": True})]})
    assert invalid.status_code == 422
    assert "updates[2].items.helikopter" in {p["field"] for p in invalid.get_json()["problems"]}
    assert counts(engine) == before          # the two good ones were rolled back with them
    used = check(TPS_B1)
    assert staff.post("/api/readiness", {"updates": [used]}).status_code == 201
    before = counts(engine)
    reused = staff.post("/api/readiness",
                        {"updates": good + [dict(used, items=dict(READY, tinta=False))]})
    assert reused.status_code == 409 and reused.get_json()["field"] == "updates[2].client_uuid"
    assert counts(engine) == before


def test_a_late_arriving_older_check_goes_to_history_but_not_to_the_current_state(as_role):
    staff = as_role("desk_staff")
    newer, older = check(TPS_B1, minutes=-2), check(TPS_B1, minutes=-30, kotak_suara=False)
    assert staff.post("/api/readiness", {"updates": [newer]}).status_code == 201
    assert staff.post(f"/api/tps/{TPS_B1}/readiness", older).status_code == 201
    state = staff.get(f"/api/tps/{TPS_B1}/readiness").get_json()
    assert state["current"]["state"] == "siap"
    uuids = [h["client_uuid"] for h in state["history"]]
    assert uuids.index(newer["client_uuid"]) < uuids.index(older["client_uuid"])


def test_within_one_batch_the_latest_check_of_a_tps_wins_whatever_the_order(as_role):
    staff = as_role("desk_staff")
    late = check(TPS_A2, minutes=-1, tinta=False)
    early = check(TPS_A2, minutes=-20)
    assert staff.post("/api/readiness", {"updates": [late, early]}).status_code == 201
    assert current(staff, TPS_A2)["state"] == "sebagian"
    assert current(staff, TPS_A2)["checked_at"] == dt.datetime.fromisoformat(
        late["checked_at"]).astimezone(dt.timezone.utc).isoformat()


def test_check_times_further_ahead_than_the_allowed_skew_are_refused(as_role, engine):
    staff = as_role("desk_staff")
    before = counts(engine)
    ahead = staff.post(f"/api/tps/{TPS_A1}/readiness", check(TPS_A1, minutes=11))
    assert ahead.status_code == 422 and ahead.get_json()["field"] == "checked_at"
    assert "masa depan" in ahead.get_json()["error"]
    garbled = staff.post("/api/readiness", {"updates": [dict(check(TPS_A1), checked_at="kemarin")]})
    assert garbled.status_code == 422
    assert garbled.get_json()["field"] == "updates[0].checked_at"
    assert counts(engine) == before
    slightly_ahead = staff.post(f"/api/tps/{TPS_A1}/readiness", check(TPS_A1, minutes=8))
    assert slightly_ahead.status_code == 201


def test_batches_are_bounded_and_need_distinct_uuids(as_role):
    staff = as_role("desk_staff")
    assert staff.post("/api/readiness", {"updates": []}).status_code == 422
    assert staff.post("/api/readiness", [check(TPS_A1)]).status_code == 422
    twice = check(TPS_A1)
    assert staff.post("/api/readiness", {"updates": [twice, twice]}).status_code == 422
    assert as_role("viewer").post("/api/readiness", {"updates": [check(TPS_A1)]}
                                  ).status_code == 403


def test_a_readiness_tick_is_one_write_statement_and_one_read(as_role, engine):
    from entry.test_incident_api import _statements
    staff = as_role("desk_staff")
    staff.get(f"/api/tps/{TPS_A1}/readiness")            # the token's last use is fresh now
    resp, sent = _statements(engine, lambda: staff.post(f"/api/tps/{TPS_A1}/readiness",
                                                        check(TPS_A1, minutes=-0.5)))
    assert resp.status_code == 201
    assert len(sent) == 3, sent                          # token, the write, the answer
    assert "INSERT INTO tps_readiness_history" in sent[1]
    batch, sent = _statements(engine, lambda: staff.post(
        "/api/readiness", {"updates": [check(TPS_A1, minutes=-0.2), check(TPS_B1)]}))
    assert batch.status_code == 201 and len(sent) == 2   # token, the write (in BEGIN/COMMIT)
