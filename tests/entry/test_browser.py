"""The /lapor page in headless Chromium: typed coordinates, offline queue, re-login, warnings."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from entry import seed as S

SHOTS = Path("/tmp/gisdesk-shots")
QUEUE = "JSON.parse(localStorage.getItem('gisdesk.entry.queue.v1') || '[]')"


def wait_until(page, expression: str, timeout: float = 10000) -> None:
    """Poll with page.evaluate: wait_for_function compiles strings with eval, which the
    app's Content-Security-Policy (rightly) forbids."""
    import time
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server,
                                  locale="id-ID")
    page = context.new_page()
    yield page
    context.close()


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM incident")).scalar()


def log_in(page, next_path="/lapor", role="desk_staff"):
    page.goto(f"/login?next={next_path}")
    page.fill("input[name=username]", f"uji_{role}")
    page.fill("input[name=password]", S.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def fill(page, coords: str, description: str, category="intimidasi"):
    page.select_option("select[name=category]", category)
    page.select_option("select[name=severity]", "sedang")
    page.fill("input[name=coords]", coords)
    page.fill("textarea[name=description]", description)


def queue_len(page) -> int:
    return page.evaluate(f"{QUEUE}.length")


def test_report_online_offline_and_back(page, engine, area):
    log_in(page)
    before = count(engine)
    fill(page, "8°34'31.8\"S 116°04'13.8\"E", "Intimidasi terhadap KPPS")
    page.wait_for_selector("#coords-preview.ok")
    assert "-8.5755" in page.text_content("#coords-preview")
    page.click("#incident-form button[type=submit]")
    wait_until(page, f"{QUEUE}.length === 0")
    page.wait_for_selector("#queue li[data-state=sent]")
    assert count(engine) == before + 1
    with engine.connect() as conn:
        row = conn.execute(text("SELECT kelurahan_kode, description FROM incident "
                                "ORDER BY reported_at DESC LIMIT 1")).one()
    assert tuple(row) == (S.KEL_A, "Intimidasi terhadap KPPS")

    page.context.set_offline(True)
    fill(page, "-8.5755, 116.0705", "Dikirim tanpa jaringan")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#queue li[data-state=retry]")
    queued = page.evaluate(QUEUE)
    assert len(queued) == 1 and queued[0]["payload"]["description"] == "Dikirim tanpa jaringan"
    page.wait_for_timeout(1000)
    assert count(engine) == before + 1

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lapor-phone-offline.png"), full_page=True)
    page.context.set_offline(False)
    wait_until(page, f"{QUEUE}.length === 0", timeout=30000)
    page.evaluate("GisdeskEntry.flush()")        # another push finds nothing to send
    page.wait_for_timeout(500)
    assert count(engine) == before + 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident WHERE id = :i"),
                            {"i": queued[0]["id"]}).scalar() == 1


def test_expired_session_keeps_the_queue_and_sends_after_login(page, engine):
    log_in(page)
    before = count(engine)
    page.context.clear_cookies()                  # the session ends (timeout, logout elsewhere)
    fill(page, "-8.5755, 116.0705", "Terkirim setelah masuk lagi")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#queue li[data-state=login]")
    assert page.is_visible("#login-needed") and queue_len(page) == 1
    assert count(engine) == before
    page.click("#login-link")
    page.fill("input[name=username]", "uji_desk_staff")
    page.fill("input[name=password]", S.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/lapor")
    wait_until(page, f"{QUEUE}.length === 0", timeout=30000)
    assert count(engine) == before + 1


def test_warnings_are_confirmed_with_the_same_uuid(page, engine):
    log_in(page)
    before = count(engine)
    lon, lat = S.FAR_FROM_TPS
    fill(page, f"{lat}, {lon}", "Jauh dari TPS", category="banjir")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#queue li[data-state=needs_confirmation]")
    assert "TPS terdekat" in page.text_content("#queue")
    ident = page.evaluate(f"{QUEUE}[0].id")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lapor-phone-warning.png"), full_page=True)
    page.click("text=Kirim tetap")
    wait_until(page, f"{QUEUE}.length === 0")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident WHERE id = :i"),
                            {"i": ident}).scalar() == 1
    assert count(engine) == before + 1


def test_map_link_prefills_the_form(page):
    log_in(page)
    page.goto("/lapor?lat=-8.5755&lon=116.0905&tps=1")
    assert page.input_value("input[name=coords]") == "-8.575500, 116.090500"
    assert page.input_value("input[name=tps]") == "1"
    page.wait_for_selector("#coords-preview.ok")
    url = page.evaluate("GisdeskEntry.reportUrl(-8.5, 116.1)")
    assert url == "/lapor?lat=-8.5&lon=116.1"


def test_stale_csrf_token_is_refreshed_and_the_report_sent(page, engine):
    log_in(page)
    before = count(engine)
    page.context.clear_cookies()                  # logged out and in again in another tab:
    other = page.context.new_page()               # this tab's CSRF token is now stale
    log_in(other)
    other.close()
    statuses = []
    page.on("response", lambda r: statuses.append(r.status)
            if r.request.method == "POST" and r.url.endswith("/api/incidents") else None)
    fill(page, "-8.5755, 116.0705", "Token diperbarui")
    page.click("#incident-form button[type=submit]")
    wait_until(page, f"{QUEUE}.length === 0")
    page.wait_for_selector("#queue li[data-state=sent]")
    assert statuses == [400, 201]                 # CSRF refused, fresh token, accepted
    assert count(engine) == before + 1


def test_supervisor_verifies_from_the_incident_list(page, engine):
    log_in(page, "/insiden", role="supervisor")
    row = page.locator("tr[data-id]").first
    ident = row.get_attribute("data-id")
    row.locator("button[data-action=verify]").click()
    page.wait_for_selector(f"tr[data-id='{ident}'] .badge.verified")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "insiden-phone.png"), full_page=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM incident WHERE id = :i"),
                            {"i": ident}).scalar() == "verified"
