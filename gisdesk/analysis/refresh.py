"""The one door through which stored analysis results are brought up to date.

``refresh`` is what the analysis worker (and commands run without a worker) call after
writes: it recomputes the results touched by a change, or the whole election, in the
caller's transaction, and stores them as a new results version. Readers never call it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import Connection

from gisdesk.analysis import Rules
from gisdesk.analysis.store import AnalysisResult, recompute


def refresh(conn: Connection, election_id: int, *, as_of: dt.datetime,
            kelurahan: Collection[str] | None = None,
            rules: Rules | None = None) -> AnalysisResult:
    """Bring the stored results of ``election_id`` up to ``as_of``.

    ``kelurahan``: the kelurahan codes a change touched (None: the whole election). Every
    result that depends on them (their TPS, their gap rows, the aggregates that contain them
    and the suggestion plan of their kab/kota) is recomputed; the rest is kept. The run row
    gets ``as_of`` and a new version."""
    # First cut: a whole recompute is always correct; the scoped path replaces it.
    return recompute(conn, election_id, as_of=as_of, rules=rules)
