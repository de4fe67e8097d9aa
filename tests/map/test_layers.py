"""The layer registry: validation names file and field, roles filter, a new file is a new layer."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gisdesk import layers
from gisdesk.errors import ConfigError

LAYERS = Path(__file__).resolve().parents[2] / "layers"
MINIMAL = """
id = "{id}"
title = "Lapisan uji"
geometry = "Point"
source = "tps"
{extra}
[style]
kind = "single"
color = "#000000"
[[properties]]
name = "tps_kode"
type = "string"
title = "Kode TPS"
"""


def write(directory: Path, layer_id: str, extra: str = "", body: str | None = None) -> Path:
    path = directory / f"{layer_id}.toml"
    path.write_text(body if body is not None else MINIMAL.format(id=layer_id, extra=extra))
    return path


def test_shipped_layers_are_valid():
    assert layers.check(LAYERS) == []
    loaded = layers.load(LAYERS)
    assert {"kecamatan", "kelurahan", "tps", "incidents", "incidents_heat", "facilities",
            "disagreement"} <= set(loaded)
    assert loaded["tps"].properties[0].name == "tps_kode"
    assert loaded["incidents"].time_field == "occurred_at"
    assert loaded["disagreement"].where == {"disagree": True}


def test_layers_come_in_drawing_order():
    orders = [layer.order for layer in layers.load(LAYERS).values()]
    assert orders == sorted(orders)


@pytest.mark.parametrize("extra,field", [
    ('permission = "root"', "permission"),
    ('time_field = "tps_kode"', "time_field"),
    ('where = { nope = 1 }', "where.nope"),
    ('colour = "red"', "colour"),
])
def test_a_bad_field_is_named_with_its_file(tmp_path, extra, field):
    write(tmp_path, "uji", extra)
    problems = layers.check(tmp_path)
    assert any(p.startswith("uji.toml: kolom '" + field + "'") for p in problems), problems


def test_unknown_source_and_column_are_named(tmp_path):
    body = MINIMAL.format(id="uji", extra="").replace('source = "tps"', 'source = "tpz"')
    write(tmp_path, "uji", body=body)
    write(tmp_path, "dua", body=MINIMAL.format(id="dua", extra="").replace(
        'name = "tps_kode"', 'name = "password_hash"'))
    problems = layers.check(tmp_path)
    assert any(p.startswith("uji.toml: kolom 'source'") for p in problems)
    assert any(p.startswith("dua.toml: kolom 'properties[0].name'") for p in problems)


def test_id_must_match_file_name_and_toml_must_parse(tmp_path):
    write(tmp_path, "satu", body=MINIMAL.format(id="lain", extra=""))
    (tmp_path / "rusak.toml").write_text("id = ")
    problems = layers.check(tmp_path)
    assert any(p.startswith("satu.toml: kolom 'id'") for p in problems)
    assert any(p.startswith("rusak.toml: bukan TOML yang sah") for p in problems)


def test_load_raises_config_error_listing_every_problem(tmp_path):
    write(tmp_path, "uji", 'permission = "root"\ndefault_visible = "ya"')
    with pytest.raises(ConfigError) as caught:
        layers.load(tmp_path)
    assert "uji.toml: kolom 'permission'" in caught.value.message
    assert "uji.toml: kolom 'default_visible'" in caught.value.message


def test_graduated_style_needs_one_colour_more_than_breaks(tmp_path):
    body = MINIMAL.format(id="uji", extra="").replace(
        'kind = "single"\ncolor = "#000000"',
        'kind = "graduated"\nfield = "tps_kode"\nbreaks = [1, 3]\ncolors = ["#ffffff"]')
    write(tmp_path, "uji", body=body)
    assert any("style.colors" in p for p in layers.check(tmp_path))


def test_roles_see_only_their_layers(tmp_path):
    write(tmp_path, "umum")
    write(tmp_path, "rahasia", 'permission = "quickcount"')
    loaded = layers.load(tmp_path)
    assert set(layers.visible_layers("viewer", loaded)) == {"umum"}
    assert set(layers.visible_layers("operator", loaded)) == {"umum"}
    assert set(layers.visible_layers("supervisor", loaded)) == {"umum", "rahasia"}
    assert set(layers.visible_layers(None, loaded)) == set()


def test_adding_a_file_adds_a_layer(tmp_path):
    for path in LAYERS.glob("*.toml"):
        shutil.copy(path, tmp_path)
    before = set(layers.load(tmp_path))
    write(tmp_path, "tps_baru")
    after = layers.load(tmp_path)
    assert set(after) == before | {"tps_baru"}
    assert after["tps_baru"].export_permission == "export"
    assert after["tps_baru"].default_visible is True
