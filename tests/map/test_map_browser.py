"""The coordinator map in headless Chromium (Debian's, never a downloaded one), against a
live app on 127.0.0.1 and a database seeded with a city-sized 1,250 TPS.

Every request is routed: anything for another host is aborted and recorded, and the tests
assert there was none. The map's default base layer is "no basemap", so not even OSM tiles
are asked for (a user who picks OpenStreetMap in the layer control gets tiles from there:
the one foreign host the page may ever contact, and only on request).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from live import open_map, serving
from map.conftest import make_app
from map.seed import KELURAHAN, PASSWORD, kelas_of, seed

N_TPS = 1250
SHOTS = Path("/tmp/gisdesk-shots")
LAYERS = Path(__file__).resolve().parents[2] / "layers"
SECRET_LAYER = """
id = "hitung_cepat_test"
title = "Uji lapisan rahasia"
geometry = "Point"
source = "tps"
permission = "quickcount"
[style]
kind = "single"
color = "#000000"
[[properties]]
name = "tps_kode"
type = "string"
title = "Kode TPS"
"""


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    with engine.begin() as conn:
        seed(conn, n_tps=N_TPS)
    home = tmp_path_factory.mktemp("home")
    layers_dir = tmp_path_factory.mktemp("layers")
    for path in LAYERS.glob("*.toml"):
        shutil.copy(path, layers_dir)
    (layers_dir / "hitung_cepat_test.toml").write_text(SECRET_LAYER)
    app = make_app(engine, home, layers_dir=layers_dir, WTF_CSRF_ENABLED=True)
    with serving(app) as url:
        yield url


class Recorder:
    """Routes every request: local ones go through, any other host is aborted and kept."""

    def __init__(self):
        self.foreign: list[str] = []
        self.local: list[str] = []

    def __call__(self, route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            self.local.append(route.request.url)
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()


def open_context(browser, width=1366, height=800):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    recorder = Recorder()
    context.route("**/*", recorder)
    return context, recorder


@pytest.fixture(scope="module")
def viewer_page(browser, server):
    context, recorder = open_context(browser)
    page = context.new_page()
    open_map(page, server, "viewer", PASSWORD, ignore=())
    yield page, recorder
    context.close()


def tps_on_screen(page) -> dict:
    return page.evaluate("""() => {
        // what the cluster group has on the map now (during a zoom the fading icons of the
        // previous zoom are still in the DOM, so icons are not counted from the page)
        const g = window.gisdesk.layers.tps.group, shown = g._featureGroup.getLayers();
        const bubbles = shown.filter(l => l instanceof L.MarkerCluster);
        const clusters = bubbles.length;
        const inClusters = bubbles.reduce((n, c) => n + c.getChildCount(), 0);
        const single = shown.length - clusters;
        return {clusters, inClusters, single, inGroup: g.getLayers().length};
    }""")


def view_of(page) -> dict:
    return page.evaluate("""() => { const m = window.gisdesk.map, c = m.getCenter();
        return {lat: c.lat, lng: c.lng, zoom: m.getZoom()}; }""")


def test_map_renders_its_layers_and_asks_no_other_host(viewer_page):
    page, recorder = viewer_page
    # the cluster icons are drawn in chunks, and while a zoom settles the group holds the
    # bubbles of both zoom levels: read the counts once the map is at rest
    for _ in range(50):
        page.wait_for_timeout(200)
        counts = tps_on_screen(page)
        if counts["inClusters"] + counts["single"] == counts["inGroup"]:
            break
    assert counts["inGroup"] == N_TPS
    assert counts["clusters"] > 0
    assert counts["inClusters"] + counts["single"] == N_TPS
    assert page.locator("path.gd-layer-kelurahan").count() == 3
    assert page.locator("path.gd-layer-kecamatan").count() == 2
    assert page.locator(".demo-badge").inner_text() == "DATA DEMO"
    assert "1.250" in page.locator(".map-strip").inner_text()
    assert page.locator("#gap-rows tr.main").count() == 2  # Pagesangan has a surplus: not listed
    assert recorder.foreign == []
    assert any("/vendor/leaflet/leaflet.js" in url for url in recorder.local)


def test_tps_popup_shows_class_and_reasons(viewer_page):
    page, _ = viewer_page
    index = next(i for i in range(N_TPS) if kelas_of(i) == "sangat_rawan" and i % 10 != 9)
    item = _item_index(page, index)
    page.evaluate("""(i) => { const it = window.gisdesk.layers.tps.items[i];
        window.gisdesk.map.setView(it.leaf.getLatLng(), 18, {animate: false}); }""", item)
    page.wait_for_timeout(400)
    point = page.evaluate("""(i) => { const m = window.gisdesk.map;
        const p = m.latLngToContainerPoint(window.gisdesk.layers.tps.items[i].leaf.getLatLng());
        const r = m.getContainer().getBoundingClientRect();
        return {x: r.left + p.x, y: r.top + p.y}; }""", item)
    page.mouse.click(point["x"], point["y"])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "Sangat rawan" in text and "Alasan" in text and "Polri: sangat rawan" in text
    page.keyboard.press("Escape")


def _item_index(page, seed_index: int) -> int:
    """Position in the loaded TPS items of the seed's i-th TPS."""
    code = f"{list(KELURAHAN)[seed_index % 3]}-{seed_index // 3 + 1:03d}"
    codes = page.evaluate("() => window.gisdesk.layers.tps.items.map(it => it.props.tps_kode)")
    return codes.index(code)


def test_class_filter_changes_what_is_shown(viewer_page):
    page, _ = viewer_page
    page.evaluate("() => { window.gisdesk.map.fitBounds(window.gisdesk.map.getBounds()); }")
    page.uncheck("input[name=kelas][value=kurang_rawan]")
    page.wait_for_timeout(300)
    expected = sum(1 for i in range(N_TPS) if kelas_of(i) != "kurang_rawan")
    assert tps_on_screen(page)["inGroup"] == expected
    page.check("input[name=kelas][value=kurang_rawan]")
    page.wait_for_timeout(300)
    assert tps_on_screen(page)["inGroup"] == N_TPS


def test_time_window_and_kecamatan_filters_change_what_is_shown(viewer_page):
    page, _ = viewer_page
    shown = "() => [window.gisdesk.layers.incidents.shown, window.gisdesk.layers.tps.shown]"
    assert page.evaluate(shown) == [1, N_TPS]  # default window: 24 h before the analysis time
    page.check("input[name=window][value='0']")
    assert page.evaluate(shown) == [2, N_TPS]
    page.select_option("#f-kecamatan", "52.71.02")
    in_mataram = sum(1 for i in range(N_TPS) if i % 3 == 2)
    assert page.evaluate(shown) == [0, in_mataram]
    assert page.locator("#gap-rows tr.main").count() == 0  # Pagesangan is not short
    page.select_option("#f-kecamatan", "")
    page.check("input[name=window][value='24']")
    assert page.evaluate(shown) == [1, N_TPS]


def test_gap_row_zooms_to_kelurahan_and_opens_its_popup(viewer_page):
    page, _ = viewer_page
    page.wait_for_timeout(500)  # let a zoom animation of an earlier test end
    page.evaluate("() => { window.gisdesk.map.setView([-8.58, 116.10], 12, {animate: false}); }")
    before = view_of(page)
    page.click("#gap-rows tr.main[data-kode='52.71.01.1004']")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert "Ampenan Selatan" in popup.inner_text()
    assert "kejadian berat 24 jam terakhir" in popup.inner_text()
    after = view_of(page)
    assert after["zoom"] > before["zoom"]
    assert abs(after["lng"] - 116.08) < 0.005 and abs(after["lat"] + 8.58) < 0.005


def test_viewer_cannot_fetch_a_layer_its_role_may_not_see(viewer_page):
    page, _ = viewer_page
    statuses = page.evaluate("""async () => {
        const a = await fetch('/map/layers/hitung_cepat_test.geojson');
        const b = await fetch('/map/layers/tps.geojson?limit=1');
        return [a.status, b.status]; }""")
    assert statuses == [404, 200]
    assert "Uji lapisan rahasia" not in page.content()


def test_supervisor_sees_the_added_layer(browser, server):
    context, recorder = open_context(browser)
    page = context.new_page()
    open_map(page, server, "supervisor", PASSWORD, ignore=())
    assert "Uji lapisan rahasia" in page.locator(".leaflet-control-layers").inner_html()
    assert recorder.foreign == []
    context.close()


def test_anonymous_is_sent_to_login_and_json_gets_401(browser, server):
    context, _ = open_context(browser)
    response = context.request.get(server + "/map", max_redirects=0)
    assert response.status == 302 and "/login" in response.headers["location"]
    response = context.request.get(server + "/map/layers/tps.geojson", max_redirects=0)
    assert response.status == 401
    assert json.loads(response.text())["status"] == 401
    context.close()


@pytest.mark.parametrize("width,height", [(1366, 800), (390, 844)])
def test_screenshots_and_load_measure(browser, server, width, height):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, recorder = open_context(browser, width, height)
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda req: sizes.__setitem__(urlsplit(req.url).path, (
        req.sizes()["responseBodySize"] + req.sizes()["responseHeadersSize"])))
    open_map(page, server, "viewer", PASSWORD, ignore=())
    page.wait_for_timeout(500)
    timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {load_ms: Math.round(n.loadEventEnd - n.startTime),
                ready_ms: Math.round(window.gisdesk.readyAt - n.startTime)}; }""")
    page.screenshot(path=str(SHOTS / f"map-{width}x{height}.png"), full_page=width < 800)
    page.click("#gap-rows tr.main[data-kode='52.71.01.1004']")
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / f"map-{width}x{height}-gap.png"))
    (SHOTS / f"measure-{width}x{height}.json").write_text(json.dumps(
        {**timing, "bytes_after_login": sum(sizes.values()), "requests": len(sizes),
         "tps": N_TPS, "by_path": sizes}, indent=1))
    assert recorder.foreign == []
    context.close()


def test_standalone_briefing_map_works_from_a_file_with_no_host(browser, server, engine,
                                                                tmp_path):
    from gisdesk.maps import build_standalone_map
    with engine.connect() as conn:
        election_id = conn.exec_driver_sql("SELECT id FROM election WHERE active").scalar_one()
        html = build_standalone_map(conn, election_id, role="viewer")
    assert "http://" not in html.replace("http://www.w3.org", "") or "tile.openstreetmap" in html
    path = tmp_path / "briefing.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url.startswith(
                                             "file://") else route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
    assert page.evaluate("() => window.gisdesk.layers.tps.items.length") == N_TPS
    assert page.locator("path.gd-layer-kelurahan").count() == 3
    page.click("#gap-rows tr.main[data-kode='52.71.01.1004']")
    assert "Ampenan Selatan" in page.locator(".leaflet-popup-content").inner_text()
    page.wait_for_timeout(600)  # cluster and popup animations
    page.screenshot(path=str(SHOTS / "standalone-1366x800.png"))
    context.close()
