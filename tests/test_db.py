"""The schema on a real PostGIS: constraints, the audit log's guarantees, seeded patterns."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from gisdesk.db.migrate import current_revision, head_revision


def test_database_is_migrated_to_head_with_postgis(engine):
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        assert c.execute(text("SELECT postgis_lib_version()")).scalar().startswith("3.")


def test_every_geometry_column_has_a_gist_index(engine):
    with engine.connect() as c:
        cols = c.execute(text("SELECT f_table_name, f_geometry_column FROM geometry_columns "
                              "WHERE f_table_schema = 'public'")).all()
        indexed = {r[0] for r in c.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"))}
    assert {t for t, _ in cols} >= {"kecamatan", "kelurahan", "tps", "incident", "facility"}
    assert {t for t, _ in cols} <= indexed


def test_seeded_security_patterns_are_the_2024_ones(conn):
    rows = conn.execute(text("SELECT kelas, polri, per_tps, linmas FROM security_pattern "
                             "ORDER BY kelas")).all()
    assert {r[0]: tuple(r[1:]) for r in rows} == {
        "kurang_rawan": (2, 4, 8), "rawan": (2, 2, 4), "sangat_rawan": (2, 1, 2),
        "khusus": (2, 1, 2)}


@pytest.mark.parametrize("kode", ["5271", "52.71.01.3004", "52.71.1.1004", "x"])
def test_kelurahan_codes_are_checked_by_the_database(conn, kode):
    with pytest.raises(IntegrityError):
        with conn.begin_nested():
            conn.execute(text(
                "INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) VALUES "
                "(:k, 'X', '52.71.01', ST_Multi(ST_MakeEnvelope(0,0,1,1,4326)))"), {"k": kode})


def test_audit_log_is_chained_by_a_step_and_log_and_chain_refuse_change(conn):
    conn.execute(text("INSERT INTO audit_log (actor, action) VALUES ('a', 'one'), ('b', 'two')"))
    waiting = conn.execute(text("SELECT count(*) FROM audit_unchained")).scalar()
    assert waiting == 2
    assert conn.execute(text("SELECT audit_chain_step(100)")).scalar() == 2
    rows = conn.execute(text("SELECT prev_hash, hash FROM audit_chain ORDER BY seq")).all()
    assert rows[0].prev_hash == "0" * 64
    assert rows[1].prev_hash == rows[0].hash
    assert conn.execute(text("SELECT count(*) FROM audit_unchained")).scalar() == 0
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
                "TRUNCATE audit_log", "UPDATE audit_chain SET hash = 'x'",
                "DELETE FROM audit_chain", "TRUNCATE audit_chain"):
        with pytest.raises(DBAPIError, match="append-only"):
            with conn.begin_nested():
                conn.execute(text(sql))


def test_migrations_and_models_describe_the_same_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from geoalchemy2 import alembic_helpers

    from gisdesk.db.models import Base
    with engine.connect() as c:
        context = MigrationContext.configure(c, opts={
            "include_object": alembic_helpers.include_object, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_pooled_connection_killed_while_idle_is_replaced_on_checkout(engine, monkeypatch):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from gisdesk.db import engine as engines
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 0.0)
    with engine.connect() as a, engine.connect() as b:   # both idle in the pool afterwards
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (a, b)]
    killer = create_engine(engine.url, poolclass=NullPool)
    with killer.connect() as other:
        for pid in pids:
            other.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": pid})
    killer.dispose()
    with engine.connect() as c:
        assert c.execute(text("SELECT pg_backend_pid()")).scalar() not in pids
