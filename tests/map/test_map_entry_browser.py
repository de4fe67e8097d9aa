"""Reporting from the map, live incidents and the readiness pages, in headless Chromium
(Debian's, never a downloaded one) against a live app on the analysed Mataram demo.

The page's CSP forbids eval, so waiting is done by polling ``page.evaluate`` or locators,
never ``wait_for_function``.
"""
from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from gisdesk import accounts
from gisdesk.analysis import changes
from gisdesk.analysis.catchup import drain
from gisdesk.demo.taxonomy import DEMO_PASSWORD
import live
from live import serving
from map.conftest import demo_app

SHOTS = Path("/tmp/gisdesk-shots")
POLL_SECONDS = 1  # the map polls every 20 s in use; the tests do not wait that long


# desk staff without a kelurahan scope: the demo's `petugas` records only in its kelurahan,
# and these tests click and save wherever the generated city puts a TPS
CITY_DESK = "petugas_kota"


@pytest.fixture(scope="module")
def app(demo_engine, tmp_path_factory):
    with demo_engine.begin() as conn:
        accounts.create_user(conn, CITY_DESK, DEMO_PASSWORD, "desk_staff", actor="test")
    return demo_app(demo_engine, tmp_path_factory.mktemp("home"), MAP_POLL_SECONDS=POLL_SECONDS)


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 800}, locale="id-ID")
    yield ctx
    ctx.close()


def until(check, timeout=15.0, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last: {value!r})")
        time.sleep(interval)


IGNORED = ("favicon", "404")  # the readiness pages probe TPS that may not exist


def login(page, server, username, target):
    errors = live.watch_errors(page, ignore=IGNORED)
    live.log_in(page, server, username, DEMO_PASSWORD, target)
    return errors


def open_map(page, server, username):
    return live.open_map(page, server, username, DEMO_PASSWORD, ignore=IGNORED)


# A TPS whose neighbourhood at zoom 17 is free of other points: the map is centred on it and
# the click lands CLICK_DX pixels east of it (background: no TPS, no incident under the mouse).
CLICK_DX = 60
PICK_SPOT = """(dx) => {
  var g = window.gisdesk, map = g.map, tps = g.layers.tps.items, inc = g.layers.incidents.items || [];
  for (var i = 0; i < tps.length; i += 7) {
    var ll = tps[i].leaf.getLatLng();
    map.setView(ll, 17, {animate: false});
    var at = map.latLngToContainerPoint(ll).add([dx, 0]), free = true;
    tps.concat(inc).forEach(function (it) {
      var p = it.leaf && it.leaf.getLatLng ? it.leaf.getLatLng() : it.latlng;
      if (p && map.latLngToContainerPoint(p).distanceTo(at) < 25) free = false;
    });
    if (!free) continue;
    var box = map.getContainer().getBoundingClientRect();
    at = at.add([box.left, box.top]).round().subtract([box.left, box.top]);  // whole pixels
    var target = map.containerPointToLatLng(at);
    // the view may still be settling from the page's first fit: only a spot that really is
    // next to its TPS at this zoom will do
    if (map.getZoom() !== 17 || map.distance(ll, target) > 140) continue;
    return {x: box.left + at.x, y: box.top + at.y, lat: target.lat, lon: target.lng,
            tps: tps[i].props.tps_kode, dist: map.distance(ll, target)};
  }
  return null;
}"""


# Leaflet's map click at the picked background point: the very handler a mouse click on
# empty map reaches, without depending on which cluster bubble of the generated data a pixel
# happens to hit after the clusters re-render.
MAP_CLICK = """(s) => { var m = window.gisdesk.map, ll = L.latLng(s.lat, s.lon);
  m.fire("click", {latlng: ll, layerPoint: m.latLngToLayerPoint(ll),
                   containerPoint: m.latLngToContainerPoint(ll), originalEvent: new MouseEvent("click")}); }"""


def popup_html(page) -> str:
    return page.evaluate("() => { var p = document.querySelector('.leaflet-popup-content');"
                         " return p ? p.innerHTML : ''; }")


def test_desk_staff_reports_from_a_map_click(context, server, demo_engine):
    page = context.new_page()
    open_map(page, server, CITY_DESK)
    page.wait_for_timeout(1000)  # let the first fit to the city finish
    spot = page.evaluate(PICK_SPOT, CLICK_DX)
    assert spot and spot["dist"] < 150
    page.evaluate(MAP_CLICK, spot)
    link = page.locator(".leaflet-popup a[data-act=report-here]")
    link.wait_for(timeout=5000)
    assert "Laporkan kejadian di sini" in popup_html(page)
    query = parse_qs(urlsplit(link.get_attribute("href")).query)
    lat, lon = float(query["lat"][0]), float(query["lon"][0])
    # the clicked point (to a fraction of a pixel; 5e-6 degrees is about half a metre)
    assert abs(lat - spot["lat"]) < 5e-6 and abs(lon - spot["lon"]) < 5e-6
    assert query["tps"] == [spot["tps"]]  # within 150 m of that TPS

    link.click()
    page.wait_for_url("**/lapor?**")
    assert page.input_value("input[name=coords]") == f"{lat:.6f}, {lon:.6f}"
    assert page.input_value("input[name=tps]") == spot["tps"]
    page.select_option("select[name=category]", index=1)
    page.fill("textarea[name=description]", "uji klik peta")
    page.click("#incident-form button[type=submit]")

    def stored():
        confirm = page.locator("button[data-do=confirm]")
        if confirm.count():  # warnings (e.g. time, distance) are confirmed like a user would
            confirm.first.click()
        with demo_engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM incident WHERE description = 'uji klik peta' AND "
                "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
                "::geography, 1)"), {"lon": spot["lon"], "lat": spot["lat"]}).scalar_one()
    assert until(stored, what="the incident row") == 1


def test_map_click_outside_the_city_says_so_and_offers_no_report(context, server):
    page = context.new_page()
    open_map(page, server, CITY_DESK)
    page.wait_for_timeout(1000)  # let the first fit to the city finish
    for _ in range(4):  # zoom out as a user does, until the city is a small patch in the middle
        page.click(".leaflet-control-zoom-out")
        page.wait_for_timeout(400)
    box = page.locator(".leaflet-container").first.bounding_box()
    page.mouse.click(box["x"] + 60, box["y"] + box["height"] / 2)  # west of Mataram: the sea
    popup = page.locator(".leaflet-popup", has_text="Di luar wilayah kerja")
    popup.wait_for(timeout=10000)
    said = popup.inner_text()
    assert "km dari batas terdekat" in said and "Laporan hanya dapat dibuat di dalam wilayah" in said
    assert page.locator(".leaflet-popup a[data-act=report-here]").count() == 0
    assert "Buka formulir laporan" not in said


def test_tps_popup_links_for_reporters_only(browser, server):
    for username, expect in (("petugas", True), ("koordinator", False)):
        ctx = browser.new_context(viewport={"width": 1366, "height": 800}, locale="id-ID")
        page = ctx.new_page()
        open_map(page, server, username)
        page.evaluate("""() => { var g = window.gisdesk, it = g.layers.tps.items[0];
          g.map.setView(it.leaf.getLatLng(), 18, {animate: false}); }""")
        page.wait_for_timeout(800)  # the cluster group re-renders after the zoom
        # a TPS drawn on its own (not still inside a cluster bubble) in this view
        kode = page.evaluate("""() => { var g = window.gisdesk, b = g.map.getBounds();
          var it = g.layers.tps.items.filter(function (t) {
            return g.map.hasLayer(t.leaf) && b.contains(t.leaf.getLatLng()); })[0];
          it.leaf.openPopup(); return it.props.tps_kode; }""")
        page.locator(".leaflet-popup-content").first.wait_for(timeout=15000)
        until(lambda: popup_html(page), what="the TPS popup")
        html = popup_html(page)
        assert ("Laporkan kejadian di TPS ini" in html) is expect
        assert ("Perbarui kesiapan" in html) is expect
        if expect:
            assert f'href="/kesiapan/{kode}"' in html
            assert f"tps={kode}" in html
        ctx.close()


def test_viewer_map_click_opens_no_report_popup(context, server):
    page = context.new_page()
    open_map(page, server, "koordinator")
    page.wait_for_timeout(1000)  # let the first fit to the city finish
    spot = page.evaluate(PICK_SPOT, CLICK_DX)
    assert spot
    page.evaluate(MAP_CLICK, spot)
    time.sleep(0.8)
    assert page.locator(".leaflet-popup").count() == 0
    assert "Laporkan" not in page.content()


def _csrf(client) -> str:
    page = client.get("/insiden").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_polling_map_shows_a_verified_incident_without_reload(context, server, app, demo_engine):
    page = context.new_page()
    open_map(page, server, "koordinator")
    page.evaluate("() => { window.__sameDocument = true; }")
    count = "() => window.gisdesk.layers.incidents.shown"
    markers = "() => document.querySelectorAll('.leaflet-marker-pane .gd-diamond').length"
    before, before_dom = page.evaluate(count), page.evaluate(markers)
    assert before == before_dom > 0
    # unchanged data: polls answer 304 and nothing is redrawn
    polls = page.evaluate("() => window.gisdesk.live.polls")
    until(lambda: page.evaluate("() => window.gisdesk.live.polls") >= polls + 2, what="polls")
    assert page.evaluate("() => window.gisdesk.live.changes") == 0
    # one clock on the page: the strip's "keadaan per"; the live line speaks only of failures
    assert page.inner_text("#live-updated") == ""
    assert len(re.findall(r"\d{2}:\d{2} WITA", page.inner_text("main"))) == 1

    client = app.test_client()
    client.post("/login", data={"username": "supervisor", "password": DEMO_PASSWORD,
                                "csrf_token": re.search(
                                    r'name="csrf_token" type="hidden" value="([^"]+)"',
                                    client.get("/login").get_data(as_text=True)).group(1)})
    token = _csrf(client)
    with demo_engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(geom) + 0.0003, ST_Y(geom) FROM tps ORDER BY kode LIMIT 1")).one()
    new_id = str(uuid.uuid4())
    created = client.post("/api/incidents", headers={"X-CSRFToken": token}, json={
        "id": new_id, "category": "intimidasi", "severity": "berat", "lat": lat, "lon": lon,
        "occurred_at": "2024-02-14T09:15:00+08:00", "description": "uji peta langsung",
        "confirm_warnings": True})
    assert created.status_code == 201, created.get_json()
    verified = client.post(f"/api/incidents/{new_id}/verify", headers={"X-CSRFToken": token},
                           json={"note": "dicek lapangan"})
    assert verified.status_code == 200, verified.get_json()

    def shown_verified():
        return page.evaluate("""(id) => (window.gisdesk.layers.incidents.items || []).some(
          function (it) { return it.props.incident_id === id && it.props.status === 'verified'; })""",
                             new_id)
    until(shown_verified, what="the verified incident on the map")
    assert page.evaluate(count) == before + 1
    assert page.evaluate(markers) == before_dom + 1
    assert page.evaluate("() => window.__sameDocument === true")  # no reload
    assert page.evaluate("() => window.gisdesk.live.changes") >= 1


def test_map_reloads_its_analysis_layers_when_the_results_version_changes(context, server,
                                                                          demo_engine):
    page = context.new_page()
    open_map(page, server, "koordinator")
    page.evaluate("() => { window.__sameDocument = true; }")
    version = page.evaluate("() => window.gisdesk.results.version")
    assert version and page.inner_text("#analysis-as-of").startswith("keadaan per ")
    assigned = """(kode) => window.gisdesk.layers.kelurahan.items.filter(
        function (it) { return it.props.kelurahan_kode === kode; })[0].props.polri_assigned"""
    with demo_engine.connect() as conn:
        kode = conn.execute(text("SELECT kelurahan_kode FROM kelurahan_gap "
                                 "ORDER BY kelurahan_kode LIMIT 1")).scalar_one()
    before = page.evaluate(assigned, kode)

    def write(sql, **params):   # queued as the product queues it; drain = the worker
        with demo_engine.begin() as conn:
            eid = conn.execute(text("SELECT id FROM election WHERE active")).scalar_one()
            conn.execute(text(sql), {"e": eid, "k": kode, **params})
            changes.kelurahan(conn, eid, [kode], "uji")
        drain(demo_engine)
    write("""INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode,
                                               count, note)
             VALUES (:e, 'polri', 'kelurahan', :k, 3, 'uji versi peta')""")
    try:
        until(lambda: page.evaluate("() => window.gisdesk.results.reloads") >= 1,
              what="the map reloading the new results")
        assert page.evaluate("() => window.gisdesk.results.version") > version
        until(lambda: page.evaluate(assigned, kode) == before + 3, what="the new numbers")
        assert page.evaluate("() => window.__sameDocument === true")  # no page reload
    finally:
        write("DELETE FROM personnel_assignment WHERE note = 'uji versi peta'")


def _ready_tps(demo_engine, nth: int):
    """The nth TPS (by code) whose readiness is "siap", and the length of its history."""
    with demo_engine.connect() as conn:
        tps = conn.execute(text("SELECT t.id, t.kode FROM tps t JOIN tps_readiness r "
                                "ON r.tps_id = t.id WHERE r.state = 'siap' ORDER BY t.kode "
                                "OFFSET :n LIMIT 1"), {"n": nth}).one()
        n_hist = conn.execute(text("SELECT count(*) FROM tps_readiness_history WHERE tps_id = :t"),
                              {"t": tps.id}).scalar_one()
    return tps, n_hist


def test_readiness_page_update_and_viewer_read_only(browser, context, server, demo_engine):
    tps, n_hist = _ready_tps(demo_engine, 0)
    page = context.new_page()
    errors = login(page, server, CITY_DESK, f"/kesiapan/{tps.kode}")
    assert "Siap" in page.inner_text("#current-state")
    rows_before = page.locator("#readiness-history tbody tr").count()
    page.uncheck("input[name=item][value=kotak_suara]")  # a critical item
    assert "Belum siap" in page.inner_text("#state-preview")
    page.fill("textarea[name=note]", "kotak suara belum tiba")
    page.click("#readiness-save")
    until(lambda: "Tersimpan" in (page.inner_text("#readiness-message") or ""),
          what="the save message")
    assert "Belum siap" in page.inner_text("#current-state")
    assert "WITA" in page.inner_text("#current-updated")
    assert page.locator("#readiness-history tbody tr").count() == rows_before + 1
    assert "kotak suara belum tiba" in page.inner_text("#readiness-history tbody tr >> nth=0")
    assert errors == [], errors
    with demo_engine.connect() as conn:
        state = conn.execute(text("SELECT state FROM tps_readiness WHERE tps_id = :t"),
                             {"t": tps.id}).scalar_one()
        hist = conn.execute(text("SELECT count(*), count(DISTINCT client_uuid) FROM "
                                 "tps_readiness_history WHERE tps_id = :t"), {"t": tps.id}).one()
    assert state == "belum" and hist[0] == n_hist + 1 and hist[1] == hist[0]

    viewer_ctx = browser.new_context(viewport={"width": 1366, "height": 800}, locale="id-ID")
    viewer = viewer_ctx.new_page()
    login(viewer, server, "koordinator", f"/kesiapan/{tps.kode}")
    assert viewer.locator("#readiness-form").count() == 0
    assert viewer.locator("#readiness-readonly").count() == 1
    assert "Belum siap" in viewer.inner_text("#current-state")
    status = viewer.evaluate("""async (url) => {
      var page = await (await fetch('/login')).text();
      var m = page.match(/name="csrf_token" type="hidden" value="([^"]+)"/);
      var r = await fetch(url, {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': m ? m[1] : ''},
        body: JSON.stringify({client_uuid: crypto.randomUUID(), items: {}})});
      return r.status; }""", f"/api/tps/{tps.kode}/readiness")
    assert status == 403
    viewer_ctx.close()


def test_readiness_saved_offline_is_queued_and_sent_later_in_check_order(context, server,
                                                                        demo_engine):
    tps, n_hist = _ready_tps(demo_engine, 1)
    page = context.new_page()
    login(page, server, CITY_DESK, f"/kesiapan/{tps.kode}")
    context.set_offline(True)
    page.uncheck("input[name=item][value=kotak_suara]")
    page.fill("textarea[name=note]", "pertama: kotak belum tiba")
    page.click("#readiness-save")
    until(lambda: "1 data kesiapan" in page.inner_text("#readiness-queue"), what="1 queued")
    page.check("input[name=item][value=kotak_suara]")
    page.fill("textarea[name=note]", "kedua: semua lengkap")
    until(lambda: not page.is_disabled("#readiness-save"), what="the button back")
    page.click("#readiness-save")
    until(lambda: "2 data kesiapan" in page.inner_text("#readiness-queue"), what="2 queued")
    queued = page.evaluate("() => window.GisdeskReadiness.queue()")
    assert [q["note"] for q in queued] == ["pertama: kotak belum tiba", "kedua: semua lengkap"]
    assert queued[0]["checked_at"] <= queued[1]["checked_at"]
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tps_readiness_history WHERE tps_id = :t"),
                            {"t": tps.id}).scalar_one() == n_hist       # nothing sent yet
    context.set_offline(False)
    page.evaluate("() => window.GisdeskReadiness.flush()")
    until(lambda: "Tersimpan" in (page.inner_text("#readiness-message") or ""),
          what="the save message")
    assert page.evaluate("() => window.GisdeskReadiness.queue().length") == 0
    assert "Siap" in page.inner_text("#current-state")
    with demo_engine.connect() as conn:
        rows = conn.execute(text("SELECT client_uuid::text, note FROM tps_readiness_history "
                                 "WHERE tps_id = :t ORDER BY checked_at DESC NULLS LAST "
                                 "LIMIT 2"), {"t": tps.id}).all()
        state = conn.execute(text("SELECT state, note FROM tps_readiness WHERE tps_id = :t"),
                             {"t": tps.id}).one()
    assert [r.client_uuid for r in rows] == [q["client_uuid"] for q in reversed(queued)]
    assert tuple(state) == ("siap", "kedua: semua lengkap")


def test_readiness_list_screenshots(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height, name in ((1366, 900, "desktop"), (390, 844, "390")):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
        page = ctx.new_page()
        errors = login(page, server, "petugas", "/kesiapan")
        assert page.locator("#rollup tbody tr").count() > 10
        assert page.locator("#tps-rows tbody tr").count() > 0
        # choosing another kelurahan reloads the list for it
        other = page.eval_on_selector("#f-kelurahan", "s => s.options[s.options.length - 1].value")
        page.select_option("#f-kelurahan", other)
        page.wait_for_url(f"**/kesiapan?kelurahan={other}")
        assert page.eval_on_selector("#f-kelurahan", "s => s.value") == other
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page wider than the screen at {width}px"
        page.screenshot(path=str(SHOTS / f"kesiapan-{name}.png"))
        assert errors == [], errors
        ctx.close()
