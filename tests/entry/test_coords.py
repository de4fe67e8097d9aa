"""Typed coordinates in the forms desk operators use (no database needed)."""
from __future__ import annotations

import pytest

from gisdesk.entry.coords import CoordsError, parse_coords

LAT, LON = -8.5866667, 116.1083333   # 8°35'12"S 116°06'30"E


@pytest.mark.parametrize("typed", [
    "-8.5866667, 116.1083333",
    "-8.5866667,116.1083333",
    "-8.5866667 116.1083333",
    "116.1083333 -8.5866667",                 # lon lat: 116 cannot be a latitude
    "116.1083333, -8.5866667",
    "-8,5866667 116,1083333",                 # decimal comma
    "-8,5866667; 116,1083333",
    "-8,5866667, 116,1083333",
    "-8,5866667,116,1083333",
    "116,1083333;-8,5866667",
    "8°35'12\"S 116°06'30\"E",
    "8°35'12\" S, 116°06'30\" E",
    "8° 35' 12\" LS 116° 6' 30\" BT",
    "S 8°35'12\" E 116°6'30\"",
    "S8°35'12\" E116°06'30\"",
    "8 35 12 S 116 06 30 E",
    "8 35 12 s 116 6 30 e",
    "116 06 30 E 8 35 12 S",
    "-8 35 12 116 06 30",
    "-8°35'12\" 116°06'30\"",
    "8°35′12″S 116°06′30″E",                  # prime symbols
    "8º35'12''S 116º06'30''E",                # ordinal sign, two apostrophes
    "8°35.2'S 116°6.5'E",                     # degrees and decimal minutes
    "8.5866667 S 116.1083333 E",
    "8.5866667°S, 116.1083333°E",
    "8,5866667 LS 116,1083333 BT",
    "lat: -8.5866667, lon: 116.1083333",
    "lon=116.1083333 lat=-8.5866667",
    "Lintang -8.5866667 Bujur 116.1083333",
    "POINT(116.1083333 -8.5866667)",
    "[116.1083333, -8.5866667]",
    "https://www.google.com/maps/@-8.5866667,116.1083333,17z",
    "https://maps.google.com/?q=-8.5866667,116.1083333",
    "  −8.5866667 ,  116.1083333  ",          # unicode minus, stray spaces
])
def test_common_forms_read_as_the_same_point(typed):
    got = parse_coords(typed)
    assert got.lat == pytest.approx(LAT, abs=2e-6)
    assert got.lon == pytest.approx(LON, abs=2e-6)


def test_dms_form_and_order_are_reported():
    got = parse_coords("116 06 30 E 8 35 12 S")
    assert got.form == "derajat menit detik" and got.order == "lon_lat" and not got.guessed
    assert parse_coords("8°35.2'S 116°6.5'E").form == "derajat menit"
    assert parse_coords("-8.58, 116.1").form == "desimal"


def test_ambiguous_order_defaults_to_lat_lon_and_says_so():
    got = parse_coords("10.5, 20.25")
    assert (got.lat, got.lon, got.guessed) == (10.5, 20.25, True)
    wkt = parse_coords("POINT(10.5 20.25)")
    assert (wkt.lat, wkt.lon, wkt.guessed) == (20.25, 10.5, True)


def test_northern_and_western_hemispheres():
    got = parse_coords("3°35'N 98°40'E")
    assert got.lat == pytest.approx(3.5833333, abs=1e-6) and got.lon == pytest.approx(98.6666667)
    assert parse_coords("40.7 N 74.0 W").lon == -74.0


def test_sign_without_hemisphere_is_kept():
    # a positive latitude is kept as typed; the entry check then hints at a flipped sign
    assert parse_coords("8.58, 116.1").lat == 8.58


def test_integer_pair_with_a_comma():
    got = parse_coords("-8,116")
    assert (got.lat, got.lon) == (-8.0, 116.0)


@pytest.mark.parametrize("typed, words", [
    ("", "kosong"),
    ("-8.58", "dua koordinat"),
    ("-8.58 116.1 7.2", "dua koordinat"),
    ("abc def", "tidak dikenal"),
    ("-8.58 S 116.1 S", "sumbu yang sama"),
    ("8 75 12 S 116 06 30 E", "menit"),
    ("8 35 61 S 116 06 30 E", "detik"),
    ("-95, 200", "rentang"),
    ("-8.58 N 116 E", "bertentangan"),
    ("8.5°35'S 116°6'E", "bulat"),
    ("-8.58 # 116.1", "membaca"),
])
def test_unreadable_text_is_refused_with_a_reason(typed, words):
    with pytest.raises(CoordsError, match=words):
        parse_coords(typed)


@pytest.mark.parametrize("pasted", [
    # WhatsApp "share location" sends a maps.google.com link, often URL-encoded
    "https://maps.google.com/maps?q=-8.5866667%2C116.1083333&z=17&hl=id",
    "Lokasi: https://maps.google.com/?q=-8.5866667,116.1083333",
    # a Google Maps place: the place's own point (!3d/!4d), not the view's centre (@)
    "https://www.google.com/maps/place/Kantor+Lurah/@-8.59,116.10,17z/data=!3m1!4b1!4m6!3m5"
    "!1s0x2dcdc0:0x1!8m2!3d-8.5866667!4d116.1083333!16s",
    "https://www.google.com/maps/search/?api=1&query=-8.5866667,116.1083333",
    "https://www.google.com/maps/dir/?api=1&destination=-8.5866667%2C116.1083333",
    # geo: URIs (RFC 5870) as Android apps share them
    "geo:-8.5866667,116.1083333",
    "geo:-8.5866667,116.1083333;u=35",
    "geo:-8.5866667,116.1083333?z=17",
    "geo:0,0?q=-8.5866667,116.1083333(TPS 012)",
])
def test_pasted_map_links_and_geo_uris_give_the_point(pasted):
    got = parse_coords(pasted)
    assert (got.lat, got.lon) == (pytest.approx(LAT, abs=2e-6), pytest.approx(LON, abs=2e-6))
    assert not got.guessed


def test_a_full_plus_code_is_decoded_to_its_centre():
    got = parse_coords("6P3RC475+88")
    assert got.form == "Plus Code"
    # an 8+2 Plus Code is a cell of about 14 m: its centre is within 10 m of the point
    assert got.lat == pytest.approx(LAT, abs=1e-4) and got.lon == pytest.approx(LON, abs=1e-4)


def test_a_short_plus_code_is_completed_from_the_work_area():
    asked = []

    def near():
        asked.append(True)
        return (-8.58, 116.10)             # Kota Mataram
    got = parse_coords("C475+88 Mataram, Nusa Tenggara Barat", near)
    assert got.lat == pytest.approx(LAT, abs=1e-4) and got.lon == pytest.approx(LON, abs=1e-4)
    assert asked == [True]
    with pytest.raises(CoordsError, match="kode lengkap"):
        parse_coords("C475+88")


def test_a_short_google_link_is_refused_with_what_to_send_instead():
    with pytest.raises(CoordsError, match="tautan lengkap"):
        parse_coords("https://maps.app.goo.gl/AbCdEf123")
