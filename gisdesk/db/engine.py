"""Where the database is (GISDESK_DATABASE_URL or the embedded cluster) and one engine per URL."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine
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
    # pool_pre_ping: the embedded cluster may have been restarted under a long-running app
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"options": "-c timezone=UTC"})


def engine_for(settings: Settings) -> Engine:
    return get_engine(database_url(settings))


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
