"""Where the database is (GISDESK_DATABASE_URL or the embedded cluster) and one engine per URL."""
from __future__ import annotations

import functools
import os
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from gisdesk.config import Settings
from gisdesk.db import cluster as embedded


def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded cluster's (created and started on demand)."""
    if settings.database_url:
        return settings.database_url
    return embedded.ensure(settings.home).url()


@functools.cache
def get_engine(url: str) -> Engine:
    """One pooled engine per URL (per process).

    ``?prepare_threshold=none`` in the URL switches off psycopg's server-side prepared
    statements, for PgBouncer older than 1.21 in transaction mode (see docs/DEPLOYMENT.md).
    """
    return new_engine(url)


def new_engine(url: str, *, pool_size: int | None = None,
               max_overflow: int | None = None) -> Engine:
    """An engine of its own (not shared): the worker gives each loop one, so a long
    recompute in one loop never holds a connection another loop waits for."""
    connect_args: dict = {"options": "-c timezone=UTC"}
    parsed = make_url(url)
    if "prepare_threshold" in parsed.query:
        raw = str(parsed.query["prepare_threshold"]).strip().lower()
        connect_args["prepare_threshold"] = None if raw in ("", "none", "off") else int(raw)
        parsed = parsed.difference_update_query(["prepare_threshold"])
    # GISDESK_DB_POOL_SIZE: `gisdesk serve` sizes it to the threads of a worker, so N
    # workers hold about N x threads connections, not N x 30
    size = pool_size or int(os.environ.get("GISDESK_DB_POOL_SIZE") or 10)
    overflow = max(5, size) if max_overflow is None else max_overflow
    engine = create_engine(parsed, pool_size=size, max_overflow=overflow,
                           connect_args=connect_args)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_S = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle in the pool: the embedded
    cluster may have been restarted under a long-running app, but a connection handed back
    a moment ago is alive, and pinging it (``pool_pre_ping``) cost every request one more
    round trip (about a quarter of a report's time under load)."""

    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection, record):
        record.info["gisdesk_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        idle_since = record.info.get("gisdesk_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool retries with a new one


def libpq_conninfo(url: str) -> str:
    """The URL as libpq reads it (for a raw psycopg session, e.g. LISTEN)."""
    parsed = make_url(url).difference_update_query(["prepare_threshold"])
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def engine_for(settings: Settings) -> Engine:
    return get_engine(database_url(settings))


def read_engine_for(settings: Settings) -> Engine:
    """The engine for read-only work (maps, API pages, exports, tiles): the streaming replica
    named by GISDESK_READ_DATABASE_URL, or the primary when none is configured."""
    if settings.read_database_url:
        return get_engine(settings.read_database_url)
    return engine_for(settings)


@functools.cache
def _sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    session = _sessionmaker(engine)()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """A transaction on ``conn`` for a block of several statements.

    On a connection in a transaction already (the caller's), the block joins it and the
    caller commits. On an autocommit connection (hot write paths send their common case as
    one statement, which is its own transaction, saving BEGIN and COMMIT round trips) the
    block gets a real transaction, committed at its end, rolled back on error.
    """
    if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        yield conn
        return
    if conn.in_transaction():
        conn.commit()  # only SQLAlchemy's marker: nothing is open on the server
    conn.execution_options(isolation_level=conn.dialect.default_isolation_level)
    try:
        with conn.begin():
            yield conn
    finally:
        conn.execution_options(isolation_level="AUTOCOMMIT")
