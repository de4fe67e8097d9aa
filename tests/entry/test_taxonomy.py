"""The incident types file: loaded, validated with errors naming the field; readiness states."""
from __future__ import annotations

import tomllib

import pytest

from gisdesk.entry.readiness import derive_state
from gisdesk.entry.taxonomy import DEFAULT_FILE, load_taxonomy, parse_taxonomy
from gisdesk.errors import ConfigError


def _data() -> dict:
    with open(DEFAULT_FILE, "rb") as fh:
        return tomllib.load(fh)


def test_packaged_file_has_every_violation_type_and_the_checklist():
    tax = load_taxonomy()
    assert {c.jenis for c in tax.categories.values()} == {"etik", "administrasi", "pidana",
                                                          "lainnya", "gangguan", "bencana"}
    assert tax.categories["politik_uang"].label == "Politik uang"
    assert tax.severity("Tinggi") == "berat" and tax.severity("parah") is None
    assert len(tax.readiness_keys) == 12 and "posko_kesehatan" in tax.readiness_keys
    assert (tax.duplicate_radius_m, tax.duplicate_window_hours) == (300, 2)


@pytest.mark.parametrize("change, field", [
    (lambda d: d["categories"]["banjir"].update(jenis="cuaca"), "jenis"),
    (lambda d: d["categories"]["banjir"].update(warna="biru"), "warna"),
    (lambda d: d["checks"].update(far_from_tps_m="jauh"), "far_from_tps_m"),
    (lambda d: d["checks"].update(confirm=["semua"]), "confirm"),
    (lambda d: d["readiness"].append({"key": "tinta", "label": "x", "critical": False}), "key"),
    (lambda d: d.pop("duplicates"), "duplicates"),
    (lambda d: d["severity"].update(order=["kecil"]), "order"),
])
def test_wrong_declarations_name_the_field(change, field):
    data = _data()
    change(data)
    with pytest.raises(ConfigError) as err:
        parse_taxonomy(data, "types.toml")
    assert err.value.field == field and "types.toml" in err.value.message


def test_readiness_state_all_critical_and_partial():
    tax = load_taxonomy()
    everything = {k: True for k in tax.readiness_keys}
    assert derive_state(everything, tax) == "siap"
    assert derive_state({}, tax) == "belum"
    assert derive_state(dict(everything, kotak_suara=False), tax) == "belum"   # critical
    assert derive_state(dict(everything, penerangan=False), tax) == "sebagian"
