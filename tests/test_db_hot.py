"""Hot-path statements sent straight to psycopg (``gisdesk.db.hot``) keep SQLAlchemy's
transaction and error behaviour: they join the caller's transaction (and its rollback),
never open one SQLAlchemy does not know of, and fail with SQLAlchemy's exceptions."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from gisdesk.db import hot

MARK = hot.Statement("INSERT INTO rate_limit_hit (bucket) VALUES (:b) RETURNING bucket")
COUNT = "SELECT count(*) FROM rate_limit_hit WHERE bucket = :b"


def _count(engine, bucket: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(COUNT), {"b": bucket}).scalar()


def test_a_hot_statement_joins_the_callers_transaction_and_its_rollback(engine):
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            assert hot.rows(conn, MARK, {"b": "hot:rolled-back"}) == [
                {"bucket": "hot:rolled-back"}]
            raise RuntimeError("the caller gives up")
    assert _count(engine, "hot:rolled-back") == 0
    with engine.begin() as conn:
        hot.rows(conn, MARK, {"b": "hot:committed"})
    assert _count(engine, "hot:committed") == 1


def test_without_a_transaction_sqlalchemy_begins_one_that_close_rolls_back(engine):
    with engine.connect() as conn:
        hot.rows(conn, MARK, {"b": "hot:unbegun"})
        assert conn.in_transaction()          # SQLAlchemy knows of it
    assert _count(engine, "hot:unbegun") == 0


def test_in_autocommit_a_hot_statement_is_its_own_transaction(engine):
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        hot.rows(conn, MARK, {"b": "hot:autocommit"})
        assert _count(engine, "hot:autocommit") == 1


def test_driver_errors_come_out_as_sqlalchemy_errors_and_listeners_see_statements(engine):
    from sqlalchemy import event
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            with pytest.raises(DataError):
                hot.rows(conn, hot.Statement("SELECT 1 / :z AS x"), {"z": 0})
            with pytest.raises(IntegrityError):
                hot.rows(conn, hot.Statement("INSERT INTO rate_limit_hit (bucket) VALUES "
                                             "(NULL) RETURNING id"), {})
            assert hot.first(conn, hot.Statement("SELECT CAST(:a AS int) + 1 AS x"), {"a": 1}) == {
                "x": 2}                       # the connection is still usable
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 3 and "1 / %(z)s" in seen[0]


def test_json_parameters_go_as_jsonb(engine):
    stmt = hot.Statement("SELECT jsonb_typeof(CAST(:one AS jsonb)) AS one, "
                         "(CAST(:many AS jsonb[]))[2] ->> 'b' AS second",
                         json_params=("one", "many"))
    with engine.begin() as conn:
        assert hot.first(conn, stmt, {"one": {"a": 1}, "many": [{"b": "x"}, {"b": "y"}]}) == {
            "one": "object", "second": "y"}
