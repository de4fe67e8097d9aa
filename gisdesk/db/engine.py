"""Where the database is (GISDESK_DATABASE_URL or the embedded cluster) and one engine per URL."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine, make_url
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


def new_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """An engine of its own (not shared): the worker gives each loop one, so a long
    recompute in one loop never holds a connection another loop waits for."""
    connect_args: dict = {"options": "-c timezone=UTC"}
    parsed = make_url(url)
    if "prepare_threshold" in parsed.query:
        raw = str(parsed.query["prepare_threshold"]).strip().lower()
        connect_args["prepare_threshold"] = None if raw in ("", "none", "off") else int(raw)
        parsed = parsed.difference_update_query(["prepare_threshold"])
    # pool_pre_ping: the embedded cluster may have been restarted under a long-running app
    return create_engine(parsed, pool_pre_ping=True, pool_size=pool_size,
                         max_overflow=max_overflow, connect_args=connect_args)


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
