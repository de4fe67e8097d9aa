"""Stored analysis results for callers: bring them up to date, or mark them stale.

The map, tables, API, exports and `gisdesk suggest` all read tps_risk / kelurahan_gap /
kecamatan_gap / kabkota_gap / suggestion, so they always show the same numbers. They are
written only by ``refresh.refresh`` (``recompute`` here is its whole-election form).
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Connection, text

from gisdesk.analysis.election import (AnalysisResult, active_election, as_of_for,
                                       election_row, pattern_sets)
from gisdesk.analysis.refresh import refresh
from gisdesk.analysis.rules import Rules

__all__ = ["AnalysisResult", "active_election", "as_of_for", "election_row", "pattern_sets",
           "recompute", "mark_stale", "ensure_fresh", "MAX_AGE"]

LOGGER = logging.getLogger(__name__)
MAX_AGE = dt.timedelta(minutes=5)


def recompute(conn: Connection, election_id: int | None = None, *,
              as_of: dt.datetime | None = None, rules: Rules | None = None) -> AnalysisResult:
    """Recompute the whole election (the active one by default) at ``as_of`` (default: its
    pinned time, else now), in the caller's transaction (readers see the old results until
    it commits)."""
    election = active_election(conn) if election_id is None else election_row(conn, election_id)
    return refresh(conn, election["id"], as_of=as_of_for(election, as_of), rules=rules)


def mark_stale(conn: Connection, election_id: int) -> None:
    """An input changed: the next reader recomputes."""
    conn.execute(text("DELETE FROM analysis_run WHERE election_id = :e"), {"e": election_id})


def ensure_fresh(engine, election_id: int | None = None, *, max_age: dt.timedelta = MAX_AGE,
                 rules: Rules | None = None) -> int:
    """Recompute when stale or older than ``max_age``; returns the election id."""
    with engine.connect() as conn:
        election = (active_election(conn) if election_id is None
                    else election_row(conn, election_id))
        row = conn.execute(text("SELECT computed_at, clock_timestamp() - computed_at AS age "
                                "FROM analysis_run WHERE election_id = :e"),
                           {"e": election["id"]}).first()
    pinned = election.get("pinned_as_of") is not None
    if row is None or (not pinned and row.age > max_age):
        with engine.begin() as conn:
            recompute(conn, election["id"], rules=rules)
    return election["id"]
