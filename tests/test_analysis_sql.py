"""refresh() (set-based SQL, the one implementation) stores what the Python specification gives.

Snapshots of tps_risk / kelurahan_gap / suggestion / analysis_run after ``spec_recompute``
(the pure rules, tests/analysis_spec.py) and after a whole ``refresh`` are compared row by
row, reasons included, on the
Mataram demo at several as_of times (escalation differs between them), on a synthetic set with
more varied inputs (several ratings per source, same-day ties, indicators, kelurahan ratings,
khusus, incidents of every status) and on hand-made edge cases. Every recompute runs in a
transaction that is rolled back. Speed is measured outside the tests (see ``make_synthetic``).
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Connection, text

from analysis_spec import spec_recompute as recompute
from gisdesk.analysis import load_rules, rules_from_dict, store


def recompute_sql(conn, election_id, *, as_of=None, rules=None):
    """The implementation: a whole refresh."""
    return store.recompute(conn, election_id, as_of=as_of, rules=rules)


WITA = dt.timezone(dt.timedelta(hours=8))
DEMO_AS_OF = dt.datetime(2024, 2, 14, 10, 0, tzinfo=WITA)
INDICATORS = ("riwayat_kekerasan", "politik_uang", "netralitas_asn", "dpt_tms", "lokasi_sulit",
              "logistik_terlambat", "rawan_bencana", "Riwayat Intimidasi")


# ---------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def demo(engine) -> int:
    from gisdesk.demo.load import load_demo
    from gisdesk.ingest.write_boundaries import import_boundaries
    import_boundaries(engine, "data/boundaries/mataram_kelurahan.geojson", actor="t")
    with engine.begin() as conn:
        load_demo(conn, seed=2024)
        return conn.execute(text("SELECT id FROM election WHERE kode = 'pemilu-2024-mataram'")
                            ).scalar_one()


@pytest.fixture(scope="module")
def synthetic(engine, demo) -> int:
    with engine.begin() as conn:
        return make_synthetic(conn, n_kecamatan=6, kelurahan_per_kecamatan=25, tps_per_kelurahan=8,
                              seed=0.42, incidents_per_tps=0.03, short=0.2,
                              columns=75)     # a strip ~80 km long


def make_synthetic(conn: Connection, *, n_kecamatan: int, kelurahan_per_kecamatan: int,
                   tps_per_kelurahan: int, seed: float = 0.5, prov: str = "53",
                   incidents_per_tps: float = 0.004, short: float = 0.05,
                   columns: int | None = None,
                   as_of: dt.datetime = DEMO_AS_OF, kode: str = "sintetis") -> int:
    """A synthetic election on a grid of 0.01-degree square kelurahan in Sulawesi-like
    latitudes, all in SQL (200k TPS in a few seconds). Kab/kota 01, 02, ... of ``prov`` hold 99
    kecamatan each. Returns the election id (not active, pinned at ``as_of``)."""
    n_kel = n_kecamatan * kelurahan_per_kecamatan
    cols = columns or max(1, int(n_kel ** 0.5 * 2))
    p = {"nk": n_kecamatan, "kpk": kelurahan_per_kecamatan, "cols": cols, "prov": prov,
         "n_tps": tps_per_kelurahan, "as_of": as_of, "kode": kode, "seed": seed,
         "inc": incidents_per_tps, "short": short,
         "ind": list(INDICATORS)}
    conn.execute(text("SELECT setseed(:seed)"), p)
    conn.execute(text("""
        CREATE TEMP TABLE syn_kel ON COMMIT DROP AS
        SELECT g, :prov || '.' || lpad((g / :kpk / 99 + 1)::text, 2, '0') || '.'
                  || lpad((g / :kpk % 99 + 1)::text, 2, '0') AS kec,
               1001 + g % :kpk AS nomor,
               ST_MakeEnvelope(120 + (g % :cols) * 0.01, -4 + (g / :cols) * 0.01,
                               120.01 + (g % :cols) * 0.01, -3.99 + (g / :cols) * 0.01, 4326)
                 AS geom
        FROM generate_series(0, :nk * :kpk - 1) g"""), p)
    conn.execute(text("""
        INSERT INTO kecamatan (kode, nama, geom, source)
        SELECT kec, 'Kec ' || kec, ST_Multi(ST_Envelope(ST_Collect(geom))), 'synthetic'
        FROM syn_kel GROUP BY kec ON CONFLICT DO NOTHING"""))
    conn.execute(text("""
        INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom, source)
        SELECT kec || '.' || nomor, 'Kel ' || g, kec, ST_Multi(geom), 'synthetic' FROM syn_kel
        ON CONFLICT DO NOTHING"""))
    eid = conn.execute(text("""
        INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, pinned_as_of)
        VALUES (:kode, 'Sintetis', 'pemilu', '2024-02-14', 300, :as_of) RETURNING id"""),
        p).scalar_one()
    p["e"] = eid
    conn.execute(text("""
        INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
        SELECT k.kec || '.' || k.nomor || '-' || lpad(n::text, 3, '0'), :e, k.kec || '.' || k.nomor,
               n, 150 + (random() * 150)::int,
               ST_Point(ST_XMin(k.geom) + 0.0005 + random() * 0.009,
                        ST_YMin(k.geom) + 0.0005 + random() * 0.009, 4326)
        FROM syn_kel k CROSS JOIN generate_series(1, :n_tps) n"""), p)
    conn.execute(text("ANALYZE tps"))
    # TPS ratings: Polri for all (5 % twice, some on the same day), KPU for half (words of
    # the class_map too), Bawaslu indicators for 15 % (a few after as_of)
    conn.execute(text("""
        INSERT INTO rating (election_id, source, tps_id, kelas, rated_on)
        SELECT :e, 'polri', t.id,
               CASE WHEN x < 0.001 THEN 'khusus' WHEN x < 0.02 THEN 'sangat_rawan'
                    WHEN x < 0.09 THEN 'rawan' ELSE 'kurang_rawan' END,
               DATE '2024-02-01' + (random() * 7)::int
        FROM tps t CROSS JOIN LATERAL (SELECT random() + 0 * t.id AS x) r WHERE t.election_id = :e
        UNION ALL
        SELECT :e, 'polri', t.id, (ARRAY['kurang_rawan', 'rawan', 'sangat_rawan'])[1 + (random() * 2)::int],
               DATE '2024-02-04' + (random() * 12)::int
        FROM tps t WHERE t.election_id = :e AND random() < 0.05
        UNION ALL
        SELECT :e, 'kpu', t.id,
               CASE WHEN x < 0.002 THEN 'khusus' WHEN x < 0.01 THEN 'sangat_rawan'
                    WHEN x < 0.08 THEN 'rawan' ELSE 'kurang_rawan' END,
               DATE '2024-01-18' + (random() * 30)::int
        FROM tps t CROSS JOIN LATERAL (SELECT random() + 0 * t.id AS x) r
        WHERE t.election_id = :e AND random() < 0.5
        UNION ALL
        SELECT :e, 'kpu', t.id, 'sangat_rawan', DATE '2024-02-01'
        FROM tps t WHERE t.election_id = :e AND random() < 0.01"""), p)
    conn.execute(text("""
        INSERT INTO rating (election_id, source, tps_id, indicators, rated_on)
        SELECT :e, 'bawaslu', t.id, ind, DATE '2024-02-05' + (random() * 11)::int
        FROM tps t CROSS JOIN LATERAL (
          SELECT jsonb_agg(i) AS ind FROM unnest(CAST(:ind AS text[])) i
          WHERE random() < 0.35 + 0 * t.id) s
        WHERE t.election_id = :e AND random() < 0.15 AND s.ind IS NOT NULL"""), p)
    conn.execute(text("""
        INSERT INTO rating (election_id, source, kelurahan_kode, kelas, indicators, rated_on)
        SELECT :e, src, k.kec || '.' || k.nomor, kelas, ind, DATE '2024-01-25' + (random() * 25)::int
        FROM syn_kel k CROSS JOIN LATERAL (
          SELECT CASE WHEN x < 0.3 THEN 'kpu' WHEN x < 0.8 THEN 'bawaslu' ELSE 'polri' END AS src,
                 CASE WHEN x < 0.05 THEN 'khusus' WHEN x < 0.3 THEN 'rawan'
                      WHEN x < 0.55 THEN NULL WHEN x < 0.8 THEN 'sangat_rawan'
                      ELSE 'rawan' END AS kelas,
                 CASE WHEN x BETWEEN 0.3 AND 0.7
                      THEN jsonb_build_array('politik_uang', 'dpt_tms', 'netralitas_asn')
                      ELSE '[]'::jsonb END AS ind
          FROM (SELECT random() + 0 * k.g AS x) r) s
        WHERE random() < 0.06"""), p)
    # incidents around random TPS: 0-800 m away, 0-48 h before as_of (some after), any status
    conn.execute(text("""
        INSERT INTO incident (id, election_id, category, severity, occurred_at, status, geom,
                              content_hash)
        SELECT gen_random_uuid(), :e,
               (ARRAY['bentrok_massa', 'intimidasi', 'politik_uang', 'perusakan_apk'])[1 + (random() * 3)::int],
               (ARRAY['ringan', 'sedang', 'berat'])[1 + (random() * 2)::int],
               CAST(:as_of AS timestamptz) - make_interval(secs => random() * 180000 - 7200),
               (ARRAY['verified', 'verified', 'verified', 'reported', 'resolved', 'rejected'])[1 + (random() * 5)::int],
               ST_Project(t.geom::geography, random() * 800, random() * 2 * pi())::geometry,
               md5(random()::text)
        FROM tps t WHERE t.election_id = :e AND random() < :inc"""), p)
    conn.execute(text("""
        INSERT INTO tps_readiness (tps_id, state)
        SELECT id, (ARRAY['siap', 'siap', 'siap', 'siap', 'sebagian', 'belum'])[1 + (random() * 5)::int]
        FROM tps WHERE election_id = :e"""), p)
    # personnel planned to the kurang rawan pattern (2-4-8): Linmas 2 per TPS, Polri
    # 2 * ceil(n/4) per kelurahan, plus or minus a little; ``short`` of the kelurahan clearly short
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, tps_id, count)
        SELECT :e, 'linmas', 'tps', id,
               CASE WHEN abs(hashtext(kelurahan_kode || :seed)::bigint) % 1000 < :short * 1000
                    THEN (random() * 2)::int ELSE 2 END
        FROM tps WHERE election_id = :e"""), p)
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, tps_id, count)
        SELECT :e, 'polri', 'tps', id, 1 FROM tps WHERE election_id = :e AND random() < 0.02"""), p)
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode, count)
        SELECT :e, a, 'kelurahan', k.kec || '.' || k.nomor,
               CASE WHEN a = 'tni' THEN (random() * 3)::int
                    WHEN random() < :short THEN (random() * (:n_tps + 3) / 4)::int
                    ELSE 2 * ((:n_tps + 3) / 4) + (random() * 3)::int END
        FROM syn_kel k CROSS JOIN unnest(ARRAY['polri', 'tni']) a"""), p)
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, kecamatan_kode, count)
        SELECT :e, a, 'reserve', kec, (random() * 12)::int
        FROM (SELECT DISTINCT kec FROM syn_kel) k CROSS JOIN unnest(ARRAY['polri', 'linmas']) a"""), p)
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, count)
        VALUES (:e, 'polri', 'reserve', 40)"""), p)
    for table in ("rating", "incident", "personnel_assignment", "tps_readiness"):
        conn.execute(text(f"ANALYZE {table}"))
    return eid


# ---------------------------------------------------------------------------- helpers

def snapshot(conn: Connection, eid: int) -> dict:
    risk = {r[0]: tuple(r[1:]) for r in conn.execute(text("""
        SELECT t.kode, r.kelas, r.kelas_polri, r.kelas_kpu, r.kelas_bawaslu, r.kelas_kelurahan,
               r.escalated, r.disagree, r.reasons
        FROM tps_risk r JOIN tps t ON t.id = r.tps_id WHERE r.election_id = :e"""), {"e": eid})}
    gap = {r[0]: tuple(r[1:]) for r in conn.execute(text("""
        SELECT kelurahan_kode, kecamatan_kode, n_tps, n_by_class, polri_required,
               linmas_required, polri_assigned, linmas_assigned, tni_assigned, polri_gap,
               linmas_gap, not_ready, incidents_recent, reasons
        FROM kelurahan_gap WHERE election_id = :e"""), {"e": eid})}
    sug = [tuple(r) for r in conn.execute(text("""
        SELECT rank, kelurahan_kode, agency, count, from_kind, from_kelurahan_kode, from_unit,
               distance_m, required, assigned, gap, move_text, reasons
        FROM suggestion WHERE election_id = :e ORDER BY rank, id"""), {"e": eid})]
    run = tuple(conn.execute(text("SELECT as_of, pattern_set_id FROM analysis_run "
                                  "WHERE election_id = :e"), {"e": eid}).one())
    return {"tps_risk": risk, "kelurahan_gap": gap, "suggestion": sug, "analysis_run": run}


def both(engine, eid: int, as_of: dt.datetime, rules=None, setup=None) -> tuple[dict, dict]:
    """(Python snapshot, SQL snapshot), each recomputed in a transaction rolled back."""
    out = []
    for run in (recompute, recompute_sql):
        with engine.connect() as conn, conn.begin() as trans:
            if setup:
                setup(conn)
            result = run(conn, eid, as_of=as_of, rules=rules)
            out.append((result, snapshot(conn, eid)))
            trans.rollback()
    (r_py, s_py), (r_sql, s_sql) = out
    assert r_sql == r_py
    return s_py, s_sql


def assert_same(s_py: dict, s_sql: dict) -> None:
    for table in ("tps_risk", "kelurahan_gap", "analysis_run"):
        a, b = s_py[table], s_sql[table]
        if isinstance(a, dict):
            assert sorted(b) == sorted(a), table
            wrong = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
            assert not wrong, f"{table}: {len(wrong)} rows differ, e.g. {next(iter(wrong.items()))}"
        else:
            assert b == a, table
    assert s_sql["suggestion"] == s_py["suggestion"]


# ---------------------------------------------------------------------------- the demo

@pytest.mark.parametrize("as_of", [
    DEMO_AS_OF,                                           # the demo's voting morning
    dt.datetime(2024, 2, 14, 1, 0, tzinfo=WITA),          # more incidents in the window
    dt.datetime(2024, 2, 13, 12, 0, tzinfo=WITA),         # fewer, some not yet reported
    dt.datetime(2024, 2, 15, 12, 0, tzinfo=WITA),         # none left in the window
    dt.datetime(2024, 1, 25, 12, 0, tzinfo=WITA),         # most ratings not given yet
], ids=["demo", "night", "day-before", "after", "january"])
def test_demo_sql_equals_python(engine, demo, as_of):
    s_py, s_sql = both(engine, demo, as_of)
    assert_same(s_py, s_sql)
    assert len(s_sql["tps_risk"]) == 1248 and len(s_sql["kelurahan_gap"]) == 50


def test_the_demo_times_differ_in_escalation(engine, demo):
    def escalated(as_of):
        return {k for k, v in both(engine, demo, as_of)[1]["tps_risk"].items() if v[5]}
    morning, day_before = escalated(DEMO_AS_OF), escalated(dt.datetime(2024, 2, 13, 12, 0, tzinfo=WITA))
    assert morning and day_before and morning != day_before


def test_demo_rows_say_why_in_bahasa_indonesia(engine, demo):
    s_sql = both(engine, demo, DEMO_AS_OF)[1]
    reasons = [r for v in s_sql["tps_risk"].values() for r in v[7]]
    assert any(r.startswith("Polri: ") for r in reasons)
    assert any(r.startswith("Eskalasi: kejadian ") for r in reasons)
    assert any(r.startswith("Naik dari ") for r in reasons)
    assert any(r.startswith("Beda penilaian: ") for r in reasons)
    assert s_sql["suggestion"] and all(s[12] for s in s_sql["suggestion"])


def test_tni_counting_as_polri_and_other_rules_files_agree(engine, demo):
    raw = _rules_dict()
    raw["gap"]["tni_counts_as_polri"] = True
    raw["escalation"].update(steps=2, radius_m=900, window_hours=40, min_severity="ringan",
                             statuses=["verified", "reported"])
    raw["sources"]["bawaslu"]["indicator_counts"] = [{"min": 1, "class": "rawan"},
                                                     {"min": 2, "class": "sangat_rawan"}]
    s_py, s_sql = both(engine, demo, DEMO_AS_OF, rules=rules_from_dict(raw))
    assert_same(s_py, s_sql)


# ---------------------------------------------------------------------------- synthetic

@pytest.mark.parametrize("as_of", [DEMO_AS_OF, dt.datetime(2024, 2, 13, 6, 0, tzinfo=WITA)],
                         ids=["morning", "day-before"])
def test_synthetic_sql_equals_python(engine, synthetic, as_of):
    s_py, s_sql = both(engine, synthetic, as_of)
    assert_same(s_py, s_sql)
    risk = s_sql["tps_risk"].values()
    assert len(risk) == 6 * 25 * 8
    assert sum(v[5] for v in risk) and sum(v[6] for v in risk)     # escalated, disagree
    assert any(v[4] for v in risk) and any(v[0] == "khusus" for v in risk)
    moves = s_sql["suggestion"]
    assert {m[4] for m in moves} >= {"kelurahan", "polsek_reserve"}


def test_synthetic_with_a_donor_distance_limit_and_another_order(engine, synthetic):
    raw = _rules_dict()
    raw["suggest"] = {"max_distance_m": 3000,
                      "order": ["kelurahan_other_kecamatan", "polresta_reserve",
                                "kelurahan_same_kecamatan", "polsek_reserve"]}
    s_py, s_sql = both(engine, synthetic, DEMO_AS_OF, rules=rules_from_dict(raw))
    assert_same(s_py, s_sql)
    assert all(m[7] is None or m[7] <= 3000 for m in s_sql["suggestion"])


# ---------------------------------------------------------------------------- edge cases

KEL, KEC = "52.99.01.1001", "52.99.01"


def _rules_dict() -> dict:
    import tomllib

    from gisdesk.analysis.rules import DEFAULT_RULES_FILE
    return tomllib.loads(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))


def _tiny_world(conn: Connection, ratings: list[tuple], kel_ratings: list[tuple] = ()) -> int:
    """One kelurahan with TPS 001-004 on a line at lat -8.5, 1.1 km apart; ``ratings``:
    (tps nomor, source, kelas, rated_on)."""
    conn.execute(text("""
        INSERT INTO kecamatan (kode, nama, geom) VALUES
          (:kec, 'Uji', ST_Multi(ST_MakeEnvelope(117.0, -8.51, 117.05, -8.49, 4326)))"""),
        {"kel": KEL, "kec": KEC})
    conn.execute(text("""
        INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) VALUES
          (:kel, 'Kel Uji', :kec, ST_Multi(ST_MakeEnvelope(117.0, -8.51, 117.05, -8.49, 4326)))"""),
        {"kel": KEL, "kec": KEC})
    eid = conn.execute(text("""
        INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps)
        VALUES ('uji-sql', 'Uji', 'pemilu', '2024-02-14', 300) RETURNING id""")).scalar_one()
    for n in range(1, 5):
        conn.execute(text("""
            INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
            VALUES (:k || '-00' || :n, :e, :k, :n, 200, ST_Point(116.995 + 0.01 * :n, -8.5, 4326))"""),
            {"k": KEL, "e": eid, "n": n})
    for nomor, source, kelas, day in ratings:
        conn.execute(text("""
            INSERT INTO rating (election_id, source, tps_id, kelas, rated_on)
            SELECT :e, :s, id, :c, :d FROM tps WHERE election_id = :e AND nomor = :n"""),
            {"e": eid, "s": source, "c": kelas, "d": day, "n": nomor})
    for source, kelas, day in kel_ratings:
        conn.execute(text("INSERT INTO rating (election_id, source, kelurahan_kode, kelas, rated_on) "
                          "VALUES (:e, :s, :k, :c, :d)"),
                     {"e": eid, "s": source, "k": KEL, "c": kelas, "d": day})
    return eid


def _incident(conn: Connection, eid: int, nomor: int, metres: float, at: dt.datetime,
              severity: str = "sedang", status: str = "verified") -> float:
    """An incident ``metres`` due north of TPS ``nomor`` (geodesic); returns the distance
    PostGIS computes between the stored points."""
    iid = uuid.uuid4()
    conn.execute(text("""
        INSERT INTO incident (id, election_id, category, severity, occurred_at, status, geom,
                              content_hash)
        SELECT :id, :e, 'bentrok_massa', :sev, :at, :st,
               ST_Project(geom::geography, :m, 0)::geometry, 'x'
        FROM tps WHERE election_id = :e AND nomor = :n"""),
        {"id": iid, "e": eid, "sev": severity, "at": at, "st": status, "m": metres, "n": nomor})
    return conn.execute(text("""
        SELECT ST_Distance(i.geom::geography, t.geom::geography) FROM incident i, tps t
        WHERE i.id = :id AND t.election_id = :e AND t.nomor = :n"""),
        {"id": iid, "e": eid, "n": nomor}).scalar_one()


def _both_edge(engine, setup, as_of=DEMO_AS_OF, rules=None) -> tuple[dict, dict]:
    """(Python, SQL) snapshots of a tiny world built by ``setup(conn) -> election id`` (built
    again in each rolled-back transaction)."""
    out = []
    for run in (recompute, recompute_sql):
        with engine.connect() as conn, conn.begin() as trans:
            eid = setup(conn)
            run(conn, eid, as_of=as_of, rules=rules)
            out.append(snapshot(conn, eid))
            trans.rollback()
    return out[0], out[1]


def _edge(engine, setup, as_of=DEMO_AS_OF, rules=None) -> dict:
    """Both paths on a tiny world; they must agree; the SQL snapshot."""
    s_py, s_sql = _both_edge(engine, setup, as_of, rules)
    assert_same(s_py, s_sql)
    return s_sql


def _kelas(snap: dict) -> dict[int, tuple]:
    """TPS nomor -> (kelas, escalated, reasons)."""
    return {int(k[-3:]): (v[0], v[5], v[7]) for k, v in snap["tps_risk"].items()}


def test_incident_exactly_24_h_before_and_exactly_at_the_radius_counts(engine):
    distance = {}

    def setup(conn):
        eid = _tiny_world(conn, [(n, "polri", "rawan", "2024-02-01") for n in range(1, 5)])
        distance[1] = _incident(conn, eid, 1, 500.0, DEMO_AS_OF - dt.timedelta(hours=24))
        distance[2] = _incident(conn, eid, 2, 400.0,
                                DEMO_AS_OF - dt.timedelta(hours=24, microseconds=1))
        distance[3] = _incident(conn, eid, 3, 500.5, DEMO_AS_OF - dt.timedelta(hours=1))
        _incident(conn, eid, 4, 100.0, DEMO_AS_OF)                     # exactly at as_of
        return eid

    s_py, s_sql = _both_edge(engine, setup)
    assert distance[1] == 500.0 and distance[3] > 500.0                # ST_Distance, geography
    snap = _kelas(s_sql)
    assert snap[1][:2] == ("sangat_rawan", True)                       # 24 h 0 s, 500 m
    assert snap[1][2][1] == "Eskalasi: kejadian sedang 'bentrok massa' 500 m, 13-02-2024 10:00 WITA"
    assert snap[2][:2] == ("rawan", False)                             # 1 µs too early
    assert snap[3][:2] == ("rawan", False)                             # 50 cm too far
    assert snap[4][:2] == ("sangat_rawan", True)                       # at as_of
    assert snap[4][2][1] == "Eskalasi: kejadian sedang 'bentrok massa' 100 m, 14-02-2024 10:00 WITA"
    # The Python path agrees everywhere except at exactly 500 m: its index prefilter
    # ST_DWithin(geography, 500) is false where ST_Distance is exactly 500 (PostGIS 3.3), so
    # analysis_spec._incidents_near drops the incident before the inclusive rule sees it.
    py = _kelas(s_py)
    assert {n: py[n] for n in (2, 3, 4)} == {n: snap[n] for n in (2, 3, 4)}
    assert py[1][:2] in {("sangat_rawan", True), ("rawan", False)}
    # 1 mm less than the stored distance: both paths count it
    raw = _rules_dict()
    raw["escalation"]["radius_m"] = 499.999
    s_py, s_sql = _both_edge(engine, setup, rules=rules_from_dict(raw))
    assert_same(s_py, s_sql)
    assert _kelas(s_sql)[1][:2] == ("rawan", False)


def test_the_latest_rating_wins_and_the_same_day_the_higher(engine):
    def setup(conn):
        return _tiny_world(conn, [
            (1, "polri", "sangat_rawan", "2024-02-01"), (1, "polri", "kurang_rawan", "2024-02-05"),
            (2, "polri", "rawan", "2024-02-05"), (2, "polri", "sangat_rawan", "2024-02-05"),
            (2, "polri", "kurang_rawan", "2024-02-05"),
            (3, "kpu", "rawan", "2024-02-01"), (3, "kpu", "sangat_rawan", "2024-02-15"),  # later
            (4, "polri", "rawan", "2024-02-14")])           # given on the day of as_of: counts

    snap = _kelas(_edge(engine, setup))
    assert snap[1][0] == "kurang_rawan"
    assert snap[2][0] == "sangat_rawan"
    assert snap[3][0] == "rawan"
    assert snap[4][0] == "rawan"
    # a rating dated the day after as_of does not count yet
    early = _kelas(_edge(engine, setup, as_of=dt.datetime(2024, 2, 13, 23, 59, tzinfo=WITA)))
    assert early[4][0] == "kurang_rawan" and early[4][2] == ["Tidak ada penilaian: dianggap kurang rawan"]


def test_khusus_is_never_lowered_nor_escalated_and_ignored_for_a_kelurahan(engine):
    def setup(conn):
        eid = _tiny_world(conn, [(1, "polri", "khusus", "2024-02-01"),
                                 (1, "kpu", "sangat_rawan", "2024-02-03"),
                                 (2, "polri", "kurang_rawan", "2024-02-01"),
                                 (2, "kpu", "khusus", "2024-02-01")],
                          kel_ratings=[("kpu", "khusus", "2024-02-01"),
                                       ("bawaslu", "rawan", "2024-02-01")])
        for n in (1, 2, 3):
            _incident(conn, eid, n, 50.0, DEMO_AS_OF - dt.timedelta(hours=2), severity="berat")
        return eid

    snap = _edge(engine, setup)
    k = _kelas(snap)
    assert k[1][:2] == ("khusus", False) and k[2][:2] == ("khusus", False)
    assert any("kelas tidak dinaikkan" in r for r in k[1][2])
    assert "Kelurahan dinilai khusus oleh KPU: kelas ini hanya berlaku per TPS, diabaikan" in k[3][2]
    assert k[3][:2] == ("sangat_rawan", True)                          # kelurahan rawan + 1
    assert k[4][:2] == ("rawan", False)                                # incidents 1.1 km away
    row = snap["tps_risk"][f"{KEL}-003"]
    assert row[4] == "rawan"                                           # kelas_kelurahan


def test_a_class_without_a_pattern_fails_like_python_and_keeps_the_old_results(engine, demo):
    from gisdesk.errors import ConfigError
    raw = _rules_dict()
    with engine.connect() as conn, conn.begin() as trans:
        recompute_sql(conn, demo, as_of=DEMO_AS_OF)
        before = snapshot(conn, demo)
        # an election-specific pattern set without khusus, in force from January
        sid = conn.execute(text("""
            INSERT INTO security_pattern_set (election_id, nama, effective_from)
            VALUES (:e, 'tanpa khusus', '2024-01-15') RETURNING id"""), {"e": demo}).scalar_one()
        conn.execute(text("""
            INSERT INTO security_pattern (set_id, kelas, polri, per_tps, linmas) VALUES
              (:s, 'kurang_rawan', 2, 4, 8), (:s, 'rawan', 2, 2, 4), (:s, 'sangat_rawan', 2, 1, 2)"""),
            {"s": sid})
        for run in (recompute, recompute_sql):
            with pytest.raises(ConfigError) as err:
                run(conn, demo, as_of=DEMO_AS_OF, rules=rules_from_dict(raw))
            assert "khusus" in err.value.message
        assert snapshot(conn, demo) == before
        trans.rollback()


def test_default_rules_are_the_packaged_ones(engine, demo):
    with engine.connect() as conn, conn.begin() as trans:
        a = recompute_sql(conn, demo, as_of=DEMO_AS_OF)
        b = recompute_sql(conn, demo, as_of=DEMO_AS_OF, rules=load_rules())
        trans.rollback()
    assert a == b and a.n_tps == 1248


def test_a_time_without_a_zone_is_refused_before_anything_is_written(engine, demo):
    from gisdesk.analysis.refresh import refresh
    from gisdesk.errors import InputRejected
    with engine.connect() as conn, conn.begin() as trans:
        with pytest.raises(InputRejected) as err:
            refresh(conn, demo, as_of=dt.datetime(2024, 2, 14, 10, 0))
        assert err.value.field == "as_of"
        assert conn.execute(text("SELECT count(*) FROM analysis_run WHERE election_id = :e"),
                            {"e": demo}).scalar_one() == 0
        trans.rollback()


def test_a_donor_beyond_25_km_is_used_without_a_distance(engine):
    def setup(conn):
        eid = _tiny_world(conn, [(n, "polri", "rawan", "2024-02-01") for n in range(1, 5)])
        far, far_kec = "52.99.02.1001", "52.99.02"
        conn.execute(text("""
            INSERT INTO kecamatan (kode, nama, geom)
            VALUES (:kec, 'Jauh', ST_Multi(ST_MakeEnvelope(117.3, -8.51, 117.31, -8.49, 4326)))"""),
            {"kec": far_kec})
        conn.execute(text("""
            INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom)
            VALUES (:k, 'Kel Jauh', :kec, ST_Multi(ST_MakeEnvelope(117.3, -8.51, 117.31, -8.49, 4326)))"""),
            {"k": far, "kec": far_kec})
        conn.execute(text("""
            INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
            VALUES (:k || '-001', :e, :k, 1, 200, ST_Point(117.305, -8.5, 4326))"""),
            {"k": far, "e": eid})
        conn.execute(text("""
            INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode, count)
            VALUES (:e, 'polri', 'kelurahan', :k, 10), (:e, 'linmas', 'kelurahan', :k, 2)"""),
            {"e": eid, "k": far})
        return eid

    moves = [(m[1], m[2], m[3], m[4], m[5], m[7], m[11])
             for m in _edge(engine, setup)["suggestion"]]
    assert (KEL, "polri", 4, "kelurahan", "52.99.02.1001", None,
            "4 Polri dari surplus Kel Jauh (jarak tidak diketahui, kecamatan lain)") in moves


@pytest.mark.parametrize("first", [recompute, recompute_sql], ids=["spec", "refresh"])
def test_recomputing_over_earlier_results_gives_the_fresh_results(engine, demo, first):
    """refresh upserts (rows that did not change are not rewritten): over the results of
    another time, of either, it must leave exactly what a fresh recompute leaves."""
    night = dt.datetime(2024, 2, 14, 1, 0, tzinfo=WITA)
    fresh = both(engine, demo, DEMO_AS_OF)[0]
    with engine.connect() as conn, conn.begin() as trans:
        first(conn, demo, as_of=night)
        recompute_sql(conn, demo, as_of=DEMO_AS_OF)
        again = snapshot(conn, demo)
        trans.rollback()
    assert_same(fresh, again)


def test_nearest_donors_fetched_one_at_a_time_and_widened_give_the_same_plan(engine, synthetic,
                                                                          monkeypatch):
    """KNN lists cut off after 1 donor: walks that reach the end are widened until none
    does, and the plan is the one every distance gives."""
    from gisdesk.analysis import plan
    widened = []
    real = plan._Donors.widen

    def spy(self, ran_out):
        widened.append(real(self, ran_out))
        return widened[-1]
    monkeypatch.setattr(plan._Donors, "FIRST_K", 1)
    monkeypatch.setattr(plan._Donors, "widen", spy)
    s_py, s_sql = both(engine, synthetic, DEMO_AS_OF)
    assert_same(s_py, s_sql)
    assert any(widened) and not widened[-1]
