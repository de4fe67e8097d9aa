"""Fixtures for the bulk-file, moves and audit tests: the Mataram demo in a fresh database
per module, the app, logged-in clients per role and snapshots proving nothing was written."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk.analysis.store import recompute
from gisdesk.demo.load import load_demo
from gisdesk.demo.taxonomy import DEMO_PASSWORD, USERS
from gisdesk.ingest.write_boundaries import import_boundaries
from gisdesk.web import create_app

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = ROOT / "data/boundaries/mataram_kelurahan.geojson"
# the demo user of each role
DEMO_USERS = {role: name for name, (role, _agency, _full) in USERS.items()}


@pytest.fixture(scope="module")
def demo(engine):
    """The demo city (50 kelurahan, 1,248 TPS) with fresh analysis results."""
    import_boundaries(engine, BOUNDARIES, actor="test")
    with engine.begin() as conn:
        load_demo(conn, seed=2024)
        recompute(conn)
    with engine.connect() as conn:
        tps = conn.execute(text("SELECT kode FROM tps ORDER BY kode LIMIT 6")).scalars().all()
        kel = conn.execute(text("SELECT kode FROM kelurahan ORDER BY kode")).scalars().all()
    return {"tps": tps, "kelurahan": kel, "url": engine.url.render_as_string(hide_password=False)}


@pytest.fixture(scope="module")
def app(engine, demo, tmp_path_factory):
    return create_app({"database_url": demo["url"], "testing": True,
                       "home": tmp_path_factory.mktemp("home"), "secret_key": "test-secret",
                       "login_rate_limit": "1000/300"})


def login(client, role: str) -> str:
    """Log in through the form as the demo user of ``role``; returns the session's CSRF token."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": DEMO_USERS[role], "password": DEMO_PASSWORD,
                                       "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return token


@pytest.fixture
def as_role(app):
    """``as_role('supervisor')`` -> (client, csrf token) logged in through the form."""
    def make(role: str):
        client = app.test_client()
        return client, login(client, role)
    return make


def form_token(client, url: str = "/unggah") -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def snapshot(engine) -> dict:
    """Row counts and content digests of everything a bulk import or a move may touch."""
    with engine.connect() as conn:
        return dict(conn.execute(text("""
            SELECT
              (SELECT count(*) FROM rating) AS ratings,
              (SELECT md5(coalesce(string_agg(concat_ws(';', id, source, tps_id, kelurahan_kode,
                 kelas, indicators::text, score, rated_on, note), '|' ORDER BY id), ''))
                 FROM rating) AS ratings_md5,
              (SELECT count(*) FROM personnel_assignment) AS personnel,
              (SELECT md5(coalesce(string_agg(concat_ws(';', id, agency, target, tps_id,
                 kelurahan_kode, kecamatan_kode, unit, count, note), '|' ORDER BY id), ''))
                 FROM personnel_assignment) AS personnel_md5,
              (SELECT count(*) FROM incident) AS incidents,
              (SELECT count(*) FROM tps_readiness_history) AS readiness_history,
              (SELECT md5(coalesce(string_agg(concat_ws(';', tps_id, state, items::text, note),
                 '|' ORDER BY tps_id), '')) FROM tps_readiness) AS readiness_md5,
              (SELECT count(*) FROM personnel_move) AS moves,
              (SELECT count(*) FROM import_batch) AS batches,
              -- logging in (as the tests do between snapshots) is audited too; not counted
              (SELECT count(*) FROM audit_log WHERE action NOT LIKE 'login.%') AS audit
            """)).mappings().one())


def data_part(snap: dict) -> dict:
    """The snapshot without the import/audit bookkeeping (what 'changes nothing' is about)."""
    return {k: v for k, v in snap.items() if k not in ("batches", "audit")}


@pytest.fixture
def cli(demo, monkeypatch):
    from gisdesk.cli import main
    monkeypatch.setenv("GISDESK_DATABASE_URL", demo["url"])
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_csv(path: Path, text_: str, *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text_.strip().encode("utf-8") + b"\n")
    return path
