"""Loading and validating rules.toml; security patterns and the one in force."""
from __future__ import annotations

import copy
import tomllib
from datetime import datetime, timedelta, timezone

import pytest

from gisdesk.analysis import Pattern, PatternSet, load_rules, pattern_in_force, rules_from_dict
from gisdesk.analysis.rules import DEFAULT_RULES_FILE
from gisdesk.errors import ConfigError

WITA = timezone(timedelta(hours=8))


def default_data() -> dict:
    return tomllib.loads(DEFAULT_RULES_FILE.read_text("utf-8"))


def test_packaged_rules_load_with_the_documented_defaults():
    rules = load_rules()
    assert rules.class_order == ("kurang_rawan", "rawan", "sangat_rawan")
    assert rules.special_classes == ("khusus",)
    assert rules.default_class == "kurang_rawan"
    esc = rules.escalation
    assert (esc.min_severity, esc.radius_m, esc.window_hours, esc.steps, esc.max_class) == (
        "sedang", 500.0, 24.0, 1, "sangat_rawan")
    assert rules.tni_counts_as_polri is False
    (pemilu,) = rules.pattern_sets
    assert {k: str(p) for k, p in pemilu.patterns.items()} == {
        "kurang_rawan": "2-4-8", "rawan": "2-2-4", "sangat_rawan": "2-1-2", "khusus": "2-1-2"}


def test_rules_file_from_a_path(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES_FILE.read_text("utf-8")
                    .replace("radius_m = 500", "radius_m = 300"), encoding="utf-8")
    assert load_rules(path).escalation.radius_m == 300.0


def test_unreadable_or_broken_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="tidak bisa dibaca"):
        load_rules(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[classes\norder = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="bukan TOML"):
        load_rules(bad)


def _broken(change) -> ConfigError:
    data = copy.deepcopy(default_data())
    change(data)
    with pytest.raises(ConfigError) as info:
        rules_from_dict(data, origin="custom.toml")
    return info.value


@pytest.mark.parametrize("change, fld", [
    (lambda d: d["escalation"].update(radius_m=-1), "escalation.radius_m"),
    (lambda d: d["escalation"].update(radius_m="500"), "escalation.radius_m"),
    (lambda d: d["escalation"].update(min_severity="parah"), "escalation.min_severity"),
    (lambda d: d["escalation"].update(max_class="khusus"), "escalation.max_class"),
    (lambda d: d["escalation"].update(radus_m=500), "escalation.radus_m"),
    (lambda d: d["classes"].update(default="aman"), "classes.default"),
    (lambda d: d["classes"].pop("order"), "classes.order"),
    (lambda d: d["sources"]["kpu"]["class_map"].update(tinggi="merah"),
     "sources.kpu.class_map.tinggi"),
    (lambda d: d["sources"]["bawaslu"]["indicator_counts"][0].update(min=0),
     "sources.bawaslu.indicator_counts[0].min"),
    (lambda d: d["sources"]["bawaslu"]["indicator_alone"].update(x="khusus"),
     "sources.bawaslu.indicator_alone.x"),
    (lambda d: d["severity"]["aliases"].update(parah="ekstrem"), "severity.aliases.parah"),
    (lambda d: d["suggest"].update(order=["polsek_reserve", "helikopter"]), "suggest.order"),
    (lambda d: d["gap"].update(tni_counts_as_polri="ya"), "gap.tni_counts_as_polri"),
    (lambda d: d["patterns"][0]["pola"].update(rawan="2-0-4"), "patterns[0].pola.rawan"),
    (lambda d: d["patterns"][0]["pola"].update(rawan="dua"), "patterns[0].pola.rawan"),
    (lambda d: d["patterns"][0]["pola"].pop("khusus"), "patterns[0].pola.khusus"),
    (lambda d: d["patterns"][0].update(effective_from=datetime(2024, 1, 1)),
     "patterns[0].effective_from"),
    (lambda d: d.update(timezone="Mars/Olympus"), "timezone"),
    (lambda d: d.update(extra=1), "extra"),
])
def test_validation_errors_name_the_field(change, fld):
    err = _broken(change)
    assert err.field == fld
    assert fld in err.message and "custom.toml" in err.message


def test_two_pattern_sets_with_the_same_date_are_refused():
    def twice(d):
        d["patterns"].append(copy.deepcopy(d["patterns"][0]) | {"name": "lagi"})
    assert _broken(twice).field == "patterns"


@pytest.mark.parametrize("text, expected", [
    ("2-4-8", Pattern(2, 4, 8)), (" 2 - 1 - 2 ", Pattern(2, 1, 2)), ("1-6-4", Pattern(1, 6, 4))])
def test_pattern_strings_parse(text, expected):
    assert Pattern.parse(text) == expected
    assert str(Pattern.parse(text)) == str(expected)


@pytest.mark.parametrize("text", ["2-4", "2/4/8", "a-b-c", "2-0-8", ""])
def test_bad_pattern_strings_are_config_errors(text):
    with pytest.raises(ConfigError):
        Pattern.parse(text)


SETS = [
    PatternSet.build("Pemilu 2019", datetime(2018, 9, 23, tzinfo=WITA),
                     {"kurang_rawan": "2-4-6", "rawan": "4-2-8", "sangat_rawan": "6-2-8"}),
    PatternSet.build("Pemilu 2024", datetime(2024, 2, 1, 0, 0, tzinfo=WITA),
                     {"kurang_rawan": (2, 4, 8), "rawan": "2-2-4", "sangat_rawan": "2-1-2"}),
]


def test_pattern_in_force_changes_exactly_at_its_effective_date():
    change = datetime(2024, 2, 1, 0, 0, tzinfo=WITA)
    assert pattern_in_force(SETS, change - timedelta(seconds=1)).name == "Pemilu 2019"
    assert pattern_in_force(SETS, change).name == "Pemilu 2024"           # <= as_of: inclusive
    assert pattern_in_force(SETS, change + timedelta(seconds=1)).name == "Pemilu 2024"
    # the same instant in UTC (2024-01-31 16:00Z) is the same moment
    assert pattern_in_force(SETS, datetime(2024, 1, 31, 16, tzinfo=timezone.utc)).name == \
        "Pemilu 2024"
    # order of the list does not matter
    assert pattern_in_force(SETS[::-1], change).name == "Pemilu 2024"


def test_no_pattern_in_force_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        pattern_in_force(SETS, datetime(2018, 1, 1, tzinfo=WITA))
    assert info.value.field == "patterns"
    with pytest.raises(ConfigError):
        pattern_in_force([], datetime(2024, 1, 1, tzinfo=WITA))


def test_pattern_set_needs_an_aware_effective_date():
    with pytest.raises(ConfigError):
        PatternSet.build("x", datetime(2024, 1, 1), {"rawan": "2-2-4"})


def test_missing_class_in_pattern_set_names_the_class():
    with pytest.raises(ConfigError) as info:
        SETS[1].pattern("khusus")
    assert info.value.field == "pola.khusus"
