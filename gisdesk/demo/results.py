"""Demo quick-count results for the Mataram demo (DATA DEMO — not the real 2024 result).

``plan_results`` is pure: from the TPS list and the seed it decides, deterministically, which
agency entered which TPS and with which numbers. ``load_results`` writes the plan in the
caller's transaction (bulk INSERT into result_entry, then the double-entry comparison of
gisdesk.quickcount.flags for every TPS entered by more than one agency) and records ONE
audit entry ``demo.results``.

What the plan looks like (DESIGN.md "Result reports"; DOMAIN.md "Result reports"):
- KPU's operator entered ~55 % of the TPS, Polri ~25 % (mostly TPS KPU also entered, with the
  same numbers), Bawaslu ~10 % (also mostly overlapping KPU);
- 6-10 TPS where one agency typed something else (columns swapped, votes moved between
  pairs, invalid ballots counted as valid votes): open flags for the supervisor;
- turnout 75-85 % of DPT plus a few DPTb/DPK voters, 1-3 % invalid ballots, pair shares
  around 25/58/17 (01/02/03), varying by kecamatan. Every entry satisfies the tally rules
  (checked with gisdesk.quickcount.rules before anything is written).

Idempotent: when the contest already holds any entry, nothing is written.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk import audit
from gisdesk.demo.generate import NAMESPACE
from gisdesk.quickcount import contests, flags, store
from gisdesk.quickcount.rules import QuickCountRules, ResultNumbers, check_arithmetic

LOGGER = logging.getLogger(__name__)
WITA = dt.timezone(dt.timedelta(hours=8))
PART = 8                     # own random stream [seed, 8]; generate.py uses parts 1-7
AGENCIES = ("kpu", "polri", "bawaslu")
COVERAGE = {"kpu": 0.55, "polri": 0.25, "bawaslu": 0.10}   # share of all TPS entered
OVERLAP = {"polri": 0.85, "bawaslu": 0.75}                  # ... of which KPU also entered
DISAGREEMENTS = (6, 10)      # inclusive range of TPS where an agency typed other numbers
TURNOUT = (0.75, 0.85)       # of DPT
INVALID = (0.01, 0.03)       # of ballots used
CONCENTRATION = 150          # Dirichlet concentration: TPS spread around the kecamatan shares
# Pair shares (01, 02, 03) per kecamatan, around 25/58/17 for the city. Demo values only.
KECAMATAN_SHARES = {
    "52.71.01": (0.27, 0.57, 0.16),   # Ampenan
    "52.71.02": (0.24, 0.56, 0.20),   # Mataram
    "52.71.03": (0.20, 0.55, 0.25),   # Cakranegara
    "52.71.04": (0.31, 0.57, 0.12),   # Sekarbela
    "52.71.05": (0.25, 0.58, 0.17),   # Selaparang
    "52.71.06": (0.26, 0.62, 0.12),   # Sandubaya
}
CITY_SHARES = (0.25, 0.58, 0.17)
# When the agencies entered (WITA, voting day): counting starts at 13:00 after the polls close.
ENTRY_WINDOW_MIN = {"kpu": (75, 360), "polri": (45, 300), "bawaslu": (100, 420)}


@dataclass(frozen=True)
class DemoTps:
    id: int
    kode: str
    kecamatan_kode: str
    dpt: int


@dataclass(frozen=True)
class PlannedEntry:
    id: uuid.UUID
    tps: DemoTps
    agency: str
    numbers: ResultNumbers
    entered_at: dt.datetime
    note: str | None = None          # what went wrong, for a deliberately different entry


@dataclass
class ResultsPlan:
    entries: list[PlannedEntry] = field(default_factory=list)
    disagreeing: list[str] = field(default_factory=list)     # TPS kode

    def by_agency(self) -> dict[str, int]:
        return {a: sum(1 for e in self.entries if e.agency == a) for a in AGENCIES}


def _shares(kecamatan_kode: str, nomors: Sequence[int]) -> np.ndarray:
    base = KECAMATAN_SHARES.get(kecamatan_kode, CITY_SHARES)
    if len(nomors) != len(base):          # another contest: no demo pattern, equal shares
        base = (1 / len(nomors),) * len(nomors)
    return np.asarray(base, dtype=float)


def _numbers(tps: DemoTps, nomors: Sequence[int], rng: np.random.Generator) -> ResultNumbers:
    """One TPS's true C.Hasil numbers: consistent by construction."""
    dptb = int(min(rng.poisson(1.5), 6))
    dpk = int(min(rng.poisson(0.8), 4))
    voters = int(round(tps.dpt * rng.uniform(*TURNOUT)))
    ballots = voters + dptb + dpk
    invalid = max(1, int(round(ballots * rng.uniform(*INVALID))))
    valid = ballots - invalid
    p = rng.dirichlet(CONCENTRATION * _shares(tps.kecamatan_kode, nomors))
    votes = rng.multinomial(valid, p)
    return ResultNumbers({n: int(v) for n, v in zip(nomors, votes)}, valid=valid,
                         invalid=invalid, ballots_used=ballots, dpt=tps.dpt, dptb=dptb, dpk=dpk)


def _mistake(n: ResultNumbers, kind: int, nomors: Sequence[int]) -> tuple[ResultNumbers, str]:
    """Numbers as an operator might mistype them, still passing every tally rule."""
    votes = dict(n.votes)
    a, b = nomors[0], nomors[1]
    if kind == 0 and votes[a] != votes[b]:                     # two columns swapped
        votes[a], votes[b] = votes[b], votes[a]
        return ResultNumbers(votes, n.valid, n.invalid, n.ballots_used, n.dpt, n.dptb,
                             n.dpk), f"suara {a:02d} dan {b:02d} tertukar"
    if kind == 1 and votes[b] >= 10:                           # ten votes in the wrong column
        votes[b] -= 10
        votes[a] += 10
        return ResultNumbers(votes, n.valid, n.invalid, n.ballots_used, n.dpt, n.dptb,
                             n.dpk), f"10 suara {b:02d} tercatat untuk {a:02d}"
    moved = min(5, votes[b])                                   # invalid ballots counted valid
    votes[b] -= moved
    return ResultNumbers(votes, n.valid - moved, n.invalid + moved, n.ballots_used, n.dpt,
                         n.dptb, n.dpk), f"{moved} suara sah {b:02d} dicatat tidak sah"


def _pick(rng: np.random.Generator, pool: Sequence[int], k: int) -> list[int]:
    k = min(k, len(pool))
    return sorted(rng.choice(np.asarray(pool, dtype=int), size=k, replace=False).tolist()) \
        if k else []


def plan_results(tps: Iterable[DemoTps], nomors: Sequence[int], *, seed: int,
                 voting_date: dt.date, capacity: int) -> ResultsPlan:
    """Which agency entered which TPS, with which numbers. Pure and deterministic."""
    rng = np.random.default_rng([int(seed), PART])
    rows = sorted(tps, key=lambda t: t.kode)
    n = len(rows)
    order = rng.permutation(n)
    kpu = sorted(order[:round(COVERAGE["kpu"] * n)].tolist())
    rest = sorted(order[round(COVERAGE["kpu"] * n):].tolist())
    entered: dict[str, list[int]] = {"kpu": kpu}
    for agency in ("polri", "bawaslu"):
        total = round(COVERAGE[agency] * n)
        with_kpu = round(OVERLAP[agency] * total)
        entered[agency] = sorted(_pick(rng, kpu, with_kpu) + _pick(rng, rest, total - with_kpu))

    truth = {i: _numbers(rows[i], nomors, rng) for i in sorted(set().union(*entered.values()))}
    shared = sorted(i for i in kpu if i in set(entered["polri"]) | set(entered["bawaslu"]))
    low, high = DISAGREEMENTS
    wrong_tps = _pick(rng, shared, int(rng.integers(low, high + 1)))
    wrong: dict[tuple[int, str], int] = {}
    for k, i in enumerate(wrong_tps):
        who = [a for a in AGENCIES if i in set(entered[a])]
        wrong[(i, who[int(rng.integers(len(who)))])] = k % 3

    noon = dt.datetime.combine(voting_date, dt.time(13, 0), tzinfo=WITA)
    plan = ResultsPlan(disagreeing=[rows[i].kode for i in wrong_tps])
    for agency in AGENCIES:
        lo, hi = ENTRY_WINDOW_MIN[agency]
        for i in entered[agency]:
            numbers, note = truth[i], None
            if (i, agency) in wrong:
                numbers, note = _mistake(numbers, wrong[(i, agency)], nomors)
                if numbers.comparable() == truth[i].comparable():
                    raise AssertionError(f"demo mistake at {rows[i].kode} changed nothing")
            problems = check_arithmetic(numbers, capacity)
            if problems:   # a bug in this generator, never a demo with broken numbers
                raise AssertionError(f"demo result for {rows[i].kode} breaks a rule: "
                                     f"{problems[0].reason}")
            at = noon + dt.timedelta(minutes=int(rng.integers(lo, hi + 1)),
                                     seconds=int(rng.integers(60)))
            plan.entries.append(PlannedEntry(
                uuid.uuid5(NAMESPACE, f"{seed}:result:{agency}:{rows[i].kode}"), rows[i],
                agency, numbers, at, note))
    return plan


def _demo_tps(conn: Connection, election_id: int) -> list[DemoTps]:
    rows = conn.execute(text("""
        SELECT t.id, t.kode, k.kecamatan_kode, t.dpt FROM tps t
        JOIN kelurahan k ON k.kode = t.kelurahan_kode
        WHERE t.election_id = :e ORDER BY t.kode"""), {"e": election_id}).all()
    return [DemoTps(*r) for r in rows]


_INSERT = text("""
    INSERT INTO result_entry (id, election_id, contest_id, tps_id, agency, votes, valid, invalid,
        ballots_used, dpt, dptb, dpk, photo_path, entered_by, entered_by_id, entered_at,
        content_hash, status)
    VALUES (:id, :e, :c, :t, :a, :votes, :valid, :invalid, :ballots_used, :dpt, :dptb, :dpk,
        NULL, :by, :by_id, :at, :hash, 'active')
    ON CONFLICT (id) DO NOTHING""").bindparams(bindparam("votes", type_=JSONB))


def load_results(conn: Connection, election_id: int, *, seed: int = 2024,
                 actor: str = "demo") -> dict:
    """Write the demo results of the election's contest; counts of what is there.

    Runs in the caller's transaction. Writes nothing when the contest already has entries
    (a second load, or real entries): ``created`` is then False.
    """
    election = conn.execute(text("SELECT kode, voting_date, max_voters_per_tps FROM election "
                                 "WHERE id = :e"), {"e": election_id}).one()
    contest = contests.contest(conn, election_id, None)
    existing = conn.execute(text("SELECT count(*) FROM result_entry WHERE contest_id = :c"),
                            {"c": contest.id}).scalar_one()
    if existing:
        return {**_counts(conn, contest.id), "created": False}

    capacity = QuickCountRules().capacity(election.max_voters_per_tps)
    plan = plan_results(_demo_tps(conn, election_id), contest.nomors, seed=seed,
                        voting_date=election.voting_date, capacity=capacity)
    operators = dict(conn.execute(text("SELECT username, id FROM users WHERE username = ANY(:u)"),
                                  {"u": [f"operator_{a}" for a in AGENCIES]}).all())
    conn.execute(_INSERT, [
        {"id": e.id, "e": election_id, "c": contest.id, "t": e.tps.id, "a": e.agency,
         **e.numbers.as_json(), "by": f"operator_{e.agency}",
         "by_id": operators.get(f"operator_{e.agency}"), "at": e.entered_at,
         "hash": store.content_hash(agency=e.agency, contest_id=contest.id, tps_id=e.tps.id,
                                    numbers=e.numbers, photo_path=None)}
        for e in plan.entries])

    # the double-entry comparison, exactly as for entries typed in the app
    latest: dict[int, PlannedEntry] = {}
    agencies: dict[int, int] = {}
    for e in plan.entries:
        agencies[e.tps.id] = agencies.get(e.tps.id, 0) + 1
        if e.tps.id not in latest or e.entered_at > latest[e.tps.id].entered_at:
            latest[e.tps.id] = e
    for tps_id in sorted(t for t, k in agencies.items() if k > 1):
        flags.refresh(conn, election_id=election_id, contest_id=contest.id, tps_id=tps_id,
                      new_entry=store.get_entry(conn, latest[tps_id].id), actor=actor)

    counts = {**_counts(conn, contest.id), "created": True}
    audit.record(conn, actor, "demo.results", election.kode, {
        "seed": seed, "contest": contest.kode, "counts": counts,
        "disagreeing_tps": plan.disagreeing,
        "mistakes": {f"{e.tps.kode}/{e.agency}": e.note for e in plan.entries if e.note},
        "note": "DATA DEMO hitung cepat internal — bukan hasil resmi"})
    LOGGER.info("demo results loaded: %s", counts)
    return counts


def _counts(conn: Connection, contest_id: int) -> dict:
    row = conn.execute(text("""
        SELECT (SELECT count(*) FROM result_entry WHERE contest_id = :c) AS entries,
               (SELECT count(DISTINCT tps_id) FROM result_entry WHERE contest_id = :c)
                 AS tps_entered,
               (SELECT count(*) FROM result_flag WHERE contest_id = :c AND status = 'open')
                 AS flags_open"""), {"c": contest_id}).mappings().one()
    by_agency = dict(conn.execute(text(
        "SELECT agency, count(*) FROM result_entry WHERE contest_id = :c AND status = 'active' "
        "GROUP BY agency"), {"c": contest_id}).all())
    return {**{k: int(v) for k, v in row.items()},
            **{f"entries_{a}": int(by_agency.get(a, 0)) for a in AGENCIES}}


__all__ = ["DemoTps", "PlannedEntry", "ResultsPlan", "load_results", "plan_results"]

