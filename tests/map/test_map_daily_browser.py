"""The coordinator's map as people use it every day, in headless Chromium, with the mouse
and the keyboard only: polygons under the points' canvas, the totals strip and the address
following the filters, search, the folding layer control and legend, the briefing print.

Seed: 2 kecamatan, 3 kelurahan boxes (west to east: Ampenan Selatan, Ampenan Tengah,
Pagesangan), 300 TPS in the southern strip of each box; the northern part has no point.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from live import open_map, serving
from map.conftest import make_app
from map.seed import PASSWORD, kelas_of, seed
from map.test_map_browser import open_context

N_TPS = 300


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    with engine.begin() as conn:
        seed(conn, n_tps=N_TPS)
    with serving(make_app(engine, tmp_path_factory.mktemp("home"),
                              WTF_CSRF_ENABLED=True)) as url:
        yield url


@pytest.fixture
def page(browser, server):
    context, recorder = open_context(browser)
    page = context.new_page()
    open_map(page, server, "viewer", PASSWORD, ignore=())
    yield page
    assert recorder.foreign == []
    context.close()


def kelurahan_box(page, index: int) -> dict:
    """Screen box of the index-th kelurahan from the west (their SVG paths)."""
    boxes = [page.locator("path.gd-layer-kelurahan").nth(i).bounding_box()
             for i in range(page.locator("path.gd-layer-kelurahan").count())]
    return sorted(boxes, key=lambda b: b["x"])[index]


def click_north_of(page, index: int) -> str:
    """Click the northern part of a kelurahan (no point there); the popup's text."""
    box = kelurahan_box(page, index)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.12)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    return popup.inner_text()


def toggle_layers(page, titles: tuple[str, ...], on: bool) -> None:
    """Through the layer control: unfold it, (un)tick the layers, fold it out of the way."""
    page.click(".leaflet-control-layers .gd-fold")
    for title in titles:
        box = page.locator(".leaflet-control-layers-overlays label", has_text=title).first
        box.locator("input").set_checked(on)
    page.click(".leaflet-control-layers .gd-fold")


def test_kelurahan_polygon_takes_clicks_and_hovers_through_the_points_canvas(page):
    # points drawn one by one (not clustered) put a canvas over the whole map
    toggle_layers(page, ("TPS: sumber berbeda pendapat",), True)
    assert page.locator(".leaflet-gd-points-pane canvas").count() == 1
    text = click_north_of(page, 0)
    assert "Ampenan Selatan" in text and "Kekurangan personel Polri" in text
    page.keyboard.press("Escape")
    box = kelurahan_box(page, 2)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.1)
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.1)
    # the hover names the polygon under the mouse (the clicked one's tooltip may still fade)
    page.locator(".leaflet-tooltip", has_text="Pagesangan").wait_for(state="visible")
    # every point layer off: the canvas stays, the polygons must still answer
    toggle_layers(page, ("TPS: sumber berbeda pendapat", "TPS menurut kelas kerawanan",
                         "Kejadian", "Sebaran kejadian"), False)
    assert page.locator(".leaflet-gd-points-pane canvas").count() == 1
    assert "Ampenan Tengah" in click_north_of(page, 1)


def test_strip_and_address_follow_the_filters_and_back_undoes_them(page, browser, server):
    strip = page.locator("#map-strip")
    assert "Seluruh kota" in strip.inner_text() and "300 TPS" in strip.inner_text()
    page.select_option("#f-kecamatan", label="Mataram")
    strip.filter(has_text="Kecamatan Mataram").wait_for(timeout=5000)
    text = page.locator("#map-strip").inner_text()
    assert "100 TPS" in text and "lebih 2 di kelurahan lain" in text
    assert parse_qs(urlsplit(page.url).query) == {"kecamatan": ["52.71.02"]}
    page.uncheck("input[name=kelas][value=kurang_rawan]")
    page.locator("#map-strip", has_text="kelas rawan, sangat rawan, khusus").wait_for(timeout=5000)
    shown = sum(1 for i in range(N_TPS) if i % 3 == 2 and kelas_of(i) != "kurang_rawan")
    assert f"{shown} TPS" in page.locator("#map-strip").inner_text()
    query = parse_qs(urlsplit(page.url).query)
    assert query["kelas"] == ["rawan,sangat_rawan,khusus,belum_dinilai"]
    shared = page.url
    assert page.locator("#print-link").get_attribute("href").endswith("?kecamatan=52.71.02")

    page.go_back()
    page.locator("#map-strip", has_text="semua kelas TPS").wait_for(timeout=5000)
    assert page.is_checked("input[name=kelas][value=kurang_rawan]")
    assert page.input_value("#f-kecamatan") == "52.71.02"
    page.go_back()
    page.locator("#map-strip", has_text="Seluruh kota").wait_for(timeout=5000)
    assert page.input_value("#f-kecamatan") == ""
    assert urlsplit(page.url).query == ""

    # the shared link opens the same map for someone else
    context, _ = open_context(browser)
    other = context.new_page()
    other.goto(server + "/login")
    other.fill("input[name=username]", "planner")
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    other.goto(shared)
    other.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    assert other.input_value("#f-kecamatan") == "52.71.02"
    assert not other.is_checked("input[name=kelas][value=kurang_rawan]")
    assert f"{shown} TPS" in other.locator("#map-strip").inner_text()
    assert other.locator("path.gd-layer-kelurahan").count() == 1
    context.close()


def test_search_opens_and_rings_the_tps_and_closes_the_list(page):
    search = page.locator("#map-search")
    search.click()
    page.keyboard.type("TPS 007")
    results = page.locator("#search-results button")
    results.first.wait_for(timeout=5000)
    assert results.count() == 3                       # one per kelurahan
    second = results.nth(1).inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert second.split(",")[1].strip() in popup.inner_text()
    assert "TPS 007" in popup.inner_text() and "Kelas" in popup.inner_text()
    assert page.locator("#search-results li").count() == 0
    assert page.locator("path.gd-found").count() == 1
    page.keyboard.press("Escape")
    # Enter in the box takes the first hit straight away
    search.fill("Pagesangan")
    search.press("Enter")
    page.locator(".leaflet-popup-content", has_text="Pagesangan").wait_for(timeout=5000)
    assert page.locator("#search-results li").count() == 0
    assert page.locator("path.gd-found").count() == 0


def test_layer_control_and_legend_fold_and_are_remembered_per_user(page, server):
    layers = page.locator(".leaflet-control-layers-list")
    legend = page.locator(".gd-legend details")
    assert not layers.is_visible()                    # folded at first
    assert legend.get_attribute("open") is not None   # legend open on a desktop
    page.click(".leaflet-control-layers .gd-fold")
    assert layers.is_visible()
    page.click(".gd-legend summary")
    assert legend.get_attribute("open") is None
    page.reload()
    page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    assert page.locator(".leaflet-control-layers-list").is_visible()
    assert page.locator(".gd-legend details").get_attribute("open") is None
    # another user on the same browser keeps their own choice (the defaults here)
    page.click("text=Keluar")
    open_map(page, server, "supervisor", PASSWORD)
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    assert page.locator(".gd-legend details").get_attribute("open") is not None


def test_briefing_print_for_the_filtered_kecamatan_and_its_pdf(page):
    page.select_option("#f-kecamatan", label="Ampenan")
    page.locator("#map-strip", has_text="Kecamatan Ampenan").wait_for(timeout=5000)
    page.click("#print-link")
    page.wait_for_url("**/map/cetak?kecamatan=52.71.01")
    assert "Briefing pengamanan TPS · Kecamatan Ampenan" in page.locator("h1").inner_text()
    assert page.locator("svg.briefing-map .layer-kelurahan path").count() == 2
    assert page.locator(".legend h3", has_text="TPS menurut kelas kerawanan").count() == 1
    assert page.locator(".screen-only").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".screen-only").is_visible()   # no links on paper
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.click("text=Unduh PDF")
    path = download.value.path()
    assert download.value.suggested_filename == "briefing-52.71.01.pdf"
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
    page.click("text=Kembali ke peta")
    page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    assert page.input_value("#f-kecamatan") == "52.71.01"


def test_incident_chart_counts_per_hour_and_the_slider_replays_the_day(page):
    # the day of the results (13:00 WITA): one verified incident at 11:00 in Ampenan; the
    # one of two days before is not in this day; the rejected one is never counted
    bars = page.locator("#time-chart svg rect")
    assert bars.count() == 1
    assert bars.first.locator("title").text_content() == "11:00–12:00 WITA · Ampenan: 1 kejadian"
    assert "Ampenan" in page.inner_text("#time-keys")
    diamonds = page.locator(".leaflet-marker-pane .gd-diamond")
    assert diamonds.count() == 1
    page.focus("#time-slider")
    page.keyboard.press("Home")                        # 00:00: nothing had happened yet
    assert page.inner_text("#time-label") == "pukul 00:00 WITA"
    assert not page.is_checked("#time-live")
    assert diamonds.count() == 0
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#time-label") == "pukul 12:00 WITA"
    assert diamonds.count() == 1
    page.check("#time-live")                           # back to the latest state
    assert page.inner_text("#time-label") == "sekarang (keadaan terbaru)"
    assert diamonds.count() == 1
    page.click("#time-play")                           # the replay starts at midnight
    assert page.get_attribute("#time-play", "aria-pressed") == "true"
    assert page.inner_text("#time-label").startswith("pukul 0")
    page.click("#time-play")
    assert page.get_attribute("#time-play", "aria-pressed") == "false"
