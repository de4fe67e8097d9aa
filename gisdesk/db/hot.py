"""Statements of the request hot path (token check, report and readiness writes), sent
straight to the driver.

Profiled (issue 15): a report's two statements cost more CPU in SQLAlchemy (building a
``text()`` clause, its cache key, result metadata for ~20 columns) than in psycopg and the
server together. A :class:`Statement` is compiled to psycopg's ``%(name)s`` form once, at
import; :func:`rows` runs it on the connection's psycopg connection and returns plain dicts.
psycopg still prepares it server-side after a few uses (its ``prepare_threshold``).

The SQL is the same text either way: a connection that is neither in autocommit nor in a
transaction SQLAlchemy knows of goes through ``Connection.execute`` (which begins one), so a
raw statement never opens a transaction behind SQLAlchemy's back. Driver errors come out as
SQLAlchemy's (``OperationalError`` ...), so the error handlers see what they always saw,
and the engine's ``before/after_cursor_execute`` listeners are called as for any statement.
"""
from __future__ import annotations

from typing import Any, Mapping

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, exc as sa_exc, text
from sqlalchemy.dialects import postgresql


def psycopg_sql(sql: str) -> str:
    """A SQLAlchemy ``text()`` statement (``:name`` parameters) as psycopg sends it."""
    return str(text(sql).compile(dialect=postgresql.psycopg.dialect()))


class Statement:
    """One SQL text, kept as SQLAlchemy's clause and as the driver's string."""

    __slots__ = ("sql", "clause", "driver_sql", "json_params")

    def __init__(self, sql: str, *, json_params: tuple[str, ...] = ()):
        self.sql = sql
        self.clause = text(sql)
        self.driver_sql = psycopg_sql(sql)
        # parameters holding JSON (a dict, or a list of dicts for a jsonb[] cast)
        self.json_params = json_params

    def driver_params(self, params: Mapping[str, Any]) -> dict:
        out = dict(params)
        for key in self.json_params:
            value = out[key]
            out[key] = [Jsonb(v) for v in value] if isinstance(value, list) else Jsonb(value)
        return out


def _raw_ok(conn: Connection, raw) -> bool:
    """The driver connection may take a statement directly: in autocommit (the statement is
    its own transaction) or inside a transaction SQLAlchemy began (it joins it)."""
    return raw.autocommit or conn.in_transaction()


def rows(conn: Connection, stmt: Statement, params: Mapping[str, Any]) -> list[dict]:
    """Every row of ``stmt`` (a statement that returns rows) as a dict."""
    raw = conn.connection.driver_connection
    if not _raw_ok(conn, raw):
        result = conn.execute(stmt.clause, stmt.driver_params(params))
        return [dict(r) for r in result.mappings()]
    values = stmt.driver_params(params)
    try:
        with raw.cursor(row_factory=dict_row) as cur:
            dispatch = conn.dispatch   # listeners (tests, tracing) still see the statement
            if dispatch.before_cursor_execute:
                for listener in dispatch.before_cursor_execute:
                    listener(conn, cur, stmt.driver_sql, values, None, False)
            cur.execute(stmt.driver_sql, values)
            if dispatch.after_cursor_execute:
                for listener in dispatch.after_cursor_execute:
                    listener(conn, cur, stmt.driver_sql, values, None, False)
            # every hot statement returns rows (``description`` would build its columns twice)
            return cur.fetchall()
    except psycopg.Error as exc:
        if raw.broken:
            conn.invalidate(exc)   # as SQLAlchemy does: the pool replaces it
        raise sa_exc.DBAPIError.instance(stmt.driver_sql, values, exc, psycopg.Error,
                                         connection_invalidated=raw.broken) from exc


def first(conn: Connection, stmt: Statement, params: Mapping[str, Any]) -> dict | None:
    found = rows(conn, stmt, params)
    return found[0] if found else None
