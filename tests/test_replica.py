"""Reads from a real PostgreSQL streaming replica (GISDESK_READ_DATABASE_URL).

The test makes a hot standby of the embedded cluster (``pg_basebackup -R -X stream``, started
on its own Unix socket) after cloning the analysed Mataram demo, so the replica holds the
same database. Then: map/API/export reads go to the replica and never write there; a report
written on the primary reaches other users' maps once replayed; the reporter sees their own
report at once (read from the primary) even while replay is paused; a lagging or unreachable
replica makes reads fall back to the primary. The standby is stopped and deleted at the end,
whatever happened.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid

import pytest
from sqlalchemy import event, text

from gisdesk.config import load_settings
from gisdesk.db import cluster as embedded
from gisdesk.db import replica as rep
from gisdesk.db import testing as dbtesting
from gisdesk.db.engine import get_engine
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app

DB_NAME = f"gt_{os.getpid()}_replica"
WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|TRUNCATE|COPY|GRANT)\b",
                       re.I)


@pytest.fixture(scope="module")
def primary_cluster(server_url) -> embedded.Cluster:
    cluster = embedded.locate(load_settings().home)
    if server_url != cluster.url(embedded.DB_NAME) or not embedded.is_running(cluster):
        # GISDESK_DATABASE_URL names another server: a base backup needs the embedded one
        embedded.ensure(load_settings().home)
    return cluster


@pytest.fixture(scope="module")
def dbs(request, server_url, primary_cluster):
    """(primary URL, replica URL) of one demo database, the replica a running hot standby."""
    cluster_url = primary_cluster.url(embedded.DB_NAME)
    if server_url == cluster_url:
        template = request.getfixturevalue("demo_template")
        primary_url = dbtesting.clone(server_url, template, DB_NAME)
    else:  # build the demo in the embedded cluster itself
        primary_url = _build_demo(cluster_url)
    standby = None
    try:
        standby = rep.make_standby(primary_cluster)   # after the database exists
        yield primary_url, standby.url(DB_NAME)
    finally:
        for url in (primary_url, standby and standby.url(DB_NAME)):
            if url:
                get_engine(url).dispose()
        if standby is not None:
            standby.destroy()
        dbtesting.drop_database(cluster_url, DB_NAME)


def _build_demo(cluster_url: str) -> str:
    from pathlib import Path

    from gisdesk.analysis.store import recompute
    from gisdesk.demo.generate import DEFAULT_AS_OF
    from gisdesk.demo.load import load_demo
    from gisdesk.ingest.write_boundaries import import_boundaries

    url = dbtesting.create_template(cluster_url, DB_NAME)
    eng = get_engine(url)
    root = Path(__file__).resolve().parent.parent
    import_boundaries(eng, root / "data" / "boundaries" / "mataram_kelurahan.geojson",
                      actor="test")
    with eng.begin() as conn:
        load_demo(conn, seed=2024)
        conn.execute(text("UPDATE election SET pinned_as_of = :a WHERE is_demo"),
                     {"a": DEFAULT_AS_OF})
        recompute(conn)
    return url


@pytest.fixture(scope="module")
def primary(dbs):
    return get_engine(dbs[0])


@pytest.fixture(scope="module")
def replica(dbs):
    return get_engine(dbs[1])


@pytest.fixture(scope="module")
def replica_statements(replica):
    """Every SQL statement any code sends to the replica while this module runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(replica, "before_cursor_execute", record)
    yield seen
    event.remove(replica, "before_cursor_execute", record)


@pytest.fixture(scope="module")
def app(dbs, replica_statements, tmp_path_factory):
    return create_app({"database_url": dbs[0], "read_database_url": dbs[1], "testing": True,
                       "home": tmp_path_factory.mktemp("home"),
                       "READ_MAX_LAG_SECONDS": 300, "READ_STICKY_SECONDS": 60})


@pytest.fixture
def paused(replica):
    """Replay paused on the replica for the test (always resumed afterwards)."""
    with replica.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        conn.commit()
    try:
        yield
    finally:
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
            conn.commit()


def _resume(replica) -> None:
    with replica.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_resume()"))
        conn.commit()


def login(app, username: str):
    """A test client logged in through the form; returns (client, csrf token)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client, token


def incident_ids(resp) -> set[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return {f["properties"]["incident_id"] for f in resp.get_json()["features"]}


def report_body(primary) -> dict:
    """A new report at a TPS of the demo, an hour before the pinned analysis time."""
    with primary.connect() as conn:
        lon, lat, as_of = conn.execute(text(
            "SELECT ST_X(t.geom), ST_Y(t.geom), e.pinned_as_of FROM tps t "
            "JOIN election e ON e.id = t.election_id AND e.active "
            "WHERE t.kelurahan_kode = (SELECT kelurahan_kode FROM users "
            "                          WHERE username = 'petugas') "
            "   OR NOT EXISTS (SELECT 1 FROM users WHERE username = 'petugas' "
            "                  AND kelurahan_kode IS NOT NULL) "
            "ORDER BY t.kode LIMIT 1")).one()
    when = (as_of or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(hours=1)
    return {"id": str(uuid.uuid4()), "category": "intimidasi", "severity": "sedang",
            "description": "Uji replika: intimidasi di depan TPS",
            "occurred_at": when.isoformat(), "lon": lon + 0.0001, "lat": lat}


def submit_direct(primary, body) -> None:
    """Write a report straight into the primary (not through the app)."""
    from gisdesk.entry.incidents import submit
    from gisdesk.entry.taxonomy import load_taxonomy

    with primary.begin() as conn:
        created, _ = submit(conn, body, tax=load_taxonomy(None), reporter_id=None,
                            actor="uji-langsung")
    assert created


MAP_INCIDENTS = "/map/layers/incidents.geojson"
API_INCIDENTS = "/api/collections/incidents/items?limit=10000"


# --- tests ------------------------------------------------------------------------------------

def test_the_replica_is_a_hot_standby_with_the_same_data(primary, replica):
    with replica.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        n_replica = conn.execute(text("SELECT count(*) FROM tps")).scalar()
    with primary.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False
        assert conn.execute(text("SELECT count(*) FROM tps")).scalar() == n_replica > 1000
    assert rep.status(replica)["in_recovery"] is True
    assert rep.status(primary) == {"in_recovery": False, "lag_seconds": 0.0, "paused": False}


def test_read_engine_is_the_replica_and_writers_keep_the_primary(app):
    from gisdesk.web.dbs import read_engine

    assert app.extensions["gisdesk.read_engine"] is not app.extensions["gisdesk.engine"]
    with app.test_request_context("/map"):
        with read_engine().connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        with app.extensions["gisdesk.engine"].connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False


def test_map_api_and_exports_read_from_the_replica(app, primary):
    viewer, _ = login(app, "koordinator")
    for url in ("/map", "/map/gaps.json", "/map/summary.json", "/map/search?q=Ampenan",
                "/map/layers/kecamatan.geojson", MAP_INCIDENTS, "/api/collections",
                "/api/collections/tps", "/api/collections/tps/items?limit=5"):
        resp = viewer.get(url)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
        assert resp.headers.get("X-Gisdesk-Read") == "replica", url
        resp.close()
    if any(rule.rule.startswith("/tiles/") for rule in app.url_map.iter_rules()):
        resp = viewer.get("/tiles/kecamatan/10/842/536.pbf")   # vector tiles, when served
        assert resp.status_code == 200 and resp.headers["X-Gisdesk-Read"] == "replica"
    planner, _ = login(app, "perencana")
    for fmt in ("geojson", "csv", "gpkg"):
        resp = planner.get(f"/export/kelurahan.{fmt}")
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        assert resp.headers["X-Gisdesk-Read"] == "replica"
        assert len(resp.get_data()) > 1000
        resp.close()
    # the exports' audit records went to the primary (a standby cannot take them)
    with primary.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE actor = 'perencana' "
            "AND action LIKE 'export%'")).scalar() >= 3


def test_a_report_written_on_the_primary_reaches_the_map_after_replay(app, primary, replica):
    viewer, _ = login(app, "koordinator")
    body = report_body(primary)
    with replica.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        conn.commit()
    try:
        submit_direct(primary, body)
        assert body["id"] not in incident_ids(viewer.get(MAP_INCIDENTS))   # not replayed yet
    finally:
        _resume(replica)
    rep.wait_for_replay(primary, replica)
    resp = viewer.get(MAP_INCIDENTS)
    assert resp.headers["X-Gisdesk-Read"] == "replica"
    assert body["id"] in incident_ids(resp)


def test_own_report_is_read_from_the_primary_while_others_wait_for_replay(
        app, primary, replica, paused):
    reporter, token = login(app, "petugas")
    viewer, _ = login(app, "koordinator")
    # before writing, the reporter reads from the replica like everyone else
    assert reporter.get(MAP_INCIDENTS).headers["X-Gisdesk-Read"] == "replica"

    body = report_body(primary)
    resp = reporter.post("/api/incidents", json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 201, resp.get_json()

    got = reporter.get(f"/api/incidents/{body['id']}")
    assert got.status_code == 200 and got.get_json()["id"] == body["id"]
    mine = reporter.get(MAP_INCIDENTS)
    assert mine.headers["X-Gisdesk-Read"] == "primary"
    assert body["id"] in incident_ids(mine)
    api = reporter.get(API_INCIDENTS)
    assert api.headers["X-Gisdesk-Read"] == "primary"
    assert body["id"] in incident_ids(api)

    theirs = viewer.get(MAP_INCIDENTS)
    assert theirs.headers["X-Gisdesk-Read"] == "replica"
    assert body["id"] not in incident_ids(theirs)
    assert body["id"] not in incident_ids(viewer.get(API_INCIDENTS))

    _resume(replica)
    rep.wait_for_replay(primary, replica)
    assert body["id"] in incident_ids(viewer.get(MAP_INCIDENTS))
    assert body["id"] in incident_ids(viewer.get(API_INCIDENTS))
    with primary.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident WHERE id = :i"),
                            {"i": body["id"]}).scalar() == 1


def test_the_read_your_writes_window_ends(app, primary):
    reporter, token = login(app, "petugas")
    body = report_body(primary)
    assert reporter.post("/api/incidents", json=body,
                         headers={"X-CSRFToken": token}).status_code == 201
    assert reporter.get(MAP_INCIDENTS).headers["X-Gisdesk-Read"] == "primary"
    with reporter.session_transaction() as session:   # as if the write were a minute old
        session["last_write_at"] -= app.config["READ_STICKY_SECONDS"] + 1
    assert reporter.get(MAP_INCIDENTS).headers["X-Gisdesk-Read"] == "replica"


def test_a_lagging_replica_is_bypassed_until_it_catches_up(dbs, primary, replica, tmp_path):
    lagging = create_app({"database_url": dbs[0], "read_database_url": dbs[1],
                          "testing": True, "home": tmp_path, "READ_MAX_LAG_SECONDS": 1,
                          "READ_CHECK_SECONDS": 0})
    viewer, _ = login(lagging, "koordinator")
    assert viewer.get(MAP_INCIDENTS).headers["X-Gisdesk-Read"] == "replica"
    body = report_body(primary)
    with replica.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        conn.commit()
    try:
        submit_direct(primary, body)
        time.sleep(1.5)   # the last replayed commit is now older than the bound
        resp = viewer.get(MAP_INCIDENTS)
        assert resp.headers["X-Gisdesk-Read"] == "primary"
        assert body["id"] in incident_ids(resp)
        assert rep.status(replica)["paused"] is True
    finally:
        _resume(replica)
    rep.wait_for_replay(primary, replica)
    # caught up: back on the replica (at once on a quiet cluster; the cluster is shared with
    # other tests, whose WAL may briefly make the replica look behind)
    deadline = time.monotonic() + 20
    while viewer.get(MAP_INCIDENTS).headers["X-Gisdesk-Read"] != "replica":
        assert time.monotonic() < deadline, rep.status(replica)
        time.sleep(0.2)


def test_an_unreachable_replica_falls_back_to_the_primary(dbs, tmp_path):
    missing = f"postgresql+psycopg://postgres@/{DB_NAME}?host={tmp_path}&port=5999"
    app = create_app({"database_url": dbs[0], "read_database_url": missing,
                      "testing": True, "home": tmp_path})
    viewer, _ = login(app, "koordinator")
    resp = viewer.get(MAP_INCIDENTS)
    assert resp.status_code == 200 and resp.headers["X-Gisdesk-Read"] == "primary"
    get_engine(missing).dispose()


def test_nothing_was_ever_written_to_the_replica(replica_statements):
    assert any(s.lstrip().upper().startswith(("SELECT", "WITH")) for s in replica_statements)
    writes = [s for s in replica_statements if WRITE_SQL.match(s)]
    assert not writes, writes[:3]
