"""Header aliases: Indonesian and English column names, any case."""
import pytest

from gisdesk.errors import InputRejected
from gisdesk.ingest.columns import HEADER_ALIASES, canonical_columns, header_key


@pytest.mark.parametrize("header,canonical", [
    ("Lintang", "lat"), ("LATITUDE", "lat"), ("y", "lat"), ("Bujur", "lon"), ("lng", "lon"),
    ("Long", "lon"), ("No TPS", "nomor"), ("nomor_tps", "nomor"), ("TPS", "nomor"),
    ("Kode Kelurahan", "kode"), ("kode_wilayah", "kode"), ("KODE_KEL", "kode"),
    ("Jumlah DPT", "dpt"), ("Address", "alamat"), ("Nama Kelurahan", "kelurahan"),
    ("desa", "kelurahan"), ("Nama_Kecamatan", "kecamatan"), ("WKT", "wkt"), ("name", "nama"),
])
def test_headers_are_recognised_in_indonesian_and_english(header, canonical):
    assert canonical_columns([header]) == {canonical: header}


def test_bom_and_blanks_do_not_hide_a_header():
    assert header_key("\ufeff Lintang ") == "lintang"


def test_every_alias_is_in_key_form():
    for aliases in HEADER_ALIASES.values():
        assert all(header_key(a) == a for a in aliases)


def test_two_columns_meaning_the_same_are_refused():
    with pytest.raises(InputRejected) as err:
        canonical_columns(["lat", "lintang", "lon"])
    assert "'lat', 'lintang'" in err.value.problems[0].reason


def test_override_maps_an_unusual_header():
    found = canonical_columns(["Koord_U", "Koord_T"], wanted=["lat", "lon"],
                              overrides={"lat": "koord_u", "lon": "KOORD_T"})
    assert found == {"lat": "Koord_U", "lon": "Koord_T"}


def test_override_naming_a_missing_column_is_refused_with_the_columns_listed():
    with pytest.raises(InputRejected) as err:
        canonical_columns(["a", "b"], overrides={"lat": "lintang"})
    problem = err.value.problems[0]
    assert problem.field == "lintang" and "kolom yang ada: a, b" in problem.reason
