"""The boundary importer's refusals about the file's layout speak Bahasa Indonesia and name
the fields (no database needed)."""
from __future__ import annotations

import pandas as pd
import pytest

from gisdesk.errors import InputRejected
from gisdesk.ingest.schemes import normalise_attributes

FRAME = pd.DataFrame({"objek": ["a"], "wilayah": ["b"]})


def test_an_unknown_level_is_refused_in_indonesian():
    with pytest.raises(InputRejected) as exc:
        normalise_attributes(FRAME, level="desa_adat")
    assert exc.value.message == "Tingkat harus kelurahan atau kecamatan, bukan 'desa_adat'."
    assert exc.value.problems[0].reason == "tingkat tidak dikenal"


def test_a_mapped_field_the_file_lacks_is_named_with_the_fields_it_has():
    with pytest.raises(InputRejected) as exc:
        normalise_attributes(FRAME, code_field="KDEPUM")
    assert exc.value.message == ("Berkas tidak punya kolom --code-field KDEPUM; kolom yang ada: "
                                 "objek, wilayah.")


def test_an_unknown_layout_asks_for_the_mapping_options():
    with pytest.raises(InputRejected) as exc:
        normalise_attributes(FRAME)
    assert exc.value.message.startswith("Kolom berkas batas (objek, wilayah) tidak cocok dengan "
                                        "format yang dikenal")
    assert "--code-field, --name-field dan --parent-field" in exc.value.message
