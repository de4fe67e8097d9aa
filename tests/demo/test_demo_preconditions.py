"""What load_demo needs and what it leaves alone (inside transactions rolled back per test)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from gisdesk.demo.load import load_demo
from gisdesk.errors import NotFound


def test_without_boundaries_the_demo_says_to_import_them_first(conn):
    with pytest.raises(NotFound, match="import boundaries"):
        load_demo(conn)
    assert conn.execute(text("SELECT count(*) FROM election")).scalar_one() == 0


def test_demo_does_not_take_the_active_flag_from_a_real_election(conn, insert_mataram):
    insert_mataram(conn)
    conn.execute(text(
        "INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, active) "
        "VALUES ('pilkada-2024-mataram', 'Pilkada 2024', 'pilkada', '2024-11-27', 600, true)"))
    counts = load_demo(conn, demo_password="rahasia-demo-1")
    active = conn.execute(text("SELECT kode FROM election WHERE active")).scalars().all()
    assert active == ["pilkada-2024-mataram"]
    assert counts["tps"] == 1248


def test_load_runs_in_the_callers_transaction(engine, insert_mataram):
    with engine.connect() as conn:
        trans = conn.begin()
        insert_mataram(conn)
        load_demo(conn, as_of=dt.datetime(2024, 2, 13, 20, 0, tzinfo=dt.timezone.utc))
        assert conn.execute(text("SELECT count(*) FROM incident")).scalar_one() >= 30
        trans.rollback()
        assert conn.execute(text("SELECT count(*) FROM tps")).scalar_one() == 0
