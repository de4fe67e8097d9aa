"""Issue 12 item 3: one upload's cost is bounded (rows, problems listed, report size, parallel
uploads, memory) and it leaves no temporary folder behind."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bulk.conftest import DEMO_USERS, data_part, form_token, login, snapshot
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app, uploads

HERE = Path(__file__).resolve().parent
GARBAGE_HEADER = b"kode_tps,kelas,tanggal,skor,catatan\n"


@pytest.fixture(scope="module")
def small_app(demo, tmp_path_factory):
    """The app with small caps, so that the tests reach them with small files."""
    return create_app({"database_url": demo["url"], "testing": True,
                       "home": tmp_path_factory.mktemp("home"), "secret_key": "limits",
                       "login_rate_limit": "1000/300", "upload_max_rows": 50,
                       "upload_max_problems": 40, "upload_parallel": 2})


def _client(app):
    client = app.test_client()
    login(client, "supervisor")
    return client, form_token(client)


def _post(client, token, body: bytes, *, json_=False):
    headers = {"Accept": "application/json"} if json_ else {}
    return client.post("/unggah", data={"csrf_token": token, "kind": "ratings",
                                        "source": "polri",
                                        "file": (io.BytesIO(body), "sampah.csv")},
                       content_type="multipart/form-data", headers=headers)


def test_a_table_with_more_rows_than_the_cap_is_refused_before_it_is_read(small_app, engine):
    client, token = _client(small_app)
    before = snapshot(engine)
    r = _post(client, token, GARBAGE_HEADER + b"x,y,z,1,2\n" * 51)
    assert r.status_code == 422
    assert "lebih dari 50 baris" in r.get_data(as_text=True)
    assert data_part(snapshot(engine)) == data_part(before)
    r = _post(client, token, GARBAGE_HEADER + b"x,y,z,1,2\n" * 50)   # at the cap: read
    assert "lebih dari 50 baris" not in r.get_data(as_text=True)


def test_problems_beyond_the_cap_are_counted_not_listed_in_json_html_and_report(small_app):
    client, token = _client(small_app)
    body = GARBAGE_HEADER + b"x,y,z,1,2\n" * 50          # 3 problems a row: 150
    answer = _post(client, token, body, json_=True).get_json()
    assert len(answer["problems"]) == 40 and answer["problems_more"] == 110
    assert "dan 110 masalah lain" in answer["error"]
    page = _post(client, token, body).get_data(as_text=True)
    assert page.count("<tr><td>") == 40                       # under the page size: all 40
    assert "dan 110 masalah lain" in page
    link = page.split('href="/unggah/laporan/')[1].split('"')[0]
    report = client.get(f"/unggah/laporan/{link}").get_data(as_text=True)
    lines = report.strip().splitlines()
    assert len(lines) == 1 + 40 + 1 and "dan 110 masalah lain" in lines[-1]


def test_the_html_page_lists_one_page_of_problems(demo, tmp_path):
    app = create_app({"database_url": demo["url"], "testing": True, "home": tmp_path,
                      "secret_key": "page", "login_rate_limit": "1000/300"})
    client, token = _client(app)
    page = _post(client, token, GARBAGE_HEADER + b"x,y,z,1,2\n" * 60).get_data(as_text=True)
    assert page.count("<tr><td>") == uploads.PAGE_PROBLEMS
    assert f"dan {180 - uploads.PAGE_PROBLEMS} masalah lain" in page


def test_uploads_beyond_the_parallel_cap_wait_their_turn_across_processes(small_app, demo):
    client, token = _client(small_app)
    other = create_engine(demo["url"])      # another worker holding both upload places
    try:
        with other.connect() as conn:
            for slot in range(2):
                conn.execute(text("SELECT pg_advisory_lock(:k, :s)"),
                             {"k": uploads.LOCK_KEY, "s": slot})
            r = _post(client, token, GARBAGE_HEADER + b"x,y,z,1,2\n", json_=True)
            assert r.status_code == 429
            assert "unggahan" in r.get_json()["error"]
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
        r = _post(client, token, GARBAGE_HEADER + b"x,y,z,1,2\n", json_=True)
        assert r.status_code == 422                            # checked again, normally
    finally:
        other.dispose()


def test_upload_folders_are_removed_and_stale_ones_left_by_a_killed_worker_are_swept(
        small_app, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"{uploads.PREFIX}killed"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "data.csv").write_text("x")
    old = time.time() - uploads.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = tmp_path / f"{uploads.PREFIX}running"          # another upload, still at work
    fresh.mkdir()
    client, token = _client(small_app)
    _post(client, token, GARBAGE_HEADER + b"x,y,z,1,2\n" * 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]


def test_a_10_mb_million_row_garbage_upload_stays_under_300_mb(demo, tmp_path):
    """The reported file (1,000,000 rows of x,y,z,1,2): measured in its own process."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "upload_rss.py"), demo["url"], str(tmp_path),
         DEMO_USERS["supervisor"], DEMO_PASSWORD, "1000000"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert got["file_mb"] >= 10
    assert got["status"] == 422 and "lebih dari 100.000 baris" in got["text"]
    assert got["grew_mb"] < 300, got["grew_mb"]
    assert got["bytes"] < 100_000                               # not 457 MB of HTML
    assert not list((tmp_path / "reports").glob("*.csv")) or all(
        p.stat().st_size < 2_000_000 for p in (tmp_path / "reports").glob("*.csv"))


def test_a_nul_byte_in_a_csv_cell_is_refused_naming_its_row(small_app, engine):
    client, token = _client(small_app)
    before = snapshot(engine)
    body = GARBAGE_HEADER + b"52.71.01.1004-001,rawan,14/02/2024,1,ok\n" \
        + b"52.71.01.1004-002,rawan,14/02/2024,1,a\x00b\n"
    r = _post(client, token, body, json_=True)
    assert r.status_code == 422
    assert "NUL" in r.get_json()["error"] and r.get_json()["problems"][0]["row"] == 2
    assert data_part(snapshot(engine)) == data_part(before)
