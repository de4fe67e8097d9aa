"""Stored analysis results for callers: the whole-election recompute.

The map, tables, API, exports and `gisdesk suggest` all read tps_risk / kelurahan_gap /
kecamatan_gap / kabkota_gap / suggestion, so they always show the same numbers. They are
written only by ``refresh.refresh`` (``recompute`` here is its whole-election form), called by
the analysis worker and by commands after writes queued by gisdesk.analysis.changes; readers
never do.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Connection

from gisdesk.analysis.election import (AnalysisResult, active_election, as_of_for,
                                       election_row, pattern_sets)
from gisdesk.analysis.refresh import refresh
from gisdesk.analysis.rules import Rules

__all__ = ["AnalysisResult", "active_election", "as_of_for", "election_row", "pattern_sets",
           "recompute"]

LOGGER = logging.getLogger(__name__)


def recompute(conn: Connection, election_id: int | None = None, *,
              as_of: dt.datetime | None = None, rules: Rules | None = None) -> AnalysisResult:
    """Recompute the whole election (the active one by default) at ``as_of`` (default: its
    pinned time, else now), in the caller's transaction (readers see the old results until
    it commits)."""
    election = active_election(conn) if election_id is None else election_row(conn, election_id)
    return refresh(conn, election["id"], as_of=as_of_for(election, as_of), rules=rules)
