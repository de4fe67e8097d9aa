"""/unggah on a 390x844 phone in headless Chromium: the empty form and a refused file with its
problem table fit the screen's width (nothing scrolls sideways; the table scrolls inside
its own box)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bulk.conftest import DEMO_USERS
from gisdesk.demo.taxonomy import DEMO_PASSWORD
from live import log_in, serving, watch_errors

SHOTS = Path("/tmp/gisdesk-shots")
FITS = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
# a ratings file whose every row is wrong in a different, long way
BAD_RATINGS = ("kode_tps;sumber;kelas;tanggal;catatan\n"
               "52.71.01.1004-999;polri;rawan;2024-02-01;TPS yang tidak ada di kelurahan ini\n"
               "52.71.01.1004-001;polisi_resort_kota_mataram_bagian_operasi;sangat-rawan-sekali;"
               "01/02/2024;" + "catatan panjang tanpa spasi" .replace(" ", "_") * 6 + "\n")


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID",
                                  device_scale_factor=1, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def test_upload_page_fits_a_phone_before_and_after_a_refused_file(phone, server, tmp_path):
    errors = watch_errors(phone, ignore=("favicon", "422"))  # the refused file answers 422
    log_in(phone, server, DEMO_USERS["supervisor"], DEMO_PASSWORD, "/unggah")
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=SHOTS / "unggah-phone.png", full_page=True)
    assert phone.evaluate(FITS), phone.evaluate("() => document.scrollingElement.scrollWidth")

    bad = tmp_path / "penilaian_salah.csv"
    bad.write_text(BAD_RATINGS, encoding="utf-8")
    phone.select_option("select[name=kind]", "ratings")
    phone.set_input_files("input[name=file]", str(bad))
    phone.click("form.upload button[type=submit]")
    phone.locator("table.problems").wait_for(timeout=30000)
    phone.screenshot(path=SHOTS / "unggah-phone-ditolak.png", full_page=True)
    assert phone.locator("table.problems tbody tr").count() >= 2
    assert phone.evaluate(FITS), phone.evaluate("() => document.scrollingElement.scrollWidth")
    assert errors == []
