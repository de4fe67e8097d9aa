"""load_demo on a real PostGIS database (commits: a fresh database for this module)."""
from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import text

from gisdesk import audit
from gisdesk.accounts import authenticate
from gisdesk.demo.generate import DEFAULT_AS_OF, generate, tps_digest
from gisdesk.demo.load import load_demo, read_kelurahan
from gisdesk.entry.incidents import submit
from gisdesk.entry.readiness import derive_state
from gisdesk.entry.taxonomy import load_taxonomy
from gisdesk.errors import Conflict

TABLES = ("election", "tps", "tps_readiness", "tps_readiness_history", "rating", "facility",
          "incident", "personnel_assignment", "users", "audit_log")


@pytest.fixture(scope="module")
def loaded(engine, insert_mataram):
    with engine.begin() as conn:
        insert_mataram(conn)
    with engine.connect() as conn:
        counts = load_demo(conn)
    return counts


@pytest.fixture
def db(engine, loaded):
    with engine.connect() as conn:
        yield conn


def scalar(db, sql, **params):
    return db.execute(text(sql), params).scalar_one()


def table_counts(db) -> dict:
    return {t: scalar(db, f"SELECT count(*) FROM {t}") for t in TABLES}


def test_demo_election_is_created_active_and_marked_demo(db, loaded):
    row = db.execute(text("SELECT * FROM election WHERE kode = 'pemilu-2024-mataram'")
                     ).mappings().one()
    assert row["nama"] == "Pemilu 2024 Kota Mataram (DATA DEMO)"
    assert (row["kind"], row["voting_date"], row["campaign_start"]) == \
        ("pemilu", dt.date(2024, 2, 14), dt.date(2023, 11, 28))
    assert row["max_voters_per_tps"] == 300 and row["wilayah_kode"] == "52.71"
    assert row["active"] and row["is_demo"]
    assert row["pinned_as_of"] == DEFAULT_AS_OF          # analysis runs at voting morning
    pairs = db.execute(text("""SELECT c.kode, count(*) FROM contest c
                               JOIN candidate p ON p.contest_id = c.id
                               WHERE c.election_id = :e GROUP BY c.kode"""), {"e": row["id"]}).all()
    assert pairs == [("ppwp", 3)]
    assert loaded["created"] and loaded["election_id"] == row["id"]


def test_1248_tps_with_dpt_near_the_city_total(db, loaded):
    assert scalar(db, "SELECT count(*) FROM tps") == 1248 == loaded["tps"]
    total = scalar(db, "SELECT sum(dpt) FROM tps")
    assert abs(total - 315_549) <= 0.005 * 315_549
    assert scalar(db, "SELECT max(dpt) FROM tps") <= 300
    assert scalar(db, "SELECT count(DISTINCT kelurahan_kode) FROM tps") == 50


def test_every_tps_lies_inside_its_own_kelurahan_and_no_other(db, loaded):
    outside = scalar(db, """
        SELECT count(*) FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode
        WHERE NOT ST_Contains(k.geom, t.geom)
           OR ST_Distance(ST_Boundary(k.geom)::geography, t.geom::geography) < 10""")
    assert outside == 0
    in_other = scalar(db, """
        SELECT count(*) FROM tps t JOIN kelurahan k
          ON k.kode <> t.kelurahan_kode AND ST_Intersects(k.geom, t.geom)""")
    assert in_other == 0


def test_one_lokasi_khusus_tps_in_selaparang_rated_khusus(db, loaded):
    rows = db.execute(text("""
        SELECT t.kode, t.alamat, r.kelas FROM tps t
        JOIN rating r ON r.tps_id = t.id AND r.source = 'polri' WHERE t.lokasi_khusus""")).all()
    assert len(rows) == 1
    kode, alamat, kelas = rows[0]
    assert kode.startswith("52.71.05.") and "Lapas Perempuan" in alamat and kelas == "khusus"


def test_polri_class_spread(db, loaded):
    by_class = dict(db.execute(text(
        "SELECT kelas, count(*) FROM rating WHERE source = 'polri' AND tps_id IS NOT NULL "
        "GROUP BY kelas")).all())
    assert sum(by_class.values()) == 1248
    assert by_class["kurang_rawan"] > 0.9 * 1248
    assert 0.01 * 1248 <= by_class["rawan"] <= 0.06 * 1248
    assert 1 <= by_class["sangat_rawan"] <= 8
    assert by_class["khusus"] == 1


def test_rawan_tps_cluster_in_a_few_kelurahan(db, loaded):
    per_kel = [n for (n,) in db.execute(text("""
        SELECT count(*) FROM rating r JOIN tps t ON t.id = r.tps_id
        WHERE r.source = 'polri' AND r.kelas IN ('rawan', 'sangat_rawan')
        GROUP BY t.kelurahan_kode ORDER BY 1 DESC""")).all()]
    assert sum(per_kel[:8]) >= 0.7 * sum(per_kel)


def test_kpu_disagrees_with_polri_on_some_tps(db, loaded):
    disagree = scalar(db, """
        SELECT count(*) FROM rating p JOIN rating k ON k.tps_id = p.tps_id
        WHERE p.source = 'polri' AND k.source = 'kpu' AND p.kelas <> k.kelas""")
    assert 3 <= disagree <= 60
    assert scalar(db, "SELECT count(*) FROM rating WHERE source = 'kpu'") < 1248


def test_bawaslu_indicator_sets(db, loaded):
    sizes = [n for (n,) in db.execute(text(
        "SELECT jsonb_array_length(indicators) FROM rating "
        "WHERE source = 'bawaslu' AND tps_id IS NOT NULL")).all()]
    assert len(sizes) < 0.3 * 1248                       # most TPS have none
    assert sum(1 for n in sizes if n <= 2) > 0.7 * len(sizes)
    assert 2 <= sum(1 for n in sizes if n >= 3) <= 40
    known = {"riwayat_kekerasan", "politik_uang", "netralitas_asn", "logistik_terlambat",
             "lokasi_sulit", "rawan_bencana", "dpt_tms", "listrik_internet"}
    used = {i for (i,) in db.execute(text(
        "SELECT DISTINCT jsonb_array_elements_text(indicators) FROM rating")).all()}
    assert used <= known


def test_ratings_dated_jan_feb_2024_and_some_on_kelurahan(db, loaded):
    lo, hi = db.execute(text("SELECT min(rated_on), max(rated_on) FROM rating")).one()
    assert dt.date(2024, 1, 1) <= lo and hi <= dt.date(2024, 2, 14)
    kel = db.execute(text("SELECT source, kelas FROM rating WHERE kelurahan_kode IS NOT NULL")
                     ).all()
    assert 1 <= len(kel) <= 4 and all(k == "rawan" for _, k in kel)


def test_facilities_per_kind(db, loaded):
    kinds = dict(db.execute(text("SELECT kind, count(*) FROM facility GROUP BY kind")).all())
    assert kinds == {"pps": 50, "ppk": 6, "puskesmas": 11, "polsek": 6, "polresta": 1,
                     "kpu": 1, "bawaslu": 1, "kodim": 1}
    polsek = {n for (n,) in db.execute(text("SELECT nama FROM facility WHERE kind = 'polsek'"))}
    assert polsek == {f"Polsek {k}" for k in ("Ampenan", "Mataram", "Cakranegara", "Sekarbela",
                                              "Selaparang", "Sandubaya")}
    assert scalar(db, "SELECT count(*) FROM facility WHERE kelurahan_kode IS NULL") == 0


def test_readiness_state_follows_the_entry_checklist(db, loaded):
    tax = load_taxonomy()
    rows = db.execute(text("SELECT state, items FROM tps_readiness")).all()
    assert all(set(items) == set(tax.readiness_keys) for _, items in rows)
    assert all(state == derive_state(items, tax) for state, items in rows)


def test_readiness_for_every_tps_with_history(db, loaded):
    states = dict(db.execute(text("SELECT state, count(*) FROM tps_readiness GROUP BY state")
                             ).all())
    assert sum(states.values()) == 1248
    assert states["siap"] > 0.8 * 1248 and states["sebagian"] > 0 and states["belum"] > 0
    assert scalar(db, "SELECT count(*) FROM tps_readiness_history") == 1248
    # a TPS that is not ready says which items are missing
    assert scalar(db, """
        SELECT count(*) FROM tps_readiness WHERE state <> 'siap'
        AND NOT EXISTS (SELECT 1 FROM jsonb_each(items) WHERE value = 'false')""") == 0
    # 'belum' concentrates: the two kelurahan with most hold most of them
    top = db.execute(text("""SELECT count(*) FROM tps_readiness r JOIN tps t ON t.id = r.tps_id
                             WHERE state = 'belum' GROUP BY t.kelurahan_kode ORDER BY 1 DESC
                             LIMIT 2""")).scalars().all()
    assert sum(top) >= 0.5 * states["belum"]


def test_personnel_short_in_some_kelurahan_surplus_in_others(db, loaded):
    rows = db.execute(text("""
        SELECT k.kode, count(t.id) FILTER (WHERE NOT t.lokasi_khusus) AS n,
               (SELECT sum(count) FROM personnel_assignment p WHERE p.agency = 'polri'
                  AND p.target = 'kelurahan' AND p.kelurahan_kode = k.kode) AS polri
        FROM kelurahan k JOIN tps t ON t.kelurahan_kode = k.kode GROUP BY k.kode""")).all()
    short = [k for k, n, polri in rows if polri < 2 * math.ceil(n / 4)]
    surplus = [k for k, n, polri in rows if polri > 2 * math.ceil(n / 4)]
    assert len(short) >= 3 and len(surplus) >= 2


def test_reserves_for_each_polsek_and_polresta(db, loaded):
    polsek = db.execute(text("""
        SELECT kecamatan_kode, unit, count FROM personnel_assignment
        WHERE target = 'reserve' AND agency = 'polri' AND kecamatan_kode IS NOT NULL""")).all()
    assert len(polsek) == 6 and all(8 <= c <= 15 and u.startswith("Polsek ") for _, u, c in polsek)
    city = db.execute(text("""
        SELECT unit, count FROM personnel_assignment
        WHERE target = 'reserve' AND kecamatan_kode IS NULL""")).all()
    assert city == [("Polresta Mataram", 60)]


def test_linmas_two_per_tps_with_some_gaps(db, loaded):
    per_tps = dict(db.execute(text("""
        SELECT coalesce(p.count, 0), count(*) FROM tps t LEFT JOIN personnel_assignment p
          ON p.tps_id = t.id AND p.agency = 'linmas' GROUP BY 1""")).all())
    assert per_tps[2] > 0.9 * 1248
    assert per_tps.get(0, 0) + per_tps.get(1, 0) > 0
    tni = db.execute(text("SELECT count(DISTINCT left(kelurahan_kode, 8)), sum(count) "
                          "FROM personnel_assignment WHERE agency = 'tni'")).one()
    assert tni[0] == 6 and tni[1] > 0


def test_incidents_near_tps_over_the_72_hours_before_voting(db, loaded):
    rows = db.execute(text("SELECT * FROM incident")).mappings().all()
    assert 30 <= len(rows) <= 50
    assert {r["status"] for r in rows} >= {"reported", "verified", "resolved", "rejected"}
    assert {r["severity"] for r in rows} == {"ringan", "sedang", "berat"}
    assert {r["category"] for r in rows} <= set(load_taxonomy().categories)
    for r in rows:
        assert DEFAULT_AS_OF - dt.timedelta(hours=72) <= r["occurred_at"] <= DEFAULT_AS_OF
        assert r["occurred_at"] <= r["reported_at"] <= DEFAULT_AS_OF
        assert r["kelurahan_kode"] is not None and r["tps_id"] is not None
        assert 40 <= r["tps_distance_m"] <= 410
        assert len(r["content_hash"]) == 64
    # the nearest TPS really is the nearest
    wrong = scalar(db, """
        SELECT count(*) FROM incident i WHERE EXISTS (
          SELECT 1 FROM tps t WHERE ST_Distance(t.geom::geography, i.geom::geography)
                                    < i.tps_distance_m - 0.01)""")
    assert wrong == 0


def test_verified_incidents_escalate_tps_in_hot_kelurahan(db, loaded):
    near = scalar(db, """
        SELECT count(DISTINCT i.id) FROM incident i JOIN tps t
          ON ST_DWithin(t.geom::geography, i.geom::geography, 500)
        WHERE i.status = 'verified' AND i.severity IN ('sedang', 'berat')
          AND i.occurred_at >= :as_of - interval '24 hours'""", as_of=DEFAULT_AS_OF)
    assert near >= 3


def test_demo_users_one_per_role_can_log_in(db, loaded):
    roles = dict(db.execute(text("SELECT username, role FROM users")).all())
    assert roles == {"admin": "admin", "supervisor": "supervisor", "koordinator": "viewer",
                     "perencana": "planner", "petugas": "desk_staff", "operator_kpu": "operator"}
    assert scalar(db, "SELECT agency FROM users WHERE username = 'operator_kpu'") == "kpu"
    assert authenticate(db, "perencana", "mataram2024") is not None
    db.rollback()


def test_same_seed_gives_the_same_tps_as_the_generator(db, loaded):
    rows = db.execute(text("SELECT kode, round(ST_X(geom)::numeric, 7), "
                           "round(ST_Y(geom)::numeric, 7), dpt FROM tps")).all()
    kel = read_kelurahan(db)
    same = generate(kel, seed=2024).tps
    other = generate(kel, seed=2025).tps
    assert tps_digest(rows) == tps_digest(zip(same.kode, same.lon, same.lat, same.dpt))
    assert tps_digest(rows) != tps_digest(zip(other.kode, other.lon, other.lat, other.dpt))
    db.rollback()


def test_loading_again_changes_nothing(engine, loaded):
    with engine.connect() as conn:
        before = table_counts(conn)
        conn.rollback()
        again = load_demo(conn, seed=99)
        after = table_counts(conn)
    assert after == before
    assert not again["created"] and again["users_created"] == 0
    assert {k: v for k, v in again.items() if k not in ("created", "users_created")} == \
        {k: v for k, v in loaded.items() if k not in ("created", "users_created", "seconds")}


def test_demo_load_is_audited_last_with_counts(db, loaded):
    last = db.execute(text("SELECT actor, action, target, detail FROM audit_log "
                           "ORDER BY id DESC LIMIT 1")).one()
    assert last.actor == "demo" and last.action == "demo.load"
    assert last.target == "pemilu-2024-mataram"
    assert last.detail["counts"]["tps"] == 1248 and last.detail["seed"] == 2024
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'demo.load'") == 1
    assert audit.verify_chain(db) == []


def test_a_demo_incident_sent_again_through_entry_is_a_repeat(db, loaded):
    row = db.execute(text("SELECT id, category, severity, description, occurred_at, "
                          "reporter_name, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                          "FROM incident ORDER BY id LIMIT 1")).mappings().one()
    payload = {**row, "id": str(row["id"]), "occurred_at": row["occurred_at"].isoformat()}
    created, report = submit(db, payload, tax=load_taxonomy(), reporter_id=None, actor="test")
    assert not created and report["id"] == str(row["id"])
    with pytest.raises(Conflict):
        submit(db, {**payload, "severity": "berat" if row["severity"] != "berat" else "ringan"},
               tax=load_taxonomy(), reporter_id=None, actor="test")
    db.rollback()
