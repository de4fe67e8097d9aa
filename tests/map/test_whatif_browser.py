"""What-if on the map for supervisors, in headless Chromium on the analysed Mataram demo:
moves tried in the browser change the gaps shown (nothing stored); applying them sends the
results version they were based on and gets 409 when the results have moved on since."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gisdesk.analysis.catchup import drain
from gisdesk.analysis.store import recompute
from gisdesk.demo.taxonomy import DEMO_PASSWORD
import live
from live import serving
from map.conftest import demo_app


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    return demo_app(demo_engine, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


def open_map(browser, server, username):
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="id-ID")
    page = context.new_page()
    # a stale plan is answered 409 on purpose: the console's "failed to load" for it is expected
    errors = live.open_map(page, server, username, DEMO_PASSWORD, ignore=("favicon", "409"))
    return context, page, errors


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM personnel_move")).scalar_one(),
                conn.execute(text("SELECT version FROM analysis_run")).scalar_one())


def kurang(page, kode: str) -> int:
    """The Polri 'Kurang' cell of a kelurahan in the gap table."""
    return int(page.locator(f"#gap-rows tr.main[data-kode='{kode}'] td").nth(3).inner_text())


def test_viewer_has_no_what_if(browser, server):
    context, page, errors = open_map(browser, server, "koordinator")
    assert not page.locator("#whatif").is_visible() and errors == []
    context.close()


def test_what_if_changes_the_gaps_shown_and_a_stale_plan_gets_409(browser, server, demo_engine):
    moves_before, version = counts(demo_engine)
    context, page, errors = open_map(browser, server, "supervisor")
    panel = page.locator("#whatif")
    assert panel.is_visible() and page.inner_text("#wi-version") == str(version)
    to = page.input_value("#wi-to")            # the kelurahan shortest of Polri
    before = kurang(page, to)
    page.fill("#wi-count", "1")
    page.click("text=Tambah ke simulasi")
    effect = page.inner_text("#wi-effect")
    short = re.search(r"Polri: kurang ([\d.]+) → ([\d.]+)", effect)
    assert short and int(short.group(1).replace(".", "")) - 1 == int(short.group(2).replace(".", ""))
    assert kurang(page, to) == before - 1
    assert page.locator(f"#gap-rows tr.main.whatif[data-kode='{to}']").count() == 1
    assert counts(demo_engine) == (moves_before, version)        # nothing stored
    # a donor cannot give more than it has spare
    page.fill("#wi-count", "999")
    page.click("text=Tambah ke simulasi")
    assert "hanya berlebih" in page.inner_text("#wi-message")
    assert page.locator("#wi-moves li").count() == 1

    # meanwhile the results move on (a recompute: a new version)
    with demo_engine.begin() as conn:
        recompute(conn, conn.execute(text("SELECT id FROM election WHERE active")).scalar_one())
    _, newer = counts(demo_engine)
    assert newer > version
    page.click("text=Terapkan rencana")
    message = page.locator("#wi-message.bad")
    message.wait_for(timeout=10000)
    assert "Hasil analisis sudah berubah sejak rencana ini dibuat" in message.inner_text()
    assert f"versi {version}, sekarang {newer}" in message.inner_text()
    assert "Tidak ada yang diubah" in message.inner_text()
    assert counts(demo_engine) == (moves_before, newer)

    # on the fresh results, a suggestion taken into the what-if applies
    page.reload()
    page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    assert page.inner_text("#wi-version") == str(newer)
    page.click("text=Ambil dari saran")
    page.locator("#wi-suggestions button").first.click()
    assert page.locator("#wi-moves li").count() == 1
    page.click("text=Terapkan rencana")
    page.locator("#wi-message", has_text="Rencana diterapkan: 1 perpindahan").wait_for(timeout=15000)
    assert counts(demo_engine) == (moves_before + 1, newer)   # stored; results still at newer
    drain(demo_engine)                                         # the worker catches up
    assert counts(demo_engine)[1] > newer
    with demo_engine.connect() as conn:
        plan = conn.execute(text("SELECT actor, detail FROM audit_log WHERE action = "
                                 "'personnel.plan' ORDER BY id DESC LIMIT 1")).one()
    assert plan.actor == "supervisor" and plan.detail["based_on_version"] == newer
    assert errors == []
    context.close()
