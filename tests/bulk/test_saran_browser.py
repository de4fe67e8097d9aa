"""/saran in headless Chromium as a supervisor: apply a kelurahan's plan with one click, and a
page left open while the results moved on gets a clear refusal (409), nothing applied."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from bulk.conftest import DEMO_USERS, snapshot
from gisdesk.analysis.catchup import drain
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from live import serving


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


def open_saran(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server,
                                  locale="id-ID")
    page = context.new_page()
    page.goto("/login?next=/saran")
    page.fill("input[name=username]", DEMO_USERS["supervisor"])
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/saran")
    return page


def test_supervisor_applies_a_plan_and_a_stale_page_is_told_to_look_again(browser, server,
                                                                          engine, demo):
    page = open_saran(browser, server)
    stale = open_saran(browser, server)               # a second tab, left open
    blocks = page.locator("article.plan:has(button)")
    first, second = (blocks.nth(i).get_attribute("data-kelurahan") for i in (0, 1))
    name = page.locator(f"article.plan[data-kelurahan='{first}'] h2").inner_text()
    before = snapshot(engine)
    page.locator(f"article.plan[data-kelurahan='{first}']").get_by_role(
        "button", name="Terapkan rencana").click()
    page.wait_for_selector(".flash >> text=Rencana diterapkan")
    assert name.split("Kelurahan ")[1].split(" Kec.")[0].strip() in page.inner_text(".flash")
    moved = snapshot(engine)
    assert moved["moves"] > before["moves"] and moved["audit"] == before["audit"] + 1
    assert page.locator("table.moves tbody tr").count() == moved["moves"]
    assert "Rencana sudah diterapkan" in page.inner_text(f"article.plan[data-kelurahan='{first}']")
    drain(engine)                                     # the analysis worker catches up
    moved = snapshot(engine)

    stale.locator(f"article.plan[data-kelurahan='{second}']").get_by_role(
        "button", name="Terapkan rencana").click()
    stale.wait_for_selector("#plan-error")
    assert "Hasil analisis sudah berubah" in stale.inner_text("#plan-error")
    assert snapshot(engine) == moved                  # nothing applied from the stale page
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = "
                                 "'personnel.plan'")).scalar() == 1
    page.context.close()
    stale.context.close()
