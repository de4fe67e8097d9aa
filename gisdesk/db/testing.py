"""Throw-away databases for tests and benchmarks: a migrated template, cloned per use.

Cloning with CREATE DATABASE ... TEMPLATE takes well under a second, so every test module
that commits (browser, subprocess, concurrency) gets a database of its own.
"""
from __future__ import annotations

import psycopg
from sqlalchemy import make_url

from gisdesk.db.engine import get_engine
from gisdesk.db.migrate import upgrade


def _admin_conninfo(url: str) -> dict:
    u = make_url(url)
    info = {"dbname": "postgres", "user": u.username, "password": u.password,
            "host": u.query.get("host") or u.host, "port": u.query.get("port") or u.port}
    return {k: v for k, v in info.items() if v is not None}


def _with_db(url: str, dbname: str) -> str:
    return make_url(url).set(database=dbname).render_as_string(hide_password=False)


def drop_database(url: str, dbname: str) -> None:
    with psycopg.connect(**_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def create_template(url: str, name: str) -> str:
    """(Re)create a migrated template database and return its URL."""
    drop_database(url, name)
    with psycopg.connect(**_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    template_url = _with_db(url, name)
    engine = get_engine(template_url)
    upgrade(engine)
    engine.dispose()  # a template must have no open connections to be cloned
    return template_url


def clone(url: str, template: str, name: str) -> str:
    drop_database(url, name)
    with psycopg.connect(**_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _with_db(url, name)
