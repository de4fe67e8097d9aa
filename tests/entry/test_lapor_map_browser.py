"""/lapor on a phone in headless Chromium: the small map to pick or confirm the point, the
warning before sending a point outside the work area, and the message under the form that
follows the report (offline, sent, refused), as a petugas uses them (clicks and keys)."""
from __future__ import annotations

from sqlalchemy import text

from entry import seed as S
from entry.test_browser import count, fill, log_in, page  # noqa: F401  (phone page fixture)


def test_map_shows_the_typed_point_and_a_tap_picks_a_point(page, engine):  # noqa: F811
    log_in(page)
    page.wait_for_selector("#lapor-map.leaflet-container path.leaflet-interactive, "
                           "#lapor-map.leaflet-container path")
    lon, lat = S.IN_A
    page.fill("input[name=coords]", f"{lat}, {lon}")
    page.wait_for_selector("#coords-preview.ok")
    assert "Kelurahan A" in page.text_content("#coords-preview")
    # the map centres on the typed point: a tap in its middle picks (nearly) the same point
    box = page.locator("#lapor-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    picked = page.input_value("input[name=coords]")
    got_lat, got_lon = (float(v) for v in picked.split(","))
    assert abs(got_lat - lat) < 0.0005 and abs(got_lon - lon) < 0.0005
    page.wait_for_selector("#coords-preview.ok")
    assert "Kelurahan A" in page.text_content("#coords-preview")
    before = count(engine)
    page.select_option("select[name=category]", "intimidasi")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#form-message.ok >> text=terkirim")
    assert count(engine) == before + 1


def test_a_point_outside_the_city_is_stopped_before_sending_with_one_clear_message(
        page, engine):  # noqa: F811
    log_in(page)
    before = count(engine)
    lon, lat = S.OUTSIDE
    fill(page, f"{lat}, {lon}", "Titik salah")
    page.wait_for_selector("#coords-preview.bad")
    assert "di luar wilayah kerja" in page.text_content("#coords-preview")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#form-message.err")
    message = page.text_content("#form-message")
    assert "di luar wilayah kerja" in message and "km dari batas terdekat" in message
    assert "," in message.split("(")[1].split(" km")[0]      # 5,5 km: Indonesian decimal
    page.wait_for_timeout(500)
    assert count(engine) == before
    assert "Antrean kosong" in page.text_content("#queue")
    assert "coords" not in page.inner_text("body")


def test_the_message_under_the_form_follows_the_report_offline_then_sent(page, engine):  # noqa: F811
    log_in(page)
    before = count(engine)
    page.context.set_offline(True)
    lon, lat = S.IN_A
    fill(page, f"{lat}, {lon}", "Dikirim saat jaringan kembali")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#queue li[data-state=retry]")
    message = page.text_content("#form-message")
    assert "Tanpa jaringan" in message and "sedang dikirim" not in message
    page.context.set_offline(False)               # back online: sent without a click
    page.wait_for_selector("#form-message.ok >> text=terkirim", timeout=30000)
    assert "Kelurahan A" in page.text_content("#form-message")
    assert count(engine) == before + 1


def test_after_a_rejection_the_message_says_so_once_without_field_keys(page, engine):  # noqa: F811
    log_in(page)
    before = count(engine)
    page.context.set_offline(True)                 # offline: the point cannot be checked first
    lon, lat = S.OUTSIDE
    fill(page, f"{lat}, {lon}", "Ditolak server")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#queue li[data-state=retry]")
    page.context.set_offline(False)
    page.wait_for_selector("#rejected li[data-state=rejected]", timeout=30000)
    page.wait_for_selector("#form-message.err")
    banner = page.text_content("#form-message")
    assert "ditolak server" in banner and "sedang dikirim" not in banner
    rejected = page.inner_text("#rejected")
    assert rejected.count("di luar wilayah kerja") == 1
    assert "coords" not in page.inner_text("body")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident")).scalar() == before
