"""Bring one election's stored results up to date: its queued changes and the clock.

The analysis worker calls ``catch_up`` when a write NOTIFYs and on its clock; commands
(`gisdesk export`, `suggest`, `map`) call it too, so they are right when no worker runs.
One call, one transaction: take the queue rows (``FOR UPDATE SKIP LOCKED``), work out the
kelurahan they touched, add the kelurahan whose inputs crossed a time edge between the
stored ``as_of`` and the new one, ``refresh`` them, delete the rows. A rollback leaves
the queue as it was.

Time is an input: between two ``as_of`` an incident enters or leaves the escalation window,
a rating (dated) or a pattern set takes effect. Those are the edges; an incident's edge
touches the TPS within the escalation radius of it, a rating's its kelurahan, a pattern
set everything.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from gisdesk.analysis.refresh import refresh
from gisdesk.analysis.rules import DEFAULT_RULES_FILE, Rules

LOCK = "SELECT pg_advisory_xact_lock(hashtext('gisdesk.analysis'), :e)"

# kelurahan of the TPS within :radius metres of any of the points (a box first, for the
# index: metres per degree >= 110,574 along a meridian, >= 111,319 cos(lat) along a parallel)
_NEAR = """
    SELECT DISTINCT t.kelurahan_kode
    FROM ({points}) p
    CROSS JOIN LATERAL (SELECT :radius / 110000.0 AS dy,
                               :radius / (110000.0 * cos(radians(least(abs(ST_Y(p.g))
                                   + :radius / 110000.0 + 0.01, 89.9)))) AS dx) b
    JOIN tps t ON t.election_id = :e AND t.geom && ST_Expand(p.g, b.dx, b.dy)
              AND ST_DWithin(p.g::geography, t.geom::geography, :radius + 0.001)"""


@dataclass(frozen=True)
class CaughtUp:
    """What one catch-up did: the results' new version and as_of, and its scope."""
    election_id: int
    version: int
    as_of: dt.datetime
    kelurahan: frozenset[str] | None    # None: the whole election
    queue_rows: int


def rules_sha256(rules_file: str | Path | None) -> str:
    """The rules file the results are computed with, by content (a changed file: full)."""
    return hashlib.sha256(Path(rules_file or DEFAULT_RULES_FILE).read_bytes()).hexdigest()


def catch_up(conn: Connection, election_id: int, *, rules: Rules, rules_hash: str,
             now: dt.datetime | None = None) -> CaughtUp | None:
    """Refresh what the queue and the clock say changed, in the caller's transaction.
    None when nothing did (no queue rows, same as_of, same rules)."""
    conn.execute(text(LOCK), {"e": election_id})   # one catch-up per election at a time
    # short queries on a few rows; the planner's guesses for ST_Dump and the radius joins
    # crossed jit_above_cost, and compiling cost 0.3 s per catch-up at national scale
    conn.execute(text("SELECT set_config('jit', 'off', true)"))
    pinned = conn.execute(text("SELECT pinned_as_of FROM election WHERE id = :e"),
                          {"e": election_id}).scalar()
    new = pinned or now or dt.datetime.now(dt.timezone.utc)
    run = conn.execute(text("SELECT as_of FROM analysis_run WHERE election_id = :e"),
                       {"e": election_id}).first()
    known = conn.execute(text("SELECT rules_sha256 FROM analysis_inputs WHERE election_id = :e"),
                         {"e": election_id}).scalar()
    rows = conn.execute(text("""
        SELECT id, kelurahan_kode, points IS NOT NULL AS has_points FROM analysis_queue
        WHERE election_id = :e ORDER BY id FOR UPDATE SKIP LOCKED"""),
        {"e": election_id}).all()
    if not rows and run is not None and run.as_of == new and known == rules_hash:
        return None
    ids = [r.id for r in rows]
    whole = (run is None or known != rules_hash
             or any(r.kelurahan_kode is None and not r.has_points for r in rows))
    scope: set[str] | None = None
    if not whole:
        scope = {k for r in rows for k in (r.kelurahan_kode or ())}
        scope |= _near_queued(conn, election_id, [r.id for r in rows if r.has_points], rules)
        edges = time_edges(conn, election_id, rules, run.as_of, new)
        scope = None if edges is None else scope | edges
    refresh(conn, election_id, as_of=new, kelurahan=scope, rules=rules)
    if ids:
        conn.execute(text("DELETE FROM analysis_queue WHERE id = ANY(:ids)"), {"ids": ids})
    conn.execute(text("""
        INSERT INTO analysis_inputs (election_id, rules_sha256) VALUES (:e, :h)
        ON CONFLICT (election_id) DO UPDATE SET rules_sha256 = EXCLUDED.rules_sha256,
          updated_at = now() WHERE analysis_inputs.rules_sha256 <> EXCLUDED.rules_sha256"""),
        {"e": election_id, "h": rules_hash})
    version = conn.execute(text("SELECT version FROM analysis_run WHERE election_id = :e"),
                           {"e": election_id}).scalar_one()
    return CaughtUp(election_id, int(version), new,
                    None if scope is None else frozenset(scope), len(ids))


def _near_queued(conn: Connection, election_id: int, ids: list[int], rules: Rules) -> set[str]:
    if not ids:
        return set()
    points = ("SELECT (ST_Dump(points)).geom AS g FROM analysis_queue "
              "WHERE id = ANY(:ids)")
    return set(conn.execute(text(_NEAR.format(points=points)),
                            {"ids": ids, "e": election_id,
                             "radius": rules.escalation.radius_m}).scalars())


def time_edges(conn: Connection, election_id: int, rules: Rules, old: dt.datetime,
               new: dt.datetime) -> set[str] | None:
    """Kelurahan whose results may differ between ``old`` and ``new`` only because time
    passed; None when a pattern set takes effect in between (everything changes).
    Wider than needed is allowed (it costs time, not correctness); narrower is not."""
    lo, hi = min(old, new), max(old, new)
    if lo == hi:
        return set()
    if conn.execute(text("""
            SELECT 1 FROM security_pattern_set
            WHERE (election_id = :e OR election_id IS NULL)
              AND effective_from > :lo AND effective_from <= :hi LIMIT 1"""),
            {"e": election_id, "lo": lo, "hi": hi}).first():
        return None
    touched = set(conn.execute(text("""
        SELECT DISTINCT COALESCE(r.kelurahan_kode, t.kelurahan_kode)
        FROM rating r LEFT JOIN tps t ON t.id = r.tps_id
        WHERE r.election_id = :e
          AND r.rated_on BETWEEN (CAST(:lo AS timestamptz) AT TIME ZONE :tz)::date
                             AND (CAST(:hi AS timestamptz) AT TIME ZONE :tz)::date"""),
        {"e": election_id, "lo": lo, "hi": hi, "tz": str(rules.timezone)}).scalars())
    esc = rules.escalation
    if esc.enabled:
        window = dt.timedelta(hours=esc.window_hours)
        points = ("SELECT geom AS g FROM incident WHERE election_id = :e "
                  "AND status = ANY(:statuses) "
                  "AND (occurred_at BETWEEN :lo AND :hi OR occurred_at BETWEEN :lo_w AND :hi_w)")
        touched |= set(conn.execute(text(_NEAR.format(points=points)), {
            "e": election_id, "statuses": sorted(esc.statuses), "lo": lo, "hi": hi,
            "lo_w": lo - window, "hi_w": hi - window, "radius": esc.radius_m}).scalars())
    touched.discard(None)
    return touched


def pending(conn: Connection, election_id: int) -> bool:
    """Queued changes, or no results yet: a command should catch up before it reads."""
    return bool(conn.execute(text("""
        SELECT EXISTS (SELECT 1 FROM analysis_queue WHERE election_id = :e)
            OR NOT EXISTS (SELECT 1 FROM analysis_run WHERE election_id = :e)"""),
        {"e": election_id}).scalar())


def drain(engine, election_ids=None, rules_file: str | Path | None = None,
          on_error=None) -> list[CaughtUp]:
    """Catch these elections (None: every election with queued changes or no results) up,
    one transaction each; one failing election does not hold back the others:
    ``on_error(election_id, exc)`` is told and its rows stay queued."""
    from gisdesk.analysis import load_rules
    if election_ids is None:
        with engine.connect() as conn:
            election_ids = queued_elections(conn)
    rules, digest = load_rules(rules_file), rules_sha256(rules_file)
    done = []
    for election_id in sorted(election_ids):
        try:
            with engine.begin() as conn:
                result = catch_up(conn, election_id, rules=rules, rules_hash=digest)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(election_id, exc)
            continue
        if result is not None:
            done.append(result)
    return done


def queued_elections(conn: Connection, rules_hash: str | None = None) -> set[int]:
    """Elections with queued changes, elections with TPS but no results yet, and (given the
    rules file's hash) elections whose results were computed with other rules."""
    return set(conn.execute(text("""
        SELECT election_id FROM analysis_queue
        UNION SELECT DISTINCT t.election_id FROM tps t
        WHERE NOT EXISTS (SELECT 1 FROM analysis_run r WHERE r.election_id = t.election_id)
        UNION SELECT r.election_id FROM analysis_run r
        LEFT JOIN analysis_inputs i ON i.election_id = r.election_id
        WHERE CAST(:h AS text) IS NOT NULL AND i.rules_sha256 IS DISTINCT FROM :h
        """), {"h": rules_hash}).scalars())


def for_command(engine, rules_file: str | Path | None = None) -> int:
    """What a command (`gisdesk export`, `suggest`, `map`) does before it reads: catch the
    active election up itself (a worker may not run), and return its id. NotFound when
    there is no active election."""
    from gisdesk.analysis import load_rules
    from gisdesk.analysis.store import active_election
    with engine.begin() as conn:
        election_id = active_election(conn)["id"]
        catch_up(conn, election_id, rules=load_rules(rules_file),
                 rules_hash=rules_sha256(rules_file))
    return election_id
