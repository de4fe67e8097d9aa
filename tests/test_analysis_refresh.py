"""refresh() scoped to the kelurahan a write touched stores what a whole refresh stores.

On the analysed Mataram demo, inside transactions that are rolled back: after each kind of
write, a refresh of the touched kelurahan leaves tps_risk, kelurahan_gap, kecamatan_gap,
kabkota_gap and suggestion row by row as a whole refresh at the same as_of leaves them;
it re-plans only the kab/kota it touched (suggestions are planned and ranked per kab/kota),
and every refresh stores a new version.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from gisdesk.analysis.refresh import refresh

WITA = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.datetime(2024, 2, 14, 10, 0, tzinfo=WITA)
TABLES = {
    "tps_risk": "SELECT tps_id, kelas, kelas_polri, kelas_kpu, kelas_bawaslu, kelas_kelurahan, "
                "escalated, disagree, reasons FROM tps_risk WHERE election_id = :e",
    "kelurahan_gap": "SELECT * FROM kelurahan_gap WHERE election_id = :e",
    "kecamatan_gap": "SELECT * FROM kecamatan_gap WHERE election_id = :e",
    "kabkota_gap": "SELECT * FROM kabkota_gap WHERE election_id = :e",
    "suggestion": "SELECT kabkota_kode, rank, kelurahan_kode, agency, count, from_kind, "
                  "from_kelurahan_kode, from_unit, distance_m, required, assigned, gap, "
                  "move_text, reasons FROM suggestion WHERE election_id = :e",
}


@pytest.fixture
def demo(demo_engine):
    """(connection in a transaction rolled back at the end, demo election id)."""
    with demo_engine.connect() as conn, conn.begin() as trans:
        eid = conn.execute(text("SELECT id FROM election WHERE is_demo")).scalar_one()
        refresh(conn, eid, as_of=AS_OF)
        yield conn, eid
        trans.rollback()


def snapshot(conn, eid) -> dict:
    return {t: sorted((tuple(map(str, r)) for r in conn.execute(text(q), {"e": eid})))
            for t, q in TABLES.items()}


def scoped_equals_whole(conn, eid, kelurahan) -> dict:
    """Refresh ``kelurahan``, then the whole election: the two snapshots must be equal."""
    refresh(conn, eid, as_of=AS_OF, kelurahan=kelurahan)
    scoped = snapshot(conn, eid)
    refresh(conn, eid, as_of=AS_OF)
    whole = snapshot(conn, eid)
    for table in TABLES:
        assert scoped[table] == whole[table], table
    return whole


def _tps(conn, eid, n=0) -> dict:
    return dict(conn.execute(text(
        "SELECT t.id, t.kode, t.kelurahan_kode FROM tps t JOIN kelurahan_gap g "
        "ON g.kelurahan_kode = t.kelurahan_kode AND g.election_id = t.election_id "
        "WHERE t.election_id = :e ORDER BY g.polri_gap DESC, t.kode OFFSET :n LIMIT 1"),
        {"e": eid, "n": n}).mappings().one())


def test_a_readiness_change_refreshed_for_its_kelurahan_equals_a_whole_refresh(demo):
    conn, eid = demo
    tps = _tps(conn, eid)
    set_state = lambda state: conn.execute(text("""
        INSERT INTO tps_readiness (tps_id, state) VALUES (:t, :s)
        ON CONFLICT (tps_id) DO UPDATE SET state = :s"""), {"t": tps["id"], "s": state})
    not_ready = lambda: conn.execute(text(
        "SELECT not_ready FROM kelurahan_gap WHERE election_id = :e AND kelurahan_kode = :k"),
        {"e": eid, "k": tps["kelurahan_kode"]}).scalar_one()
    set_state("siap")
    refresh(conn, eid, as_of=AS_OF)
    before = not_ready()
    set_state("belum")
    scoped_equals_whole(conn, eid, {tps["kelurahan_kode"]})
    assert not_ready() == before + 1


def test_a_personnel_change_replans_its_kab_kota_like_a_whole_refresh(demo):
    conn, eid = demo
    tps = _tps(conn, eid, 40)
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode, count)
        VALUES (:e, 'polri', 'kelurahan', :k, 9), (:e, 'linmas', 'kelurahan', :k, 12)"""),
        {"e": eid, "k": tps["kelurahan_kode"]})
    before = snapshot(conn, eid)["suggestion"]
    whole = scoped_equals_whole(conn, eid, [tps["kelurahan_kode"]])
    assert whole["suggestion"] != before                         # the surplus is offered


def test_a_rating_and_an_incident_refreshed_for_the_kelurahan_within_the_radius(demo):
    conn, eid = demo
    tps = _tps(conn, eid, 7)
    conn.execute(text("INSERT INTO rating (election_id, source, tps_id, kelas, rated_on) "
                      "VALUES (:e, 'polri', :t, 'sangat_rawan', '2024-02-13')"),
                 {"e": eid, "t": tps["id"]})
    conn.execute(text("""
        INSERT INTO incident (id, election_id, category, severity, occurred_at, status, geom,
                              content_hash)
        SELECT :id, :e, 'bentrok_massa', 'berat', :at, 'verified', geom, 'x'
        FROM tps WHERE id = :t"""),
        {"id": uuid.uuid4(), "e": eid, "at": AS_OF - dt.timedelta(hours=1), "t": tps["id"]})
    # what the worker passes for an incident: the kelurahan of every TPS within the radius
    touched = conn.execute(text("""
        SELECT DISTINCT n.kelurahan_kode FROM tps t JOIN tps n ON n.election_id = t.election_id
          AND ST_DWithin(t.geom::geography, n.geom::geography, 500.001)
        WHERE t.id = :t"""), {"t": tps["id"]}).scalars().all()
    whole = scoped_equals_whole(conn, eid, touched)
    risk = next(r for r in whole["tps_risk"] if r[0] == str(tps["id"]))
    assert risk[1] == "sangat_rawan" and "WITA" in risk[8]       # absolute time in reasons


def test_a_scoped_refresh_keeps_the_plans_of_other_kab_kota_and_ranks_per_kab_kota(demo):
    conn, eid = demo
    _second_kabkota(conn, eid)
    refresh(conn, eid, as_of=AS_OF)
    ids = lambda kab: conn.execute(text(
        "SELECT array_agg(id ORDER BY id) FROM suggestion WHERE election_id = :e "
        "AND kabkota_kode = :k"), {"e": eid, "k": kab}).scalar_one()
    far_before, city_before = ids("52.01"), ids("52.71")
    assert far_before and city_before
    ranks = conn.execute(text("SELECT kabkota_kode, min(rank) FROM suggestion "
                              "WHERE election_id = :e GROUP BY 1 ORDER BY 1"), {"e": eid}).all()
    assert ranks == [("52.01", 1), ("52.71", 1)]
    city = _tps(conn, eid)["kelurahan_kode"]
    conn.execute(text("INSERT INTO personnel_assignment (election_id, agency, target, "
                      "kelurahan_kode, count) VALUES (:e, 'polri', 'kelurahan', :k, 1)"),
                 {"e": eid, "k": city})
    refresh(conn, eid, as_of=AS_OF, kelurahan=[city])
    assert ids("52.01") == far_before                            # not rewritten
    assert ids("52.71") != city_before                           # re-planned
    # no donor crosses a kab/kota border, and the far kab/kota uses its own Polresta
    crossing = conn.execute(text("SELECT count(*) FROM suggestion WHERE election_id = :e "
                                 "AND left(from_kelurahan_kode, 5) <> kabkota_kode"),
                            {"e": eid}).scalar_one()
    assert crossing == 0
    scoped_equals_whole(conn, eid, [city])


def test_every_refresh_stores_a_new_version_and_its_as_of(demo):
    conn, eid = demo
    run = lambda: conn.execute(text("SELECT version, as_of FROM analysis_run "
                                    "WHERE election_id = :e"), {"e": eid}).one()
    first = run()
    later = AS_OF + dt.timedelta(minutes=1)
    refresh(conn, eid, as_of=later, kelurahan=[_tps(conn, eid)["kelurahan_kode"]])
    second = run()
    refresh(conn, eid, as_of=later, kelurahan=[])               # nothing touched: still a version
    assert first.version < second.version < run().version
    assert second.as_of == later


def test_stored_aggregates_are_the_sums_of_their_kelurahan(demo):
    conn, eid = demo
    kec = conn.execute(text("""
        SELECT k.kecamatan_kode, k.polri_short, k.polri_surplus, k.linmas_short, k.n_tps,
               k.polri_reserve, s.short, s.surplus, s.lshort, s.n,
               (SELECT coalesce(sum(count), 0) FROM personnel_assignment a
                WHERE a.election_id = :e AND a.target = 'reserve' AND a.agency = 'polri'
                  AND a.kecamatan_kode = k.kecamatan_kode) AS reserve
        FROM kecamatan_gap k JOIN (
          SELECT kecamatan_kode, sum(greatest(polri_gap, 0)) AS short,
                 sum(greatest(-polri_gap, 0)) AS surplus,
                 sum(greatest(linmas_gap, 0)) AS lshort, sum(n_tps) AS n
          FROM kelurahan_gap WHERE election_id = :e GROUP BY 1) s USING (kecamatan_kode)
        WHERE k.election_id = :e"""), {"e": eid}).all()
    assert len(kec) == 6
    for r in kec:
        assert (r.polri_short, r.polri_surplus, r.linmas_short, r.n_tps, r.polri_reserve) == \
            (r.short, r.surplus, r.lshort, r.n, r.reserve)
    city = conn.execute(text("SELECT * FROM kabkota_gap WHERE election_id = :e"),
                        {"e": eid}).mappings().one()
    assert city["kabkota_kode"] == "52.71" and city["n_tps"] == 1248
    assert sum(city["n_by_class"].values()) == 1248
    assert city["polri_reserve_polresta"] == 60                  # the demo's Polresta reserve


def _second_kabkota(conn, eid) -> None:
    """A kab/kota 52.01 some 40 km west of Mataram: two kelurahan, one short of Polri, one
    with a surplus, and a Polresta-like reserve given to its kecamatan."""
    conn.execute(text("""
        INSERT INTO kecamatan (kode, nama, geom) VALUES
          ('52.01.01', 'Jauh', ST_Multi(ST_MakeEnvelope(115.70, -8.62, 115.72, -8.60, 4326)))"""))
    conn.execute(text("""
        INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) VALUES
          ('52.01.01.2001', 'Desa Satu', '52.01.01',
           ST_Multi(ST_MakeEnvelope(115.70, -8.62, 115.71, -8.60, 4326))),
          ('52.01.01.2002', 'Desa Dua', '52.01.01',
           ST_Multi(ST_MakeEnvelope(115.71, -8.62, 115.72, -8.60, 4326)))"""))
    conn.execute(text("""
        INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
        SELECT k || '-00' || n, :e, k, n, 200, ST_Point(x + 0.001 * n, -8.61, 4326)
        FROM (VALUES ('52.01.01.2001', 115.702), ('52.01.01.2002', 115.712)) v(k, x),
             generate_series(1, 4) n"""), {"e": eid})
    conn.execute(text("""
        INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode, count)
        VALUES (:e, 'polri', 'kelurahan', '52.01.01.2002', 9),
               (:e, 'linmas', 'kelurahan', '52.01.01.2001', 8),
               (:e, 'linmas', 'kelurahan', '52.01.01.2002', 8)"""), {"e": eid})


def test_readers_neither_wait_for_nor_see_a_refresh_before_it_commits(demo_engine):
    from gisdesk.maps import data
    with demo_engine.connect() as writer, writer.begin() as trans:
        eid = writer.execute(text("SELECT id FROM election WHERE is_demo")).scalar_one()
        refresh(writer, eid, as_of=AS_OF)
        trans.commit()
    with demo_engine.connect() as reader:
        version = lambda: reader.execute(text(
            "SELECT version FROM analysis_run WHERE election_id = :e"), {"e": eid}).scalar_one()
        before, totals = version(), data.summary(reader, eid)
        reader.commit()
        with demo_engine.connect() as writer, writer.begin() as trans:
            writer.execute(text("UPDATE personnel_assignment SET count = count + 5 "
                                "WHERE election_id = :e AND target = 'kelurahan'"), {"e": eid})
            refresh(writer, eid, as_of=AS_OF)               # whole, not committed yet
            # a reader that would wait for any lock fails at once instead
            reader.execute(text("SET lock_timeout = '50ms'"))
            assert version() == before
            assert data.summary(reader, eid) == totals
            assert len(data.gap_rows(reader, eid, limit=10)) == 10
            reader.commit()
            trans.rollback()
