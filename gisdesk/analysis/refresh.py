"""The one door through which stored analysis results are brought up to date.

``refresh`` is what the analysis worker (and commands run without a worker) call after
writes: it recomputes the results touched by a change, or the whole election, in the
caller's transaction, and stores them as a new results version. Readers never call it.
It is the only implementation of the rules that writes results, at every size: set-based
SQL (``sql_risk``, ``sql_gap``) and the per-kab/kota plan (``plan``); the per-TPS Python
rules (``risk``, ``requirement``, ``gap``, ``suggest``) are its readable specification, and
the tests hold the two equal.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Collection

from sqlalchemy import Connection, text

from gisdesk.analysis import plan, sql_gap, sql_risk
from gisdesk.analysis.rules import Rules, load_rules, pattern_in_force
from gisdesk.analysis.election import AnalysisResult, election_row, pattern_sets
from gisdesk.errors import InputRejected

LOGGER = logging.getLogger(__name__)
# the per-TPS sorts and hashes (1-2 rows per TPS and source) fit in memory at national scale
WORK_MEM = "256MB"


def refresh(conn: Connection, election_id: int, *, as_of: dt.datetime,
            kelurahan: Collection[str] | None = None,
            rules: Rules | None = None, timings: dict | None = None) -> AnalysisResult:
    """Bring the stored results of ``election_id`` up to ``as_of``.

    ``kelurahan``: the kelurahan codes a change touched (None: the whole election). Every
    result that depends on them (their TPS, their gap rows, the aggregates that contain them
    and the suggestion plan of their kab/kota) is recomputed; the rest is kept. The run row
    gets ``as_of`` and a new version. Only upserts and deletes of the affected rows: readers
    keep reading the previous version until the caller commits. A rule that fails (a class
    without a pattern) raises and leaves the results as they were. ``timings``, when given,
    receives the seconds spent per stage."""
    if as_of.tzinfo is None:
        raise InputRejected("as_of harus waktu dengan zona waktu", field="as_of")
    election_row(conn, election_id)                       # NotFound for an unknown election
    rules = rules or load_rules()
    clock = _Clock(timings)
    # one refresh at a time per election (the worker is one process; commands may run too)
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.analysis'), :e)"),
                 {"e": election_id})
    sets = pattern_sets(conn, election_id, rules)
    in_force = pattern_in_force([ps for _, ps in sets], as_of)
    set_id = next((sid for sid, ps in sets if ps is in_force), None)
    kels = None if kelurahan is None else sorted(set(kelurahan))
    p = sql_risk.params(rules, election_id, as_of, kels)
    n_tps = n_advice = 0
    if kels != []:
        # a scoped refresh reads a few kelurahan: parallel workers only cost their start
        old = conn.execute(text(
            "SELECT current_setting('work_mem'), current_setting('jit'), "
            "current_setting('max_parallel_workers_per_gather'), "
            "set_config('work_mem', :w, true), set_config('jit', 'off', true), "
            "CASE WHEN :scoped THEN set_config('max_parallel_workers_per_gather', '0', true) "
            "END"), {"w": WORK_MEM, "scoped": kels is not None}).one()
        sql_risk.drop_temp(conn)
        with conn.begin_nested():
            n_tps, n_advice = _compute(conn, rules, in_force, p, clock)
        sql_risk.drop_temp(conn)
        conn.execute(text("SELECT set_config('work_mem', :w, true), set_config('jit', :j, true), "
                          "set_config('max_parallel_workers_per_gather', :g, true)"),
                     {"w": old[0], "j": old[1], "g": old[2]})
    conn.execute(text("""
        INSERT INTO analysis_run (election_id, as_of, pattern_set_id, computed_at)
        VALUES (:e, :a, :s, clock_timestamp())
        ON CONFLICT (election_id) DO UPDATE SET as_of = EXCLUDED.as_of,
          pattern_set_id = EXCLUDED.pattern_set_id, computed_at = EXCLUDED.computed_at,
          version = nextval('analysis_version_seq')"""),
        {"e": election_id, "a": as_of, "s": set_id})
    return AnalysisResult(election_id, as_of, in_force.name, n_tps, n_advice)


def _compute(conn: Connection, rules: Rules, in_force, p: dict, clock) -> tuple[int, int]:
    sql_risk.rule_tables(conn, rules, in_force, p)
    clock("rules")
    sql_risk.incidents(conn, p)
    clock("incidents")
    sql_risk.kelurahan_ratings(conn, p)
    clock("kelurahan_ratings")
    n_tps = sql_risk.tps_risk(conn, p)
    clock("tps_risk")
    sql_risk.check_patterns(conn, rules, in_force)
    sql_gap.kelurahan_gap(conn, rules, p)
    p["polresta_kab"] = sql_gap.polresta_kabkota(conn, p["e"])
    clock("kelurahan_gap")
    sql_gap.aggregates(conn, rules, p)
    clock("aggregates")
    n_advice = plan.replan(conn, rules, in_force, p, clock)
    clock("suggestions")
    return n_tps, n_advice


class _Clock:
    def __init__(self, out: dict | None):
        self.out, self.t = out, time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.out is not None:
            self.out[stage] = self.out.get(stage, 0.0) + now - self.t
        self.t = now
