"""Ratings and personnel files queue what they touched, as the single writes do (issue 11):
a TPS rating -> its kelurahan; a kelurahan rating -> that kelurahan; personnel on a TPS or
kelurahan -> that kelurahan; a Polsek reserve -> the kelurahan of its kecamatan. The worker's
catch-up of that scope then leaves the same results as a full recompute, row by row."""
from __future__ import annotations

from sqlalchemy import text

from bulk.conftest import write_csv
from gisdesk.analysis import load_rules
from gisdesk.analysis.catchup import catch_up, drain, rules_sha256
from gisdesk.analysis.refresh import refresh
from gisdesk.ingest.write_personnel import import_personnel
from gisdesk.ingest.write_ratings import import_ratings

RULES = load_rules()


def _queued(engine) -> list:
    """The queue's rows as (kelurahan codes or None for 'everything', reason)."""
    with engine.connect() as conn:
        return [(None if r[0] is None else sorted(r[0]), r[1]) for r in conn.execute(text(
            "SELECT kelurahan_kode, reason FROM analysis_queue ORDER BY id"))]


def _results(conn, eid: int) -> dict:
    def rows(sql):
        return sorted(tuple(str(v) for v in r) for r in conn.execute(text(sql), {"e": eid}))
    return {
        "tps_risk": rows("SELECT tps_id, kelas, kelas_polri, kelas_kpu, kelas_bawaslu, "
                         "kelas_kelurahan, escalated, disagree, reasons FROM tps_risk "
                         "WHERE election_id = :e"),
        "kelurahan_gap": rows("SELECT kelurahan_kode, n_tps, n_by_class, polri_required, "
                              "polri_assigned, polri_gap, linmas_required, linmas_assigned, "
                              "linmas_gap, tni_assigned, not_ready, reasons FROM kelurahan_gap "
                              "WHERE election_id = :e"),
        "kecamatan_gap": rows("SELECT * FROM kecamatan_gap WHERE election_id = :e"),
        "kabkota_gap": rows("SELECT * FROM kabkota_gap WHERE election_id = :e"),
        "suggestion": rows("SELECT kabkota_kode, rank, kelurahan_kode, agency, count, "
                           "from_kind, from_kelurahan_kode, from_unit, distance_m, move_text, "
                           "reasons FROM suggestion WHERE election_id = :e"),
    }


def _incremental_equals_full(engine) -> None:
    """Catch up on the queue (the worker's step), then compare with a full recompute."""
    with engine.connect() as conn, conn.begin() as outer:
        eid = conn.execute(text("SELECT id FROM election WHERE active")).scalar_one()
        done = catch_up(conn, eid, rules=RULES, rules_hash=rules_sha256(None))
        assert done is not None and done.kelurahan is not None     # a scoped refresh
        incremental = _results(conn, eid)
        refresh(conn, eid, as_of=done.as_of, kelurahan=None, rules=RULES)
        whole = _results(conn, eid)
        outer.rollback()
    for table, rows in incremental.items():
        assert rows == whole[table], table


def _empty_queue(engine) -> None:
    """The results brought up to date (the rules file's hash recorded), nothing queued."""
    with engine.connect() as conn:
        eid = conn.execute(text("SELECT id FROM election WHERE active")).scalar_one()
    drain(engine, [eid])
    assert _queued(engine) == []


def test_a_ratings_file_of_one_kelurahan_queues_that_kelurahan_only(engine, demo, tmp_path):
    _empty_queue(engine)
    t0 = demo["tps"][0]
    kel = t0.split("-")[0]
    path = write_csv(tmp_path / "polri.csv", f"""
kode_tps;kode;kelas;tanggal
{t0};;sangat rawan;12/02/2024
;{kel};rawan;12/02/2024
""")
    result = import_ratings(engine, path, actor="test", source="polri")
    assert result.counts["inserted"] == 2
    queued = _queued(engine)
    assert queued and all(codes == [kel] for codes, _ in queued), queued
    assert {reason for _, reason in queued} == {"import.ratings"}
    _incremental_equals_full(engine)


def test_a_personnel_file_queues_its_kelurahan_and_a_reserve_its_kecamatan(engine, demo,
                                                                         tmp_path):
    _empty_queue(engine)
    t0, kel = demo["tps"][0], demo["kelurahan"][5]
    with engine.connect() as conn:
        kec = conn.execute(text("SELECT kecamatan_kode FROM kelurahan WHERE kode = :k"),
                           {"k": kel}).scalar_one()
        in_kec = conn.execute(text("SELECT DISTINCT kelurahan_kode FROM tps "
                                   "WHERE kelurahan_kode LIKE :p ORDER BY 1"),
                              {"p": kec + ".%"}).scalars().all()
    path = write_csv(tmp_path / "personel.csv", f"""
instansi;sasaran;kode_kecamatan;jumlah;satuan
polri;{t0};;9;
polri;{kel};;17;
""")
    import_personnel(engine, path, actor="test")
    assert sorted(set(c for codes, _ in _queued(engine) for c in codes)) == \
        sorted({t0.split("-")[0], kel})
    _incremental_equals_full(engine)

    _empty_queue(engine)
    path = write_csv(tmp_path / "cadangan.csv", f"""
instansi;sasaran;kode_kecamatan;jumlah;satuan
polri;cadangan;{kec};21;
""")
    import_personnel(engine, path, actor="test")
    queued = _queued(engine)
    assert queued and all(codes is not None for codes, _ in queued)     # never 'everything'
    assert sorted(set(c for codes, _ in queued for c in codes)) == in_kec
    _incremental_equals_full(engine)


def test_a_file_that_changes_nothing_queues_nothing(engine, demo, tmp_path):
    t0 = demo["tps"][0]
    path = write_csv(tmp_path / "linmas.csv", f"instansi;sasaran;jumlah\nlinmas;{t0};4\n")
    import_personnel(engine, path, actor="test")
    _empty_queue(engine)
    import_personnel(engine, path, actor="test")                   # the same file again
    assert _queued(engine) == []
