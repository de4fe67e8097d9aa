"""The election an analysis is about: which one, at what time, under which pattern set."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gisdesk.analysis.rules import PatternSet, Rules
from gisdesk.errors import NotFound


@dataclass(frozen=True)
class AnalysisResult:
    """What a refresh did: the election, the time and pattern set of its results, and how
    many TPS and suggestions it recomputed (all of them for a whole refresh)."""

    election_id: int
    as_of: dt.datetime
    pattern_set: str
    n_tps: int
    n_suggestions: int


def active_election(conn: Connection) -> dict:
    row = conn.execute(text("SELECT * FROM election WHERE active")).mappings().first()
    if row is None:
        raise NotFound("Belum ada pemilu aktif. Jalankan `gisdesk demo` atau impor data TPS.")
    return dict(row)


def election_row(conn: Connection, election_id: int) -> dict:
    row = conn.execute(text("SELECT * FROM election WHERE id = :e"),
                       {"e": election_id}).mappings().first()
    if row is None:
        raise NotFound(f"Pemilu {election_id} tidak ada.")
    return dict(row)


def as_of_for(election: dict, as_of: dt.datetime | None = None) -> dt.datetime:
    """The given time, else the election's pinned time (demo, tests), else now."""
    if as_of is not None:
        return as_of
    return election.get("pinned_as_of") or dt.datetime.now(dt.timezone.utc)


def pattern_sets(conn: Connection, election_id: int,
                 rules: Rules) -> list[tuple[int | None, PatternSet]]:
    """Versioned patterns from the database (election's own first, then global ones); the
    rules file's sets when the database has none."""
    rows = conn.execute(text("""
        SELECT s.id, s.nama, s.effective_from, p.kelas, p.polri, p.per_tps, p.linmas
        FROM security_pattern_set s JOIN security_pattern p ON p.set_id = s.id
        WHERE s.election_id = :e OR s.election_id IS NULL
        ORDER BY s.election_id NULLS LAST, s.effective_from"""), {"e": election_id}).all()
    sets: dict[int, tuple[str, dt.datetime, dict]] = {}
    for r in rows:
        sets.setdefault(r.id, (r.nama, r.effective_from, {}))[2][r.kelas] = (r.polri, r.per_tps, r.linmas)
    found = [(sid, PatternSet.build(n, eff, pats)) for sid, (n, eff, pats) in sets.items()]
    return found or [(None, ps) for ps in getattr(rules, "pattern_sets", ())]
