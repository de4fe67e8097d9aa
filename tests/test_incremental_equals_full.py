"""Incremental == full, proven on random histories (issue 11, item 9).

Hypothesis draws sequences of writes (readiness, incidents reported/verified/rejected/moved,
ratings of TPS and kelurahan, personnel on TPS, kelurahan and reserves, moves) and clock
advances. Each write records what it touched exactly as the product's write paths do
(gisdesk.analysis.changes); after each step the worker's catch-up (queue + time edges ->
scoped refresh) brings the results up to date. At the end the stored results must equal,
row by row, a full recompute at the same ``as_of``.

The world: two kab/kota ~55 km apart (farther than the donor radius, so a change in one must
not need the other), each one kecamatan of three kelurahan with three TPS each, an election
that follows the clock (not pinned), and an election pattern set that takes effect during
the histories (a time edge that recomputes everything).
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import text

from gisdesk.analysis import changes, load_rules
from gisdesk.analysis.catchup import catch_up, rules_sha256
from gisdesk.analysis.refresh import refresh

WITA = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2024, 2, 13, 8, 0, tzinfo=WITA)
# kab/kota -> west edge of its first kelurahan square (0.01 deg ~ 1.1 km); 0.5 deg ~ 55 km
KABKOTA = {"52.71": 116.10, "52.01": 116.60}
KELURAHAN = [f"{kab}.01.100{i}" for kab in KABKOTA for i in (1, 2, 3)]
TPS = [f"{kel}-00{j}" for kel in KELURAHAN for j in (1, 2, 3)]
RULES = load_rules()
DIGEST = rules_sha256(None)


def _west(kel: str) -> float:
    return KABKOTA[kel[:5]] + 0.012 * (int(kel[-1]) - 1)


def _square(west: float) -> str:
    return f"ST_Multi(ST_MakeEnvelope({west}, -8.60, {west + 0.01}, -8.59, 4326))"


@pytest.fixture(scope="module")
def world(engine) -> int:
    with engine.begin() as c:
        for kab in KABKOTA:
            kels = [k for k in KELURAHAN if k.startswith(kab)]
            c.execute(text(f"""
                INSERT INTO kecamatan (kode, nama, geom, source) VALUES
                  (:k, :n, ST_Multi(ST_Union(ARRAY[{', '.join(_square(_west(k)) for k in kels)}])),
                   'test')"""), {"k": f"{kab}.01", "n": f"Kec {kab}"})
            for kel in kels:
                c.execute(text(f"INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) "
                               f"VALUES (:k, :n, :kec, {_square(_west(kel))})"),
                          {"k": kel, "n": f"Kel {kel}", "kec": kel[:8]})
        eid = c.execute(text("""
            INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, active)
            VALUES ('uji-inkremental', 'Uji', 'pemilu', '2024-02-14', 300, true)
            RETURNING id""")).scalar_one()
        for kode in TPS:
            kel, nomor = kode.split("-")
            c.execute(text("""
                INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
                VALUES (:k, :e, :kel, :n, 250, ST_Point(:x, -8.595, 4326))"""),
                      {"k": kode, "e": eid, "kel": kel, "n": int(nomor),
                       "x": _west(kel) + 0.0025 * int(nomor)})
        for kel in KELURAHAN:
            c.execute(text("""
                INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode,
                                                  count)
                VALUES (:e, 'polri', 'kelurahan', :k, :n), (:e, 'linmas', 'kelurahan', :k, 3)"""),
                      {"e": eid, "k": kel, "n": 1 + int(kel[-1]) * 2})
        for kab in KABKOTA:
            c.execute(text("""
                INSERT INTO personnel_assignment (election_id, agency, target, kecamatan_kode,
                                                  count)
                VALUES (:e, 'polri', 'reserve', :k, 2)"""), {"e": eid, "k": f"{kab}.01"})
        c.execute(text("INSERT INTO personnel_assignment (election_id, agency, target, count) "
                       "VALUES (:e, 'polri', 'reserve', 4)"), {"e": eid})
        # a stricter pattern set of this election from election eve: crossing it is a time edge
        set_id = c.execute(text("""
            INSERT INTO security_pattern_set (election_id, nama, effective_from)
            VALUES (:e, 'uji ketat', '2024-02-14 00:00+08') RETURNING id"""),
            {"e": eid}).scalar_one()
        c.execute(text("""
            INSERT INTO security_pattern (set_id, kelas, polri, per_tps, linmas) VALUES
              (:s, 'kurang_rawan', 2, 3, 6), (:s, 'rawan', 2, 2, 4),
              (:s, 'sangat_rawan', 2, 1, 2), (:s, 'khusus', 2, 1, 2)"""), {"s": set_id})
        refresh(c, eid, as_of=START, kelurahan=None, rules=RULES)
        catch_up(c, eid, rules=RULES, rules_hash=DIGEST, now=START)
    return eid


# --- the writes, each with the change record its product write path makes ------------------

def readiness(c, eid, tps: str, state: str) -> None:
    tps_id = c.execute(text("SELECT id FROM tps WHERE kode = :k"), {"k": tps}).scalar_one()
    c.execute(text("""
        INSERT INTO tps_readiness (tps_id, state, items, updated_at) VALUES (:t, :s, '{}', now())
        ON CONFLICT (tps_id) DO UPDATE SET state = EXCLUDED.state"""), {"t": tps_id, "s": state})
    changes.tps(c, [tps_id], "readiness.update")


def report(c, eid, tps: str, metres: float, hours_before: float, severity: str,
           status: str, now: dt.datetime) -> None:
    ident = str(uuid.uuid4())
    c.execute(text("""
        INSERT INTO incident (id, election_id, category, severity, occurred_at, status, geom,
                              content_hash)
        SELECT :id, :e, 'bentrok_massa', :sev, :at, :st,
               ST_Project(geom::geography, :m, radians(45))::geometry, :hash
        FROM tps WHERE kode = :t"""),
        {"id": ident, "hash": ident, "e": eid, "sev": severity, "st": status, "m": metres, "t": tps,
         "at": now - dt.timedelta(hours=hours_before)})
    changes.incident(c, ident, "incident.create")


def review(c, eid, pick: int, status: str) -> None:
    ident = _pick_incident(c, eid, pick)
    if ident:
        c.execute(text("UPDATE incident SET status = :s WHERE id = CAST(:i AS uuid)"),
                  {"s": status, "i": ident})
        changes.incident(c, ident, f"incident.{status}")


def move_incident(c, eid, pick: int, tps: str, metres: float) -> None:
    ident = _pick_incident(c, eid, pick)
    if ident:
        old = c.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM incident "
                             "WHERE id = CAST(:i AS uuid)"),
                        {"i": ident}).one()
        c.execute(text("""
            UPDATE incident SET geom = (SELECT ST_Project(geom::geography, :m, 0)::geometry
                                        FROM tps WHERE kode = :t)
            WHERE id = CAST(:i AS uuid)"""),
                  {"m": metres, "t": tps, "i": ident})
        changes.incident(c, ident, "incident.move", old_lon=old[0], old_lat=old[1])


def _pick_incident(c, eid, pick: int) -> str | None:
    ids = c.execute(text("SELECT id::text FROM incident WHERE election_id = :e ORDER BY id"),
                    {"e": eid}).scalars().all()
    return ids[pick % len(ids)] if ids else None


def rate_tps(c, eid, tps: str, source: str, kelas: str, days: int, now: dt.datetime) -> None:
    tps_id = c.execute(text("SELECT id FROM tps WHERE kode = :k"), {"k": tps}).scalar_one()
    c.execute(text("INSERT INTO rating (election_id, source, tps_id, kelas, rated_on) "
                   "VALUES (:e, :s, :t, :c, :d)"),
              {"e": eid, "s": source, "t": tps_id, "c": kelas,
               "d": (now + dt.timedelta(days=days)).date()})
    changes.tps(c, [tps_id], "rating")


def rate_kelurahan(c, eid, kel: str, kelas: str, days: int, now: dt.datetime) -> None:
    c.execute(text("INSERT INTO rating (election_id, source, kelurahan_kode, kelas, rated_on) "
                   "VALUES (:e, 'kpu', :k, :c, :d)"),
              {"e": eid, "k": kel, "c": kelas, "d": (now + dt.timedelta(days=days)).date()})
    changes.kelurahan(c, eid, [kel], "rating")


def personnel(c, eid, target: str, place: str, delta: int) -> None:
    tps_id = kel = kec = None
    if target == "tps":
        tps_id = c.execute(text("SELECT id FROM tps WHERE kode = :k"), {"k": place}).scalar_one()
    elif target == "kelurahan":
        kel = place
    elif place != "polresta":
        kec = place
    c.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, tps_id, kelurahan_kode,
                                          kecamatan_kode, count)
        VALUES (:e, 'polri', :t, :tps, :kel, :kec, :n)"""),
              {"e": eid, "t": target, "tps": tps_id, "kel": kel, "kec": kec, "n": delta})
    changes.personnel(c, eid, target=target, kelurahan_kode=kel, kecamatan_kode=kec,
                      tps_id=tps_id, reason="personnel")


def move(c, eid, donor: str, receiver: str) -> None:
    """A move between two kelurahan (as gisdesk.moves records it)."""
    c.execute(text("UPDATE personnel_assignment SET count = count - 1 WHERE election_id = :e "
                   "AND target = 'kelurahan' AND agency = 'polri' AND kelurahan_kode = :k "
                   "AND count > 0"), {"e": eid, "k": donor})
    c.execute(text("UPDATE personnel_assignment SET count = count + 1 WHERE election_id = :e "
                   "AND target = 'kelurahan' AND agency = 'polri' AND kelurahan_kode = :k"),
              {"e": eid, "k": receiver})
    changes.kelurahan(c, eid, [donor, receiver], "personnel.move")


tps_ = st.sampled_from(TPS)
kel_ = st.sampled_from(KELURAHAN)
kelas_ = st.sampled_from(["kurang_rawan", "rawan", "sangat_rawan"])
WRITE = st.one_of(
    st.tuples(st.just(readiness), tps_, st.sampled_from(["siap", "sebagian", "belum"])),
    st.tuples(st.just(report), tps_, st.floats(0, 900), st.floats(-3, 30),
              st.sampled_from(["ringan", "sedang", "berat"]),
              st.sampled_from(["reported", "verified"])),
    st.tuples(st.just(review), st.integers(0, 50),
              st.sampled_from(["verified", "rejected", "resolved"])),
    st.tuples(st.just(move_incident), st.integers(0, 50), tps_, st.floats(0, 700)),
    st.tuples(st.just(rate_tps), tps_, st.sampled_from(["polri", "kpu"]), kelas_,
              st.integers(-2, 2)),
    st.tuples(st.just(rate_kelurahan), kel_, kelas_, st.integers(-2, 2)),
    st.tuples(st.just(personnel), st.just("tps"), tps_, st.integers(1, 3)),
    st.tuples(st.just(personnel), st.just("kelurahan"), kel_, st.integers(1, 3)),
    st.tuples(st.just(personnel), st.just("reserve"),
              st.sampled_from([f"{k}.01" for k in KABKOTA] + ["polresta"]), st.integers(1, 3)),
    st.tuples(st.just(move), kel_, kel_).filter(lambda w: w[1] != w[2]),
)
CLOCK = st.tuples(st.just("clock"), st.floats(0, 20))        # hours to advance
STEP = st.lists(st.one_of(WRITE, WRITE, CLOCK), min_size=1, max_size=4)


def snapshot(c, eid) -> dict:
    """Every stored result row of the election, without surrogate ids and the run row."""
    def rows(sql):
        return sorted(tuple(str(v) for v in r) for r in c.execute(text(sql), {"e": eid}))
    return {
        "tps_risk": rows("""SELECT t.kode, r.kelas, r.kelas_polri, r.kelas_kpu, r.kelas_bawaslu,
                                   r.kelas_kelurahan, r.escalated, r.disagree, r.reasons
                            FROM tps_risk r JOIN tps t ON t.id = r.tps_id
                            WHERE r.election_id = :e"""),
        "kelurahan_gap": rows("""SELECT kelurahan_kode, kecamatan_kode, n_tps, n_by_class,
                                   polri_required, linmas_required, polri_assigned,
                                   linmas_assigned, tni_assigned, polri_gap, linmas_gap,
                                   not_ready, incidents_recent, reasons
                                 FROM kelurahan_gap WHERE election_id = :e"""),
        "suggestion": rows("""SELECT rank, kelurahan_kode, agency, count, from_kind,
                                from_kelurahan_kode, from_unit, distance_m, required, assigned,
                                gap, move_text, reasons
                              FROM suggestion WHERE election_id = :e"""),
        "as_of": c.execute(text("SELECT as_of FROM analysis_run WHERE election_id = :e"),
                           {"e": eid}).scalar_one(),
    }


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=5))
# the edges by hand: an incident leaving the window, a rating taking effect tomorrow, a
# moved incident, and the election's pattern set taking effect
@example(steps=[[(report, TPS[0], 50.0, 23.0, "berat", "verified")], [("clock", 2.0)]])
@example(steps=[[(rate_tps, TPS[4], "polri", "sangat_rawan", 1)], [("clock", 20.0)]])
@example(steps=[[(report, TPS[9], 30.0, 1.0, "berat", "verified")],
                [(move_incident, 0, TPS[1], 10.0)]])
@example(steps=[[("clock", 10.0)], [("clock", 8.0)]])
def test_incremental_results_equal_a_full_recompute_row_by_row(engine, world, steps):
    with engine.connect() as c:
        outer = c.begin()
        try:
            now = START
            for step in steps:
                for write, *args in step:
                    if write == "clock":
                        now += dt.timedelta(hours=args[0])
                    elif write in (report, rate_tps, rate_kelurahan):
                        write(c, world, *args, now)
                    else:
                        write(c, world, *args)
                catch_up(c, world, rules=RULES, rules_hash=DIGEST, now=now)
            assert c.execute(text("SELECT count(*) FROM analysis_queue")).scalar() == 0
            incremental = snapshot(c, world)
            assert incremental["as_of"] == now
            with c.begin_nested() as full:
                refresh(c, world, as_of=now, kelurahan=None, rules=RULES)
                whole = snapshot(c, world)
                full.rollback()
            for table in ("tps_risk", "kelurahan_gap", "suggestion"):
                assert incremental[table] == whole[table], table
        finally:
            outer.rollback()
