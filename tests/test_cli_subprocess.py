"""One real process per main command, as a desk operator runs them, on a fresh database.

The tests run in order and build on each other: a rejected file, the boundaries, the demo,
suggestions, then a backup and a restore that undoes a later change.
"""
from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import text

from ingest.ingest_helpers import SHIPPED, write

GISDESK = [sys.executable, "-m", "gisdesk.cli"]
SCRIPT = Path(sys.executable).with_name("gisdesk")   # the console script, when installed


@pytest.fixture(scope="module")
def gisdesk(engine):
    env = {**os.environ, "GISDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False)}

    def run(*args, extra_env=None) -> subprocess.CompletedProcess:
        return subprocess.run([*GISDESK, *map(str, args)], env={**env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    return run


def count(engine, sql: str) -> int:
    with engine.connect() as c:
        return c.execute(text(sql)).scalar()


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed next to python")
def test_the_console_script_lists_the_commands():
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("db", "demo", "import", "suggest", "users", "election", "serve"):
        assert f"  {command} " in result.stdout


def test_a_rejected_boundary_file_exits_1_and_writes_nothing(gisdesk, engine, tmp_path):
    frame = pyogrio.read_dataframe(SHIPPED)
    frame.loc[8, "kode"] = frame.loc[2, "kode"]
    path = write(frame, tmp_path / "kode_ganda.geojson")
    result = gisdesk("import", "boundaries", path)
    assert result.returncode == 1, result.stderr
    assert "DITOLAK" in result.stderr and "baris 9, kolom \'kode'" in result.stderr
    assert "Tidak ada yang ditulis ke basis data" in result.stderr
    assert count(engine, "SELECT count(*) FROM kelurahan") == 0
    assert count(engine, "SELECT count(*) FROM audit_log") == 0


def test_a_usage_error_exits_2(gisdesk):
    result = gisdesk("import", "boundaries", SHIPPED, "--level", "desa")
    assert result.returncode == 2 and "Usage: gisdesk import boundaries" in result.stderr


def test_import_boundaries(gisdesk, engine):
    result = gisdesk("import", "boundaries", SHIPPED)
    assert result.returncode == 0, result.stderr
    assert "kelurahan: 50 baru" in result.stdout
    assert count(engine, "SELECT count(*) FROM kelurahan") == 50


def test_demo(gisdesk, engine):
    result = gisdesk("demo")
    assert result.returncode == 0, result.stderr
    assert "kelurahan: 0 baru" in result.stdout          # boundaries already there
    assert "analisis: 1248 TPS" in result.stdout
    assert count(engine, "SELECT count(*) FROM tps") == 1248


def test_suggest_as_csv(gisdesk, engine):
    result = gisdesk("suggest", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and count(engine, "SELECT count(*) FROM suggestion") == len(rows)
    assert sum(int(r["count"]) for r in rows if r["agency"] == "polri") == count(
        engine, "SELECT sum(polri_gap) FROM kelurahan_gap WHERE polri_gap > 0")


def test_db_status_and_election_list(gisdesk):
    status = gisdesk("db", "status")
    assert status.returncode == 0 and "skema: " in status.stdout
    listed = gisdesk("election", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("* pemilu-2024-mataram")


def test_backup_then_restore_undoes_a_later_change(gisdesk, engine, tmp_path):
    dump = tmp_path / "gisdesk.dump"
    result = gisdesk("db", "backup", "-o", dump)
    assert result.returncode == 0, result.stderr
    assert dump.read_bytes()[:5] == b"PGDMP" and "cadangan ditulis" in result.stdout
    # password hashes and the quick count inside: readable by the owner only, whatever umask
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gisdesk.dump"]   # no partial file
    users_before = count(engine, "SELECT count(*) FROM users")

    added = gisdesk("users", "add", "petugas.baru", "--role", "viewer",
                    extra_env={"GISDESK_NEW_PASSWORD": "kata-sandi-uji-1"})
    assert added.returncode == 0, added.stderr
    assert count(engine, "SELECT count(*) FROM users") == users_before + 1

    engine.dispose()   # the restore replaces the tables under any open connection
    restored = gisdesk("db", "restore", dump, "--yes")
    assert restored.returncode == 0, restored.stderr
    assert count(engine, "SELECT count(*) FROM users") == users_before
    assert count(engine, "SELECT count(*) FROM tps") == 1248
    assert count(engine, "SELECT count(*) FROM users WHERE username = 'petugas.baru'") == 0
