"""Kemendagri code normalisation, parents and TPS keys."""
import pytest

from gisdesk.ingest.codes import (CodeError, ParsedCode, is_desa, is_kota, kabkota_of,
                                  kecamatan_of, normalize_kecamatan_code,
                                  normalize_kelurahan_code, parse_tps_key, province_of,
                                  tps_key)


@pytest.mark.parametrize("raw", ["5271011004", "ID5271011004", "52.71.01.1004",
                                 "52-71-01-1004", " 52 71 01 1004 ", 5271011004,
                                 5271011004.0, "5271011004.0", "id5271011004"])
def test_kelurahan_code_spellings_normalise_to_dotted_form(raw):
    assert normalize_kelurahan_code(raw) == ParsedCode("52.71.01.1004", None)


def test_desa_code_normalises_too():
    assert normalize_kelurahan_code("5201012001").kode == "52.01.01.2001"


@pytest.mark.parametrize("raw", ["5201010001", "ID5201010001", 5271010004])
def test_bps_codes_are_kept_as_bps_never_reinterpreted(raw):
    parsed = normalize_kelurahan_code(raw)
    assert parsed.kode is None
    assert parsed.kode_bps == str(raw).removeprefix("ID")


@pytest.mark.parametrize("raw", [None, "", "  ", float("nan")])
def test_blank_kelurahan_code_is_absent_not_an_error(raw):
    assert normalize_kelurahan_code(raw) == ParsedCode(None, None)


@pytest.mark.parametrize("raw", ["abc", "52.71.01", "527101100", "52.71.01.0004",
                                 "52.71.1.1004"])
def test_garbage_kelurahan_codes_raise_with_a_readable_reason(raw):
    with pytest.raises(CodeError, match="kode"):
        normalize_kelurahan_code(raw)


@pytest.mark.parametrize("raw", ["527101", "52.71.01", "ID527101", "52-71-01", 527101])
def test_kecamatan_code_spellings_normalise(raw):
    assert normalize_kecamatan_code(raw) == ParsedCode("52.71.01", None)


def test_seven_digit_kecamatan_code_is_bps():
    assert normalize_kecamatan_code("5271010") == ParsedCode(None, "5271010")


def test_kelurahan_code_in_a_kecamatan_field_is_refused():
    with pytest.raises(CodeError, match="bukan kode kecamatan"):
        normalize_kecamatan_code("5271011004")


def test_parents_are_derived_from_prefixes():
    assert kecamatan_of("5271011004") == "52.71.01"
    assert kabkota_of("52.71.01.1004") == "52.71"
    assert kabkota_of("527101") == "52.71"
    assert province_of("ID5271011004") == "52"
    assert province_of("52.71") == "52"


def test_parents_of_a_bps_code_are_refused():
    with pytest.raises(CodeError, match="BPS"):
        kecamatan_of("5201010001")


def test_desa_and_kelurahan_are_told_apart_by_the_first_digit():
    assert is_desa("52.01.01.2001")
    assert not is_desa("52.71.01.1004")


def test_kota_codes_are_71_and_above():
    assert is_kota("52.71.01.1004")
    assert not is_kota("52.01.01.2001")


@pytest.mark.parametrize("nomor", [12, "12", "012", "TPS 012", "tps12", 12.0])
def test_tps_key_is_kelurahan_code_plus_three_digits(nomor):
    assert tps_key("5271011004", nomor) == "52.71.01.1004-012"


@pytest.mark.parametrize("nomor", [0, 1000, "12a", -1, "", True])
def test_tps_key_refuses_bad_numbers(nomor):
    with pytest.raises(CodeError):
        tps_key("52.71.01.1004", nomor)


@pytest.mark.parametrize("key", ["52.71.01.1004-012", "5271011004-12", "52-71-01-1004-012",
                                 "52.71.01.1004/TPS 012"])
def test_parse_tps_key_reads_usual_spellings(key):
    assert parse_tps_key(key) == ("52.71.01.1004", 12)


def test_parse_tps_key_round_trips():
    assert tps_key(*parse_tps_key("52.71.06.1007-999")) == "52.71.06.1007-999"


def test_parse_tps_key_refuses_garbage():
    with pytest.raises(CodeError, match="bukan kode TPS"):
        parse_tps_key("TPS 12")
