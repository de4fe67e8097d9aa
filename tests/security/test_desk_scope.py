"""Desk staff tied to a kelurahan write readiness and incidents only there (API, pages' API,
bulk uploads by row); desk staff without a kelurahan, and higher roles, are city-wide."""
from __future__ import annotations

import io
import re
import uuid

import pytest
from sqlalchemy import text

from gisdesk import accounts
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app

ITEMS = ("lokasi_tenda", "kotak_suara", "bilik_suara", "surat_suara", "tinta", "segel",
         "formulir", "kpps_hadir", "linmas_hadir", "ptps_hadir", "penerangan", "posko_kesehatan")


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    with demo_engine.begin() as conn:
        accounts.create_user(conn, "petugas_kota", DEMO_PASSWORD, "desk_staff", actor="test")
    return create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                       "testing": True, "home": tmp_path_factory.mktemp("home"),
                       "secret_key": "scope"})


@pytest.fixture(scope="module")
def places(demo_engine):
    """A TPS inside the demo desk officer's kelurahan and one outside, with names."""
    with demo_engine.connect() as conn:
        scope = conn.execute(text("SELECT u.kelurahan_kode, k.nama FROM users u JOIN kelurahan "
                                  "k ON k.kode = u.kelurahan_kode WHERE u.username = 'petugas'")
                             ).one()
        pick = ("SELECT t.kode, k.nama, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat FROM tps t "
                "JOIN kelurahan k ON k.kode = t.kelurahan_kode WHERE t.kelurahan_kode {} :k "
                "ORDER BY t.kode LIMIT 2")
        inside = conn.execute(text(pick.format("=")), {"k": scope.kelurahan_kode}).all()
        outside = conn.execute(text(pick.format("<>")), {"k": scope.kelurahan_kode}).all()
        occurred = conn.execute(text("SELECT pinned_as_of - interval '1 hour' FROM election "
                                     "WHERE active")).scalar_one()
    return {"scope": scope, "inside": inside, "outside": outside, "occurred": occurred}


def login(app, username):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client, token


def counts(demo_engine) -> tuple:
    with demo_engine.connect() as conn:
        return conn.execute(text("SELECT (SELECT count(*) FROM tps_readiness_history), "
                                 "(SELECT count(*) FROM incident), "
                                 "(SELECT count(*) FROM import_batch)")).one()


def readiness(client, token, tps_kode):
    return client.post(f"/api/tps/{tps_kode}/readiness", headers={"X-CSRFToken": token},
                       json={"client_uuid": str(uuid.uuid4()), "items": {"tinta": True}})


def test_scoped_desk_staff_cannot_record_readiness_for_a_tps_in_another_kelurahan(
        app, demo_engine, places):
    client, token = login(app, "petugas")
    before = counts(demo_engine)
    refused = readiness(client, token, places["outside"][0].kode)
    assert refused.status_code == 403
    message = refused.get_json()["error"]
    assert places["scope"].nama in message and places["outside"][0].nama in message
    assert counts(demo_engine) == before
    assert readiness(client, token, places["inside"][0].kode).status_code == 201


def test_a_readiness_batch_with_one_tps_outside_the_scope_stores_nothing(
        app, demo_engine, places):
    client, token = login(app, "petugas")
    before = counts(demo_engine)

    def item(kode):
        return {"client_uuid": str(uuid.uuid4()), "tps_kode": kode, "items": {"tinta": True}}
    inside = [item(p.kode) for p in places["inside"]]
    refused = client.post("/api/readiness", headers={"X-CSRFToken": token},
                          json={"updates": inside + [item(places["outside"][0].kode)]})
    assert refused.status_code == 403 and refused.get_json()["field"] == "updates[2].tps_kode"
    assert places["outside"][0].nama in refused.get_json()["error"]
    assert counts(demo_engine) == before          # the inside ones were rolled back too
    ok = client.post("/api/readiness", headers={"X-CSRFToken": token}, json={"updates": inside})
    assert ok.status_code == 201 and ok.get_json()["created"] == len(inside)


def _incident(point, occurred) -> dict:
    return {"id": str(uuid.uuid4()), "category": "intimidasi", "severity": "sedang",
            "lon": point.lon + 0.0002, "lat": point.lat, "occurred_at": occurred.isoformat(),
            "confirm_warnings": True}


def test_scoped_desk_staff_cannot_report_an_incident_in_another_kelurahan(
        app, demo_engine, places):
    client, token = login(app, "petugas")
    before = counts(demo_engine)
    refused = client.post("/api/incidents", headers={"X-CSRFToken": token},
                          json=_incident(places["outside"][0], places["occurred"]))
    assert refused.status_code == 403 and places["scope"].nama in refused.get_json()["error"]
    assert counts(demo_engine) == before
    ok = client.post("/api/incidents", headers={"X-CSRFToken": token},
                     json=_incident(places["inside"][0], places["occurred"]))
    assert ok.status_code == 201, ok.get_json()


def test_the_readiness_form_shows_only_for_tps_in_the_scope(app, places):
    client, _ = login(app, "petugas")
    inside = client.get(f"/kesiapan/{places['inside'][0].kode}").get_data(as_text=True)
    outside = client.get(f"/kesiapan/{places['outside'][0].kode}").get_data(as_text=True)
    assert 'id="readiness-form"' in inside
    assert 'id="readiness-form"' not in outside and 'id="readiness-readonly"' in outside


def test_unscoped_desk_staff_and_the_desk_head_work_city_wide(app, places):
    for username in ("petugas_kota", "supervisor"):
        client, token = login(app, username)
        assert readiness(client, token, places["outside"][1].kode).status_code == 201


def _upload(client, token, kind, name, body: bytes):
    return client.post("/unggah", headers={"Accept": "application/json"}, data={
        "csrf_token": token, "kind": kind, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data")


def test_a_bulk_readiness_file_is_rejected_by_the_rows_outside_the_scope(
        app, demo_engine, places):
    client, token = login(app, "petugas")
    header = ";".join(("kode_tps",) + ITEMS)
    rows = [places["inside"][0].kode, places["outside"][0].kode, places["inside"][1].kode]
    body = "\n".join([header] + [f"{kode};{';'.join(['ya'] * 12)}" for kode in rows])
    before = counts(demo_engine)
    refused = _upload(client, token, "readiness", "kesiapan.csv", body.encode())
    assert refused.status_code == 422
    problems = refused.get_json()["problems"]
    assert [p["row"] for p in problems if p["severity"] == "error"] == [2]
    assert places["scope"].nama in problems[0]["reason"]
    assert counts(demo_engine) == before
    ok = _upload(client, token, "readiness", "kesiapan.csv",
                 "\n".join([header, f"{rows[0]};{';'.join(['ya'] * 12)}"]).encode())
    assert ok.status_code == 200, ok.get_json()


def test_a_bulk_incident_file_is_rejected_by_the_rows_outside_the_scope(
        app, demo_engine, places):
    client, token = login(app, "petugas")
    when = places["occurred"].isoformat()
    lines = ["kategori,tingkat,waktu,lat,lon,konfirmasi"] + [
        f"intimidasi,sedang,{when},{p.lat},{p.lon + 0.0002},ya"
        for p in (places["inside"][0], places["outside"][1])]
    before = counts(demo_engine)
    refused = _upload(client, token, "incidents", "kejadian.csv", "\n".join(lines).encode())
    assert refused.status_code == 422
    errors = [p for p in refused.get_json()["problems"] if p["severity"] == "error"]
    assert [p["row"] for p in errors] == [2] and places["outside"][1].nama in errors[0]["reason"]
    assert counts(demo_engine) == before
