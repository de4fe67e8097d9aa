"""Shared fixtures: a real PostGIS (embedded cluster or GISDESK_DATABASE_URL), never skipped.

- ``template_url``: a migrated template database, built once per test session.
- ``engine``: a fresh database cloned from the template, one per test module (tests that
  commit, run subprocesses or browsers use this).
- ``conn``: a connection inside a transaction rolled back after the test (unit-level tests).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gisdesk.config import load_settings
from gisdesk.db import testing as dbtesting
from gisdesk.db.engine import database_url, get_engine

ROOT = Path(__file__).resolve().parent.parent
# Debian's Chromium as root, headless, with nothing that would call out of this machine
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
TEMPLATE = f"gisdesk_test_template_{os.getpid()}"


@pytest.fixture(scope="session")
def server_url() -> str:
    settings = load_settings()
    try:
        return database_url(settings)
    except Exception as exc:  # no skip: a test run without PostGIS is a failed run
        pytest.fail(f"No PostgreSQL/PostGIS for the tests: {exc}\n"
                    "Run `make test` (it installs PostgreSQL 15 + PostGIS and starts the "
                    "embedded cluster), or set GISDESK_DATABASE_URL to a PostGIS server.",
                    pytrace=False)


@pytest.fixture(scope="session")
def template_url(server_url: str):
    url = dbtesting.create_template(server_url, TEMPLATE)
    yield url
    dbtesting.drop_database(server_url, TEMPLATE)


def _db_name(request) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[-40:]
    return f"gt_{os.getpid()}_{name}"


@pytest.fixture(scope="module")
def engine(request, server_url: str, template_url: str):
    name = _db_name(request)
    url = dbtesting.clone(server_url, TEMPLATE, name)
    eng = get_engine(url)
    yield eng
    eng.dispose()
    dbtesting.drop_database(server_url, name)


@pytest.fixture
def conn(engine: Engine):
    """A connection whose work is rolled back after the test."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


DEMO_TEMPLATE = f"gisdesk_test_demo_{os.getpid()}"


@pytest.fixture(scope="session")
def demo_template(server_url: str, template_url: str):
    """A template with the Mataram demo loaded and analysed, cloned per module on demand."""
    from gisdesk.analysis.store import recompute
    from gisdesk.demo.generate import DEFAULT_AS_OF
    from gisdesk.demo.load import load_demo
    from gisdesk.ingest.write_boundaries import import_boundaries
    from sqlalchemy import text

    url = dbtesting.clone(server_url, TEMPLATE, DEMO_TEMPLATE)
    eng = get_engine(url)
    import_boundaries(eng, ROOT / "data" / "boundaries" / "mataram_kelurahan.geojson",
                      actor="test")
    with eng.begin() as conn:
        load_demo(conn, seed=2024)
        conn.execute(text("UPDATE election SET pinned_as_of = :a WHERE is_demo"),
                     {"a": DEFAULT_AS_OF})
        recompute(conn)
    eng.dispose()
    yield DEMO_TEMPLATE
    dbtesting.drop_database(server_url, DEMO_TEMPLATE)


@pytest.fixture(scope="module")
def demo_engine(request, server_url: str, demo_template: str):
    """A fresh database holding the analysed Mataram demo (users: see gisdesk.demo.taxonomy)."""
    name = _db_name(request) + "_demo"
    url = dbtesting.clone(server_url, demo_template, name)
    eng = get_engine(url)
    yield eng
    eng.dispose()
    dbtesting.drop_database(server_url, name)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium (never a downloaded browser), one per test module."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
