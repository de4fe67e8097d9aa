"""Supervisor workflow on reports, duplicate hints, and TPS readiness with its history."""
from __future__ import annotations

from sqlalchemy import text

from entry import seed as S

WHEN = "2024-02-14T09:30"


def create(api, point=S.IN_A, category="intimidasi", when=WHEN) -> str:
    body = {"id": S.new_id(), "category": category, "severity": "sedang", "occurred_at": when,
            "lon": point[0], "lat": point[1]}
    resp = api.post("/api/incidents", body)
    assert resp.status_code == 201, resp.get_json()
    return body["id"]


def audit_actions(engine, target: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_log WHERE target = :t "
                                      "ORDER BY id"), {"t": target}).scalars())


def test_desk_staff_cannot_review_and_viewer_cannot_see_duplicates(as_role):
    ident = create(as_role("desk_staff"))
    assert as_role("desk_staff").post(f"/api/incidents/{ident}/verify").status_code == 403
    assert as_role("viewer").get(f"/api/incidents/{ident}/duplicates").status_code == 403


def test_verify_then_resolve_is_audited_and_queues_the_incident_for_the_analysis(
        as_role, engine, area):
    ident = create(as_role("desk_staff"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_queue"))
    sup = as_role("supervisor")
    got = sup.post(f"/api/incidents/{ident}/verify").get_json()
    assert got["status"] == "verified" and got["reviewed_by"] == "uji_supervisor"
    with engine.connect() as conn:   # its point: the worker recomputes the TPS around it
        queued = conn.execute(text(
            "SELECT q.reason, ST_Equals(q.points, ST_Multi(i.geom)) FROM analysis_queue q "
            "JOIN incident i ON i.id = CAST(:i AS uuid)"), {"i": ident}).all()
    assert queued == [("incident.verify", True)]
    assert sup.post(f"/api/incidents/{ident}/verify").status_code == 200   # repeat: no change
    assert sup.post(f"/api/incidents/{ident}/resolve", {"note": "Sudah ditangani Polsek"}
                    ).get_json()["status"] == "resolved"
    assert audit_actions(engine, ident) == ["incident.create", "incident.verify",
                                            "incident.resolve"]
    again = sup.post(f"/api/incidents/{ident}/verify")
    assert again.status_code == 409 and again.get_json()["field"] == "status"


def test_reject_needs_a_reason(as_role, engine):
    ident = create(as_role("desk_staff"))
    sup = as_role("supervisor")
    resp = sup.post(f"/api/incidents/{ident}/reject", {})
    assert resp.status_code == 422 and resp.get_json()["field"] == "reason"
    got = sup.post(f"/api/incidents/{ident}/reject", {"reason": "Laporan palsu"}).get_json()
    assert got["status"] == "rejected" and got["review_note"] == "Laporan palsu"
    assert audit_actions(engine, ident)[-1] == "incident.reject"


def test_duplicates_and_merge(as_role, engine):
    staff = as_role("desk_staff")
    first = create(staff, S.IN_B, "bentrok_massa", "2024-02-14T10:00")
    near = create(staff, (S.IN_B[0] + 0.001, S.IN_B[1]), "bentrok_massa", "2024-02-14T11:30")
    create(staff, (S.IN_B[0] + 0.001, S.IN_B[1]), "bentrok_massa", "2024-02-14T12:30")  # 2.5 h
    create(staff, (S.IN_B[0] + 0.004, S.IN_B[1]), "bentrok_massa", "2024-02-14T10:10")  # 440 m
    create(staff, S.IN_B, "banjir", "2024-02-14T10:05")                                # category
    sup = as_role("supervisor")
    dups = sup.get(f"/api/incidents/{first}/duplicates").get_json()
    assert [d["id"] for d in dups["items"]] == [near]
    assert 100 < dups["items"][0]["distance_m"] < 120 and dups["items"][0]["minutes_apart"] == 90
    merged = sup.post(f"/api/incidents/{near}/merge", {"into": first}).get_json()
    assert merged["status"] == "merged" and merged["merged_into"] == first
    assert sup.get(f"/api/incidents/{first}/duplicates").get_json()["items"] == []
    assert audit_actions(engine, near)[-1] == "incident.merge"
    assert sup.post(f"/api/incidents/{first}/merge", {"into": first}).status_code == 422
    assert sup.post(f"/api/incidents/{first}/merge", {"into": near}).status_code == 409
    assert sup.post(f"/api/incidents/{first}/merge", {"into": S.new_id()}).status_code == 404
    page = sup.get("/insiden")
    assert page.status_code == 200


def test_incident_page_shows_review_buttons_only_to_supervisors(client, app):
    from entry.conftest import login
    sup = app.test_client()
    login(sup, "supervisor")
    html = sup.get("/insiden").get_data(as_text=True)
    assert 'data-action="verify"' in html and "Mungkin duplikat" in html
    viewer = app.test_client()
    login(viewer, "viewer")
    html = viewer.get("/insiden").get_data(as_text=True)
    assert "Kejadian" in html and 'data-action="verify"' not in html
    assert viewer.get("/lapor").status_code == 403


READY = {key: True for key in ("lokasi_tenda", "kotak_suara", "bilik_suara", "surat_suara",
                               "tinta", "segel", "formulir", "kpps_hadir", "linmas_hadir",
                               "ptps_hadir", "penerangan", "posko_kesehatan")}


def test_readiness_update_history_and_idempotency(as_role, engine):
    staff, tps = as_role("desk_staff"), f"{S.KEL_A}-001"
    url = f"/api/tps/{tps}/readiness"
    partial = {"client_uuid": S.new_id(), "items": dict(READY, tinta=False), "note": "Tinta belum"}
    first = staff.post(url, partial)
    assert first.status_code == 201 and first.get_json()["current"]["state"] == "sebagian"
    assert staff.post(url, partial).status_code == 200                  # same uuid again
    conflict = staff.post(url, dict(partial, note="lain"))
    assert conflict.status_code == 409 and conflict.get_json()["field"] == "client_uuid"
    missing_critical = {"client_uuid": S.new_id(), "items": dict(READY, kotak_suara=False)}
    assert staff.post(url, missing_critical).get_json()["current"]["state"] == "belum"
    done = staff.post(url, {"client_uuid": S.new_id(), "items": READY}).get_json()
    assert done["current"]["state"] == "siap"
    state = as_role("viewer").get(url).get_json()
    assert [h["state"] for h in state["history"]] == ["siap", "belum", "sebagian"]
    assert state["current"]["items"] == READY
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE target = :t AND "
                                 "action = 'readiness.update'"), {"t": tps}).scalar() == 3


def test_readiness_with_nothing_ready_and_bad_input(as_role):
    staff, url = as_role("desk_staff"), f"/api/tps/{S.KEL_B}-001/readiness"
    assert staff.post(url, {"client_uuid": S.new_id(), "items": {}}
                      ).get_json()["current"]["state"] == "belum"
    bad = staff.post(url, {"client_uuid": "x", "items": {"helikopter": True}})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.get_json()["problems"]} == {"client_uuid", "items.helikopter"}
    assert staff.post(f"/api/tps/{S.KEL_B}-009/readiness",
                      {"client_uuid": S.new_id(), "items": {}}).status_code == 404
    assert staff.post("/api/tps/TPS9/readiness", {"client_uuid": S.new_id(),
                                                  "items": {}}).status_code == 422
    assert as_role("viewer").post(url, {"client_uuid": S.new_id(), "items": {}}
                                  ).status_code == 403
