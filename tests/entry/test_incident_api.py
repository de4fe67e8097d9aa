"""POST/GET /api/incidents on a real PostGIS: idempotency, checks, permissions, CSRF."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from entry import seed as S
from entry.conftest import login
from gisdesk.entry import WITA

WHEN = "2024-02-14T09:30"          # WITA (no offset)


def report(point=S.IN_A, **extra) -> dict:
    body = {"id": S.new_id(), "category": "intimidasi", "severity": "sedang",
            "description": "Pemilih diintimidasi di depan TPS", "occurred_at": WHEN,
            "lon": point[0], "lat": point[1]}
    body.update(extra)
    return body


def count(engine, ident=None) -> int:
    with engine.connect() as conn:
        if ident is None:
            return conn.execute(text("SELECT count(*) FROM incident")).scalar()
        return conn.execute(text("SELECT count(*) FROM incident WHERE id = :i"),
                            {"i": ident}).scalar()


def audits(engine, ident: str, action: str = "incident.create") -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log WHERE target = :t "
                                 "AND action = :a"), {"t": ident, "a": action}).scalar()


def test_new_report_is_created_with_kelurahan_and_nearest_tps(as_role, engine):
    body = report()
    resp = as_role("desk_staff").post("/api/incidents", body)
    assert resp.status_code == 201, resp.get_json()
    got = resp.get_json()
    assert got["id"] == body["id"] and got["status"] == "reported"
    assert got["kelurahan_kode"] == S.KEL_A and got["tps_kode"] == f"{S.KEL_A}-001"
    assert 40 < got["tps_distance_m"] < 90
    assert got["occurred_at"] == "2024-02-14T01:30:00+00:00"    # WITA stored as UTC
    assert got["jenis"] == "pidana" and got["reporter_name"] == "uji_desk_staff"
    assert resp.headers["Location"].endswith(body["id"])
    assert audits(engine, body["id"]) == 1


def test_same_report_twice_returns_the_stored_one(as_role, engine):
    api, body = as_role("desk_staff"), report()
    first = api.post("/api/incidents", body)
    again = api.post("/api/incidents", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count(engine, body["id"]) == 1 and audits(engine, body["id"]) == 1


def test_same_time_written_differently_is_the_same_content(as_role):
    api, body = as_role("desk_staff"), report()
    assert api.post("/api/incidents", body).status_code == 201
    utc = dict(body, occurred_at="2024-02-14T01:30:00Z", severity="sedang")
    assert api.post("/api/incidents", utc).status_code == 200


def test_same_id_with_other_content_is_a_conflict(as_role, engine):
    api, body = as_role("desk_staff"), report()
    assert api.post("/api/incidents", body).status_code == 201
    resp = api.post("/api/incidents", dict(body, severity="berat"))
    assert resp.status_code == 409 and resp.get_json()["field"] == "id"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT severity FROM incident WHERE id = :i"),
                            {"i": body["id"]}).scalar() == "sedang"


def test_geojson_feature_and_typed_coordinates_are_accepted(as_role):
    api = as_role("desk_staff")
    feature = {"type": "Feature", "id": S.new_id(),
               "geometry": {"type": "Point", "coordinates": list(S.IN_B)},
               "properties": {"category": "politik_uang", "severity": "tinggi",
                              "occurred_at": "2024-02-13T22:00:00+08:00"}}
    resp = api.post("/api/incidents", feature)
    assert resp.status_code == 201 and resp.get_json()["kelurahan_kode"] == S.KEL_B
    assert resp.get_json()["severity"] == "berat"           # alias of the other scale
    typed = report(point=(None, None), coords="8°34'31.8\"S 116°04'13.8\"E")
    del typed["lon"], typed["lat"]
    got = api.post("/api/incidents", typed).get_json()
    assert got["kelurahan_kode"] == S.KEL_A and got["lat"] == pytest.approx(-8.5755, abs=1e-4)


def test_point_in_two_overlapping_kelurahan_goes_to_the_lowest_code(as_role):
    got = as_role("desk_staff").post("/api/incidents", report(S.IN_OVERLAP,
                                                              confirm_warnings=True))
    assert got.status_code == 201 and got.get_json()["kelurahan_kode"] == S.KEL_A


def test_tps_given_by_number_or_code(as_role):
    api = as_role("desk_staff")
    by_number = api.post("/api/incidents", report(tps="2")).get_json()
    assert by_number["tps_kode"] == f"{S.KEL_A}-002"
    by_code = api.post("/api/incidents", report(tps=f"{S.KEL_A}-001")).get_json()
    assert by_code["tps_kode"] == f"{S.KEL_A}-001"
    unknown = api.post("/api/incidents", report(tps="77"))
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "tps"


def test_missing_and_bad_fields_are_named(as_role, engine):
    before = count(engine)
    resp = as_role("desk_staff").post("/api/incidents", {"id": "nope", "category": "x",
                                                          "severity": "parah"})
    assert resp.status_code == 422
    fields = {p["field"] for p in resp.get_json()["problems"]}
    assert fields == {"id", "category", "severity", "occurred_at", "coords"}
    assert count(engine) == before
    assert as_role("desk_staff").post("/api/incidents", None).status_code == 422


@pytest.mark.parametrize("point, field, words", [
    (S.OUTSIDE, "lat", "luar wilayah"),
    ((S.IN_A[1], S.IN_A[0]), "lat", "lintang dan bujur tertukar"),          # lon=-8.57, lat=116.07
    ((S.IN_A[0], -S.IN_A[1]), "lat", "tanda lintang terbalik"),
    ((S.IN_A[0], -S.IN_A[1]), "lat", "negatif"),
])
def test_points_outside_the_area_are_refused_with_a_hint(as_role, engine, point, field, words):
    before = count(engine)
    resp = as_role("desk_staff").post("/api/incidents", report(point))
    body = resp.get_json()
    assert resp.status_code == 422 and body["field"] == field and words in body["error"]
    assert body["problems"][0]["field"] == field
    assert count(engine) == before


def test_swapped_geojson_coordinates_are_refused(as_role):
    feature = {"type": "Feature", "id": S.new_id(),
               "geometry": {"type": "Point", "coordinates": [S.IN_A[1], S.IN_A[0]]},
               "properties": {"category": "banjir", "severity": "ringan", "occurred_at": WHEN}}
    resp = as_role("desk_staff").post("/api/incidents", feature)
    assert resp.status_code == 422 and resp.get_json()["field"] == "geometry"
    assert "tertukar" in resp.get_json()["error"]


def test_far_from_any_tps_needs_confirmation(as_role, engine):
    api, body = as_role("desk_staff"), report(S.FAR_FROM_TPS)
    resp = api.post("/api/incidents", body)
    got = resp.get_json()
    assert resp.status_code == 422 and got["needs_confirmation"] is True
    assert [w["code"] for w in got["warnings"]] == ["far_from_tps"]
    assert count(engine, body["id"]) == 0
    confirmed = api.post("/api/incidents", dict(body, confirm_warnings=True))
    assert confirmed.status_code == 201
    assert [w["code"] for w in confirmed.get_json()["warnings"]] == ["far_from_tps"]
    # resending the confirmed report (with or without the flag) is not a conflict
    assert api.post("/api/incidents", body).status_code == 200
    assert api.post("/api/incidents", dict(body, confirm_warnings=True)).status_code == 200


def test_point_just_outside_the_area_goes_to_nearest_kelurahan_with_warning(as_role):
    api, body = as_role("desk_staff"), report(S.NEAR_EDGE)
    first = api.post("/api/incidents", body).get_json()
    assert first["needs_confirmation"] and first["warnings"][0]["code"] == "near_boundary"
    got = api.post("/api/incidents", dict(body, confirm_warnings=True)).get_json()
    assert got["kelurahan_kode"] == S.KEL_A and got["warnings"][0]["code"] == "near_boundary"


def test_time_in_the_future_is_refused(as_role):
    later = (dt.datetime.now(WITA) + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    resp = as_role("desk_staff").post("/api/incidents", report(occurred_at=later))
    assert resp.status_code == 422 and resp.get_json()["field"] == "occurred_at"
    soon = (dt.datetime.now(WITA) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    assert as_role("desk_staff").post("/api/incidents",
                                      report(occurred_at=soon)).status_code == 201


def test_time_before_the_campaign_is_refused(as_role):
    resp = as_role("desk_staff").post("/api/incidents",
                                      report(occurred_at="2023-11-27T23:59"))
    assert resp.status_code == 422 and resp.get_json()["field"] == "occurred_at"
    assert "kampanye" in resp.get_json()["error"]
    ok = as_role("desk_staff").post("/api/incidents", report(occurred_at="2023-11-28T00:00"))
    assert ok.status_code == 201


def test_viewer_cannot_report_and_anonymous_gets_json_401(as_role, client):
    assert as_role("viewer").post("/api/incidents", report()).status_code == 403
    assert as_role("operator").post("/api/incidents", report()).status_code == 403
    resp = client.post("/api/incidents", json=report())
    assert resp.status_code == 401 and resp.is_json and "error" in resp.get_json()
    bad = client.post("/api/incidents", json=report(),
                      headers={"Authorization": "Bearer gd_not-a-token"})
    assert bad.status_code == 401


def test_session_posts_need_the_csrf_header(app, engine):
    client = app.test_client()
    token = login(client, "desk_staff")
    body = report()
    refused = client.post("/api/incidents", json=body)
    assert refused.status_code == 400 and refused.get_json()["csrf"] is True
    assert count(engine, body["id"]) == 0
    ok = client.post("/api/incidents", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_list_filters_and_pages(as_role):
    api = as_role("viewer")
    everything = api.get("/api/incidents", limit=2).get_json()
    assert len(everything["items"]) == 2 and everything["total"] > 2
    assert "offset=2" in everything["next"]
    in_b = api.get("/api/incidents", kelurahan=S.KEL_B).get_json()
    assert in_b["items"] and {i["kelurahan_kode"] for i in in_b["items"]} == {S.KEL_B}
    recent = api.get("/api/incidents", since="2024-02-14").get_json()
    assert all(i["occurred_at"] >= "2024-02-13T16:00" for i in recent["items"])
    assert api.get("/api/incidents", status="rejected").get_json()["total"] == 0
    assert api.get("/api/incidents", status="weird").status_code == 422
    assert api.get("/api/incidents", limit=0).status_code == 422
    one = everything["items"][0]
    assert api.get(f"/api/incidents/{one['id']}").get_json()["id"] == one["id"]
    assert api.get(f"/api/incidents/{S.new_id()}").status_code == 404


def test_coordinate_preview_endpoint(as_role):
    got = as_role("desk_staff").get("/api/coords/parse", q="8 35 12 S 116 6 30 E").get_json()
    assert got["lat"] == pytest.approx(-8.5866667) and got["form"] == "derajat menit detik"
    bad = as_role("desk_staff").get("/api/coords/parse", q="utara")
    assert bad.status_code == 422 and bad.get_json()["field"] == "coords"


def _statements(engine, call) -> list[str]:
    from sqlalchemy import event
    sent: list[str] = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        resp = call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return resp, sent


def test_a_common_report_is_one_write_statement_after_the_token_check(as_role, engine):
    api, body = as_role("desk_staff"), report()
    api.get("/api/incidents")                     # the token's last use is fresh now
    resp, sent = _statements(engine, lambda: api.post("/api/incidents", body))
    assert resp.status_code == 201
    assert len(sent) == 2, sent                   # token lookup, then the write
    assert "api_token" in sent[0] and "INSERT INTO incident" in sent[1]
    assert resp.get_json() == api.get(f"/api/incidents/{body['id']}").get_json()
    assert count(engine, body["id"]) == 1 and audits(engine, body["id"]) == 1
    with engine.connect() as conn:
        marker = conn.execute(text("SELECT count(*) FROM audit_unchained u JOIN audit_log a "
                                   "ON a.id = u.entry_id WHERE a.target = :t"),
                              {"t": body["id"]}).scalar()
    assert marker == 1                            # waiting for the sequencer, no lock taken


def test_coordinate_preview_says_whether_the_point_is_in_the_work_area(as_role):
    api = as_role("desk_staff")
    inside = api.get("/api/coords/parse", q=f"{S.IN_A[1]}, {S.IN_A[0]}").get_json()
    assert inside["inside"] is True and inside["kelurahan_nama"] == "Kelurahan A"
    outside = api.get("/api/coords/parse", q=f"geo:{S.OUTSIDE[1]},{S.OUTSIDE[0]}").get_json()
    assert outside["inside"] is False and outside["distance_m"] > 5000


def test_a_report_located_by_a_short_plus_code_lands_in_its_kelurahan(as_role):
    from openlocationcode import openlocationcode as olc
    short = olc.encode(S.IN_A[1], S.IN_A[0])[4:]          # e.g. "C4F9+6V"
    resp = as_role("desk_staff").post("/api/incidents", {
        "id": S.new_id(), "category": "intimidasi", "severity": "ringan",
        "occurred_at": "2024-02-14T09:00", "coords": f"{short} Mataram"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["kelurahan_kode"] == S.KEL_A
