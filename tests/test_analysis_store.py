"""The stored analysis (tps_risk, kelurahan_gap, suggestion) on small hand-made cases.

The world, committed once for the module (all squares 0.01 deg ~ 1.1 km, at lat -8.6):

    kecamatan 52.71.01 "Ampenan"                          kecamatan 52.71.02 "Mataram"
      A 52.71.01.1001  lon 116.10-116.11, 6 TPS             D 52.71.02.1001  lon 116.09-116.10
      N 52.71.01.1003  lon 116.12-116.13, 2 TPS (near A)      (next to A: ~1.1 km), 1 TPS
      F 52.71.01.1002  lon 116.14-116.15, 1 TPS (far from A)

Distances between the kelurahan's inner points: A-D ~1.1 km, A-N ~2.2 km, A-F ~4.4 km.
Seed patterns (2024-01-01): kurang rawan 2-4-8, rawan 2-2-4, sangat rawan 2-1-2:
Polri = a * ceil(n / b), Linmas = ceil(c * n / b) per kelurahan and class.
Each test recomputes inside a transaction that is rolled back (``conn``).
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from gisdesk.analysis import changes
from gisdesk.analysis.catchup import drain
from gisdesk.analysis.store import recompute

WITA = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.datetime(2024, 2, 14, 10, 0, tzinfo=WITA)
A, F, N, D = "52.71.01.1001", "52.71.01.1002", "52.71.01.1003", "52.71.02.1001"
WEST = {A: 116.10, N: 116.12, F: 116.14, D: 116.09}

# TPS code -> (lon, lat); all at lat -8.595 (the middle of the squares)
TPS = {f"{A}-00{i}": (116.1015 + 0.0015 * (i - 1), -8.595) for i in range(1, 7)}
TPS.update({f"{N}-001": (116.124, -8.595), f"{N}-002": (116.126, -8.595),
            f"{F}-001": (116.145, -8.595), f"{D}-001": (116.095, -8.595)})

# TPS ratings (source, TPS, class), all rated on 2024-02-01
RATINGS = [("polri", f"{A}-001", "rawan"), ("kpu", f"{A}-001", "sangat_rawan"),
           ("polri", f"{A}-002", "sangat_rawan"),
           ("polri", f"{A}-003", "rawan"), ("polri", f"{A}-004", "rawan"),
           ("polri", f"{A}-005", "rawan")]
# A-006 and the TPS of N, F, D are not rated: kurang rawan (the default class)

# (agency, count, target, TPS or kelurahan or kecamatan code)
PERSONNEL = [("polri", 2, "tps", f"{A}-001"), ("polri", 1, "kelurahan", A),
             ("linmas", 6, "tps", f"{A}-002"), ("linmas", 6, "kelurahan", A),
             ("tni", 2, "kelurahan", A),
             ("polri", 5, "kelurahan", N), ("linmas", 4, "kelurahan", N),
             ("polri", 3, "kelurahan", F), ("linmas", 2, "kelurahan", F),
             ("polri", 4, "kelurahan", D), ("linmas", 2, "kelurahan", D),
             ("polri", 1, "reserve", "52.71.01"),     # Polsek Ampenan
             ("polri", 5, "reserve", "52.71.02"),     # Polsek Mataram
             ("polri", 10, "reserve", None)]          # Polresta


def square(west: float) -> str:
    return f"ST_Multi(ST_MakeEnvelope({west}, -8.60, {west + 0.01}, -8.59, 4326))"


@pytest.fixture(scope="module")
def election(engine) -> int:
    with engine.begin() as c:
        c.execute(text(f"""
            INSERT INTO kecamatan (kode, nama, geom, source) VALUES
              ('52.71.01', 'Ampenan', ST_Multi(ST_Union(ARRAY[{square(WEST[A])},
                 {square(WEST[N])}, {square(WEST[F])}])), 'test'),
              ('52.71.02', 'Mataram', {square(WEST[D])}, 'test')"""))
        for kode, nama in ((A, "Kel A"), (F, "Kel F"), (N, "Kel N"), (D, "Kel D")):
            c.execute(text(f"INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) "
                           f"VALUES (:k, :n, :kec, {square(WEST[kode])})"),
                      {"k": kode, "n": nama, "kec": kode[:8]})
        eid = c.execute(text("""
            INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, active,
                                  pinned_as_of)
            VALUES ('uji-analisis', 'Uji', 'pemilu', '2024-02-14', 300, true, :a)
            RETURNING id"""), {"a": AS_OF}).scalar_one()
        for kode, (lon, lat) in TPS.items():
            c.execute(text("""
                INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
                VALUES (:k, :e, :kel, :nomor, 250, ST_Point(:x, :y, 4326))"""),
                      {"k": kode, "e": eid, "kel": kode.split("-")[0],
                       "nomor": int(kode.split("-")[1]), "x": lon, "y": lat})
        for source, tps, kelas in RATINGS:
            c.execute(text("""
                INSERT INTO rating (election_id, source, tps_id, kelas, rated_on)
                SELECT :e, :s, id, :c, '2024-02-01' FROM tps WHERE kode = :t"""),
                      {"e": eid, "s": source, "t": tps, "c": kelas})
        # a kelurahan-level rating of D (no class change, but stored as kelas_kelurahan)
        c.execute(text("INSERT INTO rating (election_id, source, kelurahan_kode, kelas, "
                       "rated_on) VALUES (:e, 'kpu', :k, 'kurang_rawan', '2024-02-01')"),
                  {"e": eid, "k": D})
        for agency, count, target, kode in PERSONNEL:
            c.execute(text("""
                INSERT INTO personnel_assignment (election_id, agency, target, tps_id,
                                                  kelurahan_kode, kecamatan_kode, count)
                VALUES (:e, :a, :t, (SELECT id FROM tps WHERE kode = :tps), :kel, :kec, :n)"""),
                      {"e": eid, "a": agency, "t": target, "n": count,
                       "tps": kode if target == "tps" else None,
                       "kel": kode if target == "kelurahan" else None,
                       "kec": kode if target == "reserve" else None})
    return eid


def gap_rows(conn, eid) -> dict[str, tuple]:
    """kelurahan -> (n_tps, Polri required/assigned/gap, Linmas required/assigned/gap, TNI)."""
    return {r[0]: tuple(r[1:]) for r in conn.execute(text("""
        SELECT kelurahan_kode, n_tps, polri_required, polri_assigned, polri_gap,
               linmas_required, linmas_assigned, linmas_gap, tni_assigned
        FROM kelurahan_gap WHERE election_id = :e"""), {"e": eid})}


def risk(conn, tps_kode: str):
    return conn.execute(text("""
        SELECT r.* FROM tps_risk r JOIN tps t ON t.id = r.tps_id WHERE t.kode = :k"""),
        {"k": tps_kode}).mappings().one()


def add_incident(conn, eid, *, near: str, metres: float, hours_before: float,
                 status: str = "verified", severity: str = "sedang") -> None:
    """An incident ``metres`` north of TPS ``near``, ``hours_before`` as_of."""
    incident_id = str(uuid.uuid4())
    conn.execute(text("""
        INSERT INTO incident (id, election_id, category, severity, occurred_at, status, geom,
                              content_hash)
        SELECT :id, :e, 'bentrok_massa', :sev, :at, :st,
               ST_Project(geom::geography, :m, 0)::geometry, :hash
        FROM tps WHERE kode = :t"""),
        {"id": incident_id, "hash": incident_id, "e": eid, "sev": severity, "st": status,
         "m": metres, "at": AS_OF - dt.timedelta(hours=hours_before), "t": near})


def test_sources_that_disagree_give_the_highest_class_and_a_flag(conn, election):
    recompute(conn, as_of=AS_OF)
    # Polri rawan, KPU sangat rawan -> sangat rawan, the sources disagree
    first = risk(conn, f"{A}-001")
    assert (first["kelas"], first["kelas_polri"], first["kelas_kpu"], first["disagree"]) == \
        ("sangat_rawan", "rawan", "sangat_rawan", True)
    assert any(r.startswith("Beda penilaian") for r in first["reasons"])
    # Polri alone says sangat rawan: nothing to disagree about
    second = risk(conn, f"{A}-002")
    assert (second["kelas"], second["disagree"]) == ("sangat_rawan", False)
    # A-006 nobody rated: the default class
    assert risk(conn, f"{A}-006")["kelas"] == "kurang_rawan"
    # D's kelurahan rating is kept with its TPS
    assert risk(conn, f"{D}-001")["kelas_kelurahan"] == "kurang_rawan"
    assert risk(conn, f"{N}-001")["kelas_kelurahan"] is None


def test_requirement_and_gap_per_kelurahan_are_the_hand_worked_numbers(conn, election):
    recompute(conn, as_of=AS_OF)
    # A: sangat rawan n=2 -> Polri 2*ceil(2/1)=4, Linmas ceil(2*2/1)=4
    #    rawan        n=3 -> Polri 2*ceil(3/2)=4, Linmas ceil(4*3/2)=6
    #    kurang rawan n=1 -> Polri 2*ceil(1/4)=2, Linmas ceil(8*1/4)=2
    #    required Polri 10, Linmas 12; assigned Polri 2 (at TPS A-001) + 1 (kelurahan) = 3,
    #    Linmas 6 (at TPS A-002) + 6 = 12; TNI 2 is reported, not counted as Polri.
    # N: kurang rawan n=2 -> Polri 2*ceil(2/4)=2, Linmas ceil(8*2/4)=4; assigned 5 and 4.
    # F, D: kurang rawan n=1 -> Polri 2, Linmas 2; assigned Polri 3 (F) and 4 (D), Linmas 2.
    assert gap_rows(conn, election) == {
        A: (6, 10, 3, 7, 12, 12, 0, 2),
        N: (2, 2, 5, -3, 4, 4, 0, 0),
        F: (1, 2, 3, -1, 2, 2, 0, 0),
        D: (1, 2, 4, -2, 2, 2, 0, 0)}
    n_by_class = conn.execute(text("SELECT n_by_class FROM kelurahan_gap "
                                   "WHERE kelurahan_kode = :k"), {"k": A}).scalar()
    assert n_by_class == {"sangat_rawan": 2, "rawan": 3, "kurang_rawan": 1}


def test_suggestion_takes_the_same_kecamatan_nearest_first_then_elsewhere_then_polsek(
        conn, election):
    recompute(conn, as_of=AS_OF)
    rows = conn.execute(text("""
        SELECT rank, kelurahan_kode, agency, count, from_kind, from_kelurahan_kode, from_unit,
               required, assigned, gap, distance_m
        FROM suggestion WHERE election_id = :e ORDER BY id"""), {"e": election}).all()
    # A is short of 7 Polri (nobody is short of Linmas). Surplus: N 3, F 1 (same kecamatan,
    # N nearer), D 2 (other kecamatan, though nearest of all), then Polsek Ampenan's 1.
    # Polsek Mataram (another kecamatan) and Polresta are not needed.
    assert [r[:10] for r in rows] == [
        (1, A, "polri", 3, "kelurahan", N, None, 10, 3, 7),
        (1, A, "polri", 1, "kelurahan", F, None, 10, 3, 7),
        (1, A, "polri", 2, "kelurahan", D, None, 10, 3, 7),
        (1, A, "polri", 1, "polsek_reserve", None, "Polsek Ampenan", 10, 3, 7)]
    dist = {r.from_kelurahan_kode: r.distance_m for r in rows if r.from_kelurahan_kode}
    assert dist[D] == pytest.approx(1100, rel=0.02)
    assert dist[N] == pytest.approx(2200, rel=0.02)
    assert dist[F] == pytest.approx(4400, rel=0.02)
    assert sum(r.count for r in rows) == gap_rows(conn, election)[A][3]


def test_a_later_pattern_set_applies_from_its_effective_date(conn, election):
    set_id = conn.execute(text("""
        INSERT INTO security_pattern_set (election_id, nama, effective_from)
        VALUES (:e, 'Pola ketat', '2024-02-10T00:00:00+08:00') RETURNING id"""),
        {"e": election}).scalar_one()
    conn.execute(text("""
        INSERT INTO security_pattern (set_id, kelas, polri, per_tps, linmas) VALUES
          (:s, 'kurang_rawan', 3, 1, 3), (:s, 'rawan', 3, 1, 3),
          (:s, 'sangat_rawan', 4, 1, 4), (:s, 'khusus', 2, 1, 2)"""), {"s": set_id})

    before = recompute(conn, as_of=dt.datetime(2024, 2, 9, 12, 0, tzinfo=WITA))
    # the seed patterns: as in the hand-worked case above
    assert before.pattern_set.startswith("Pola pengamanan TPS 2024")
    assert {k: v[1] for k, v in gap_rows(conn, election).items()} == {A: 10, N: 2, F: 2, D: 2}

    after = recompute(conn, as_of=AS_OF)
    # A: sangat rawan 2 -> 4*ceil(2/1)=8; rawan 3 -> 3*ceil(3/1)=9; kurang rawan 1 -> 3: 20
    #    Linmas: 4*2/1=8 + 3*3/1=9 + 3*1/1=3 = 20
    # N: kurang rawan 2 -> Polri 3*2=6, Linmas 3*2=6; F, D: 3 and 3
    assert after.pattern_set == "Pola ketat"
    assert {k: (v[1], v[4]) for k, v in gap_rows(conn, election).items()} == {
        A: (20, 20), N: (6, 6), F: (3, 3), D: (3, 3)}
    assert conn.execute(text("SELECT pattern_set_id FROM analysis_run WHERE election_id = :e"),
                        {"e": election}).scalar() == set_id


def test_a_verified_sedang_incident_300_m_away_2_hours_ago_raises_one_class(conn, election):
    add_incident(conn, election, near=f"{F}-001", metres=300, hours_before=2)
    recompute(conn, as_of=AS_OF)
    r = risk(conn, f"{F}-001")
    assert (r["kelas"], r["escalated"]) == ("rawan", True)    # kurang rawan -> rawan
    assert any(x.startswith("Eskalasi: kejadian sedang") and "300 m" in x for x in r["reasons"])
    # N's TPS are 1.9 km away: untouched
    assert risk(conn, f"{N}-002")["escalated"] is False
    assert conn.execute(text("SELECT incidents_recent FROM kelurahan_gap "
                             "WHERE kelurahan_kode = :k"), {"k": F}).scalar() == 1


@pytest.mark.parametrize("metres, hours_before, status", [
    (300, 2, "reported"),   # not verified
    (300, 25, "verified"),  # outside the 24 h window
    (600, 2, "verified"),   # further than 500 m
], ids=["reported", "25-hours-old", "600-m-away"])
def test_an_incident_that_does_not_count_leaves_the_class(conn, election, metres,
                                                          hours_before, status):
    add_incident(conn, election, near=f"{F}-001", metres=metres, hours_before=hours_before,
                 status=status)
    recompute(conn, as_of=AS_OF)
    r = risk(conn, f"{F}-001")
    assert (r["kelas"], r["escalated"]) == ("kurang_rawan", False)


def test_an_incident_after_as_of_does_not_count_yet(conn, election):
    add_incident(conn, election, near=f"{F}-001", metres=100, hours_before=-1)
    recompute(conn, as_of=AS_OF)
    assert risk(conn, f"{F}-001")["escalated"] is False


def test_a_queued_write_is_caught_up_and_with_nothing_queued_a_pinned_election_stays(
        engine, election):
    def run_row():
        with engine.connect() as c:
            return c.execute(text("SELECT as_of, version FROM analysis_run "
                                  "WHERE election_id = :e"), {"e": election}).first()

    with engine.begin() as c:
        recompute(c)
    drain(engine, {election})            # first catch-up records the rules file in use
    first = run_row()
    assert first.as_of == AS_OF          # the election's pinned time
    # pinned and nothing queued: nothing to do, however old the results
    assert drain(engine, {election}) == []
    assert run_row().version == first.version
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO personnel_assignment (election_id, agency, target, "
                           "kelurahan_kode, count, note) VALUES (:e, 'polri', 'kelurahan', "
                           ":k, 2, 'uji antrean')"), {"e": election, "k": A})
            changes.personnel(c, election, target="kelurahan", kelurahan_kode=A,
                              kecamatan_kode=None, tps_id=None, reason="uji")
        with engine.connect() as c:   # readers still see the last results until caught up
            assert gap_rows(c, election)[A][1:4] == (10, 3, 7)
        [done] = drain(engine, {election})
        assert done.kelurahan == {A} and done.queue_rows == 1
        assert run_row().version > first.version
        with engine.connect() as c:
            assert gap_rows(c, election)[A][1:4] == (10, 5, 5)   # 3 + 2 assigned now
            assert c.execute(text("SELECT count(*) FROM analysis_queue")).scalar() == 0
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM personnel_assignment WHERE note = 'uji antrean'"))
            changes.full(c, election, "uji")
        drain(engine, {election})


def test_every_stored_result_set_gets_a_higher_version(conn, election):
    recompute(conn, election, as_of=AS_OF)
    first = conn.execute(text("SELECT version FROM analysis_run WHERE election_id = :e"),
                         {"e": election}).scalar_one()
    recompute(conn, election, as_of=AS_OF)
    second = conn.execute(text("SELECT version FROM analysis_run WHERE election_id = :e"),
                          {"e": election}).scalar_one()
    assert second > first


def test_refresh_stores_the_same_results_as_a_whole_recompute(conn, election):
    from gisdesk.analysis.refresh import refresh
    recompute(conn, election, as_of=AS_OF)
    whole = gap_rows(conn, election)
    refresh(conn, election, as_of=AS_OF, kelurahan={A})
    assert gap_rows(conn, election) == whole
