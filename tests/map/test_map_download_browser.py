"""The "Unduh" control on /map in headless Chromium: a planner downloads the visible layers
with the map's filters and view (the file holds exactly what the map shows), the file name
carries WITA time; a viewer (no export right) sees no control."""
from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import live
from live import serving
from map.conftest import make_app
from map.seed import PASSWORD, seed


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    with engine.begin() as conn:
        seed(conn, n_tps=120)
    app = make_app(engine, tmp_path_factory.mktemp("home"), WTF_CSRF_ENABLED=True)
    with serving(app) as url:
        yield url


def open_map(browser, server, role):
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="id-ID",
                                  accept_downloads=True)
    page = context.new_page()
    live.open_map(page, server, role, PASSWORD)
    return context, page


def _links(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#download-links a", "els => Object.fromEntries(els.map(a => [a.dataset.layer, a.href]))")


def test_planner_downloads_the_visible_tps_with_the_maps_filters_and_view(browser, server):
    context, page = open_map(browser, server, "planner")
    try:
        links = _links(page)
        assert "tps" in links and "kelurahan" in links
        q = parse_qs(urlsplit(links["tps"]).query)
        assert len(q["bbox"][0].split(",")) == 4 and "kecamatan_kode" not in q
        # filters on screen become the API's parameters
        kode = page.eval_on_selector("#f-kecamatan option:nth-child(2)", "o => o.value")
        page.select_option("#f-kecamatan", kode)
        page.uncheck("input[name=kelas][value=kurang_rawan]")
        page.wait_for_timeout(300)
        href = _links(page)["tps"]
        q = parse_qs(urlsplit(href).query)
        assert q["kecamatan_kode"] == [kode] and "kurang_rawan" not in q["filter"][0]
        body = context.request.get(href)
        assert body.status == 200
        features = json.loads(body.body())["features"]
        assert features and all(f["properties"]["kecamatan_kode"] == kode and
                                f["properties"]["kelas"] != "kurang_rawan" for f in features)
        # without the view limit the file holds exactly what the map shows of that layer
        page.uncheck("#download-view")
        page.wait_for_timeout(300)
        whole = json.loads(context.request.get(_links(page)["tps"]).body())["features"]
        shown = page.evaluate("() => window.gisdesk.layers.tps.shown")
        assert len(whole) == shown >= len(features) > 0
        # the real click downloads a file named in WITA
        page.select_option("#download-format", "zip")
        with page.expect_download() as info:
            page.click("#download-links a[data-layer=tps]")
        download = info.value
        assert download.suggested_filename.startswith("tps-")
        assert download.suggested_filename.endswith("-WITA.zip")
        with zipfile.ZipFile(BytesIO(Path(download.path()).read_bytes())) as archive:
            assert {"tps.csv", "tps.csvt", "tps.prj"} <= set(archive.namelist())
    finally:
        context.close()


def test_viewer_without_the_export_right_sees_no_download_control(browser, server):
    context, page = open_map(browser, server, "viewer")
    try:
        assert page.query_selector("#map-download") is None
    finally:
        context.close()
