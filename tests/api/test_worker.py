"""The analysis worker (gisdesk.worker) against a real database: writes reach the API
through LISTEN/NOTIFY and the queue; the clock moves ``as_of``; loops are independent; one
worker process per database; `gisdesk serve` starts exactly one beside gunicorn.

Waits are bounded polls (the speed itself is measured by the analysis_freshness benchmark).
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import text

from gisdesk.config import load_settings
from gisdesk.worker import Worker
from gisdesk.worker.registry import LOOPS


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def worker(engine, demo, tmp_path):
    settings = load_settings({"database_url": demo["url"], "home": tmp_path,
                              "worker_debounce_ms": 50, "worker_clock_seconds": 0.3})
    started = Worker(settings)
    started.start()
    assert started.wait_ready()
    yield started
    started.close()
    assert not any(t.is_alive() for t in started.threads)


def _kelurahan(as_role, kode: str) -> tuple[int | None, dict]:
    page = as_role("viewer").get(f"/api/collections/kelurahan/items?kelurahan_kode={kode}")
    body = page.get_json()
    assert page.headers["ETag"].startswith(f'"v{body["analysis"]["version"]}-')
    return body["analysis"]["version"], body["features"][0]["properties"]


def test_a_committed_readiness_change_reaches_the_api_through_the_worker(
        as_role, engine, worker):
    with engine.connect() as conn:
        tps, kel = conn.execute(text(
            "SELECT t.kode, t.kelurahan_kode FROM tps t LEFT JOIN tps_readiness r "
            "ON r.tps_id = t.id JOIN users u ON u.kelurahan_kode = t.kelurahan_kode "
            "AND u.username = 'petugas' "     # where the demo desk staff may record
            "WHERE r.state IS NULL OR r.state = 'siap' ORDER BY t.kode LIMIT 1")).one()
    version, before = _kelurahan(as_role, kel)
    staff = as_role("supervisor")          # city-wide (desk staff have a kelurahan scope)
    checklist = staff.get(f"/api/tps/{tps}/readiness").get_json()["checklist"]
    assert staff.client.post(f"/api/tps/{tps}/readiness", headers=staff.headers, json={
        "client_uuid": str(uuid.uuid4()),
        "items": {i["key"]: False for i in checklist}}).status_code == 201
    newer = _until(lambda: (lambda v, p: (v, p) if v > version else None)(
        *_kelurahan(as_role, kel)))
    assert newer[1]["not_ready"] == before["not_ready"] + 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM analysis_queue")).scalar() == 0


def test_the_clock_moves_as_of_of_an_election_that_follows_time_and_not_a_pinned_one(
        as_role, engine, worker):
    def run():
        with engine.connect() as conn:
            return conn.execute(text("SELECT as_of, version FROM analysis_run")).one()
    pinned = run()
    time.sleep(1.0)                                     # three clock ticks
    assert run() == pinned                              # the demo's time is pinned
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE election SET pinned_as_of = NULL"))
        moved = _until(lambda: run().as_of > pinned.as_of and run())
        later = _until(lambda: run().as_of > moved.as_of and run())
        assert later.version > moved.version > pinned.version
        assert later.as_of > dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30)
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE election SET pinned_as_of = :a"), {"a": pinned.as_of})
            conn.execute(text("DELETE FROM analysis_queue"))
            conn.execute(text("UPDATE analysis_run SET as_of = :a"), {"a": pinned.as_of})


def test_a_stuck_loop_does_not_stall_the_others(engine, demo, tmp_path):
    """A loop busy for a long time (as a national full recompute is) leaves the analysis
    loop answering: every loop has its own thread and its own connections."""
    release = threading.Event()

    def busy(ctx):
        ctx.ready.set()
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            release.wait(60)

    settings = load_settings({"database_url": demo["url"], "home": tmp_path,
                              "worker_debounce_ms": 0})
    started = Worker(settings, {**LOOPS, "busy": busy})
    started.start()
    try:
        assert started.wait_ready()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO analysis_queue (election_id, reason) "
                              "SELECT id, 'uji' FROM election"))
            conn.execute(text("SELECT pg_notify('gisdesk_analysis', id::text) FROM election"))
        _until(lambda: _queue_empty(engine))
    finally:
        release.set()
        started.close()


def _queue_empty(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) = 0 FROM analysis_queue")).scalar()


def test_gisdesk_worker_runs_alone_and_a_second_one_stands_by(demo, tmp_path):
    env = {**os.environ, "GISDESK_DATABASE_URL": demo["url"], "GISDESK_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "gisdesk.cli", "worker"]
    first = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        assert "loops analysis, clock, audit running" in _line(first, "running")
        second = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        assert "standing by" in _line(second, "standing by")
        first.terminate()
        assert first.wait(30) == 0
        assert "running" in _line(second, "running")    # takes over when the first is gone
    finally:
        for proc in (first, second):
            if proc is not None:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(30)
                proc.stderr.close()


def _line(proc, word: str) -> str:
    """The first line of the process' stderr that has ``word`` (bounded by the test)."""
    found = []

    def read():
        for line in proc.stderr:
            if word in line:
                found.append(line)
                return
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)
    assert found, f"no '{word}' from the worker"
    return found[0]
