"""No request path computes the analysis (issue 11, item 1), checked on the PostgreSQL side.

Every stored result set takes a new version from ``analysis_version_seq``: if any request
recomputed, the sequence would move. The test crawls every GET route of the app (each layer
for layer routes) as an admin, and sends the writes of the desk (readiness, a report, a
review, a move): the sequence stays where it was, the writes are queued for the worker.
With no results stored, the same crawl answers without a 500 and without computing, and
the API and pages say that the results are not there yet.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from gisdesk.maps.data import NO_RESULTS

SAMPLE_Z, SAMPLE_X, SAMPLE_Y = 12, 3370, 2145          # a tile over Mataram


def _sequence(engine) -> tuple:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT last_value, is_called FROM analysis_version_seq")).one(),
                conn.execute(text("SELECT count(*) FROM analysis_run")).scalar())


def _samples(engine) -> dict:
    with engine.connect() as conn:
        tps = conn.execute(text("SELECT kode FROM tps ORDER BY kode LIMIT 1")).scalar_one()
        kel = conn.execute(text("SELECT kode FROM kelurahan ORDER BY kode LIMIT 1")).scalar_one()
        incident = conn.execute(text("SELECT id::text FROM incident ORDER BY id LIMIT 1")).scalar()
        assignment = conn.execute(text("SELECT id FROM personnel_assignment LIMIT 1")).scalar()
    return {"tps_kode": tps, "kode": kel, "kelurahan_kode": kel, "feature_id": kel,
            "incident_id": incident, "ident": incident, "id": incident,
            "assignment_id": assignment, "z": SAMPLE_Z, "x": SAMPLE_X, "y": SAMPLE_Y,
            "fmt": "geojson", "kecamatan_kode": kel[:8], "kind": "incidents"}


def _urls(app, samples: dict, layers: list[str]) -> list[str]:
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or \
                rule.endpoint.endswith(".static"):
            continue
        layer_args = {"collection_id", "layer_id", "layer"} & set(rule.arguments)
        for layer in (layers if layer_args else [None]):
            values = {a: samples.get(a, "x") for a in rule.arguments}
            values.update({a: layer for a in layer_args})
            try:
                urls.append(adapter.build(rule.endpoint, values))
            except Exception:   # a converter that wants another kind of value
                urls.append(adapter.build(rule.endpoint, {a: 1 for a in rule.arguments}))
    return sorted(set(urls))


def _crawl(as_role, urls: list[str]) -> dict[str, int]:
    admin = as_role("admin")
    return {url: admin.get(url).status_code for url in urls}


def test_no_get_route_and_no_desk_write_recomputes_the_analysis(app, as_role, engine, demo):
    layers = sorted(app.extensions["gisdesk.layers"])
    urls = _urls(app, _samples(engine), layers)
    assert any(u.startswith("/api/collections/kelurahan/items") for u in urls)
    assert any(u.startswith("/tiles/") for u in urls) and "/map" in urls
    before = _sequence(engine)
    statuses = _crawl(as_role, urls)
    assert not [u for u, s in statuses.items() if s >= 500], statuses
    assert statuses["/map"] == 200 and statuses["/saran"] == 200
    assert _sequence(engine) == before                  # nothing computed by any reader

    with engine.connect() as conn:
        # a TPS in the kelurahan the demo desk staff (`petugas`) may record for
        tps, kel = conn.execute(text("SELECT t.kode, t.kelurahan_kode FROM tps t JOIN users u "
                                     "ON u.kelurahan_kode = t.kelurahan_kode WHERE u.username "
                                     "= 'petugas' ORDER BY t.kode LIMIT 1")).one()
        lat, lon = conn.execute(text("SELECT ST_Y(geom), ST_X(geom) FROM tps WHERE kode = :k"),
                                {"k": tps}).one()
        donor = conn.execute(text("SELECT * FROM suggestion WHERE from_kind = 'kelurahan' "
                                  "ORDER BY rank LIMIT 1")).mappings().one()
    staff = sup = as_role("supervisor")   # city-wide (desk staff have a kelurahan scope)
    checklist = staff.get(f"/api/tps/{tps}/readiness").get_json()["checklist"]
    assert staff.client.post(f"/api/tps/{tps}/readiness", headers=staff.headers, json={
        "client_uuid": str(uuid.uuid4()),
        "items": {i["key"]: False for i in checklist}}).status_code == 201
    ident = str(uuid.uuid4())
    created = staff.client.post("/api/incidents", headers=staff.headers, json={
        "id": ident, "category": "bentrok_massa", "severity": "berat",
        "occurred_at": "2024-02-14T09:30+08:00", "lat": lat + 0.0005, "lon": lon,
        "confirm_warnings": True})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert sup.client.post(f"/api/incidents/{ident}/verify",
                           headers=sup.headers).status_code == 200
    assert sup.client.post("/api/moves", headers=sup.headers, json={
        "suggestion_id": donor["id"]}).status_code == 201
    assert _sequence(engine) == before                  # writes queue, they do not compute
    with engine.connect() as conn:
        reasons = conn.execute(text("SELECT reason FROM analysis_queue ORDER BY id")).scalars()
        assert list(reasons) == ["readiness.update", "incident.create", "incident.verify",
                                 "personnel.move"]


@pytest.fixture
def no_results(engine, demo):
    with engine.begin() as conn:
        for table in ("suggestion", "kelurahan_gap", "tps_risk", "analysis_run"):
            conn.execute(text(f"DELETE FROM {table}"))
    yield


def test_an_election_without_results_says_so_everywhere_and_nothing_computes_them(
        app, as_role, engine, no_results):
    urls = _urls(app, _samples(engine), sorted(app.extensions["gisdesk.layers"]))
    statuses = _crawl(as_role, urls)
    assert not [u for u, s in statuses.items() if s >= 500], statuses
    assert _sequence(engine)[1] == 0                    # still no results: no reader made any
    viewer = as_role("viewer")
    page = viewer.get("/api/collections/kelurahan/items?limit=5").get_json()
    assert page["analysis"] == {"version": None, "as_of": None, "keadaan": None,
                                "pesan": NO_RESULTS}
    assert "Hasil analisis belum ada" in viewer.get("/map").get_data(as_text=True)
    assert NO_RESULTS in viewer.get("/saran").get_data(as_text=True)
    assert viewer.get("/map/analysis.json").get_json()["version"] is None
