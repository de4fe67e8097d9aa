"""The tally rules, double-entry comparison and roll-up as pure functions (no database)."""
from __future__ import annotations

import pytest

from gisdesk.errors import ConfigError, InputRejected
from gisdesk.quickcount import (Area, QuickCountRules, ResultNumbers, compare, rollup,
                                validate_numbers)

CANDIDATES = (1, 2, 3)
CAPACITY = QuickCountRules().capacity(300)  # 300 + ceil(2.5 % of 300) = 308


def form(**changes) -> dict:
    base = {"votes": {"1": 50, "2": 90, "3": 30}, "valid": 170, "invalid": 5,
            "ballots_used": 175, "dpt": 200, "dptb": 2, "dpk": 1}
    base.update(changes)
    return base


def rejected_fields(payload) -> list[str]:
    with pytest.raises(InputRejected) as exc:
        validate_numbers(payload, CANDIDATES, CAPACITY)
    assert exc.value.field == exc.value.problems[0].field
    return [p.field for p in exc.value.problems]


def test_a_consistent_form_passes():
    n = validate_numbers(form(), CANDIDATES, CAPACITY)
    assert n == ResultNumbers({1: 50, 2: 90, 3: 30}, 170, 5, 175, 200, 2, 1)


def test_default_capacity_is_max_voters_plus_ballot_reserve_and_is_configurable():
    assert CAPACITY == 308
    assert QuickCountRules.from_mapping({"capacity_allowance_pct": 0}).capacity(300) == 300
    assert QuickCountRules.from_mapping({"capacity_allowance_abs": 20}).capacity(600) == 635
    with pytest.raises(ConfigError) as exc:
        QuickCountRules.from_mapping({"kapasitas": 1})
    assert exc.value.field == "QUICKCOUNT_RULES.kapasitas"


def test_candidate_votes_must_sum_to_valid_votes():
    assert rejected_fields(form(valid=171, ballots_used=176)) == ["votes"]


def test_valid_plus_invalid_must_equal_ballots_used():
    assert rejected_fields(form(ballots_used=180)) == ["ballots_used"]


def test_ballots_used_cannot_exceed_dpt_plus_dptb_plus_dpk():
    # 175 ballots used, 170 + 2 + 1 = 173 voters registered
    with pytest.raises(InputRejected) as exc:
        validate_numbers(form(dpt=170), CANDIDATES, CAPACITY)
    assert [p.field for p in exc.value.problems] == ["ballots_used"]
    assert "DPT + DPTb + DPK (173)" in exc.value.problems[0].reason


@pytest.mark.parametrize("changes, field", [
    ({"invalid": -1}, "invalid"),
    ({"dptb": -3}, "dptb"),
    ({"votes": {"1": 50, "2": -90, "3": 30}}, "votes.2"),
])
def test_negative_numbers_are_refused_with_their_field(changes, field):
    assert rejected_fields(form(**changes)) == [field]


@pytest.mark.parametrize("changes, field", [
    ({"dpt": 309}, "dpt"),
    ({"votes": {"1": 400, "2": 0, "3": 0}, "valid": 400, "invalid": 0, "ballots_used": 400,
      "dpt": 300, "dptb": 100}, "votes.1"),
])
def test_numbers_above_tps_capacity_are_refused(changes, field):
    assert field in rejected_fields(form(**changes))


@pytest.mark.parametrize("votes, field", [
    ({"1": 50, "2": 90}, "votes.3"),                          # a pair left out
    ({"1": 50, "2": 90, "3": 30, "4": 0}, "votes.4"),         # no such pair
    ({"1": 50, "2": "sembilan puluh", "3": 30}, "votes.2"),   # not a number
    ({"1": 50, "2": 90.5, "3": 30}, "votes.2"),               # not whole
])
def test_votes_name_every_candidate_once_as_whole_numbers(votes, field):
    assert rejected_fields(form(votes=votes)) == [field]


def test_missing_required_number_is_named_and_dptb_dpk_default_to_zero():
    assert rejected_fields({k: v for k, v in form().items() if k != "invalid"}) == ["invalid"]
    n = validate_numbers({k: v for k, v in form().items() if k not in ("dptb", "dpk")},
                         CANDIDATES, CAPACITY)
    assert (n.dptb, n.dpk) == (0, 0)


def test_compare_names_each_differing_field_with_every_agency_value():
    kpu = ResultNumbers({1: 70, 2: 110, 3: 50}, 230, 6, 236, 270)
    polri = ResultNumbers({1: 70, 2: 101, 3: 50}, 221, 6, 227, 270)
    assert compare({"kpu": kpu, "polri": polri}) == [
        {"field": "votes.2", "values": {"kpu": 110, "polri": 101}},
        {"field": "ballots_used", "values": {"kpu": 236, "polri": 227}},
        {"field": "valid", "values": {"kpu": 230, "polri": 221}},
    ]
    assert compare({"kpu": kpu, "bawaslu": kpu}) == []


def test_rollup_sums_kelurahan_into_kecamatan_and_city_with_shares():
    a = Area("kelurahan", "52.71.01.1001", "A", "52.71.01", tps_total=3, tps_in=2,
             dpt_total=730, dpt_in=450, valid=370, votes={1: 110, 2: 190, 3: 70})
    b = Area("kelurahan", "52.71.02.1001", "B", "52.71.02", tps_total=1, tps_in=1,
             dpt_total=270, dpt_in=270, valid=230, votes={1: 70, 2: 110, 3: 50})
    city, kecamatan = rollup([a, b], {"52.71.01": "Ampenan"}, (1, 2, 3), "52.71", "Mataram")
    assert [k.nama for k in kecamatan] == ["Ampenan", "52.71.02"]
    assert (city.tps_in, city.tps_total, city.progress_pct) == (3, 4, 75.0)
    assert (city.dpt_in, city.dpt_total, city.dpt_pct) == (720, 1000, 72.0)
    assert city.votes == {1: 180, 2: 300, 3: 120}
    assert city.shares == {1: 30.0, 2: 50.0, 3: 20.0} and city.leading == 2
    assert a.shares == {1: 29.73, 2: 51.35, 3: 18.92}


def test_no_leader_before_votes_or_on_a_tie():
    assert Area("kota", "", "", votes={1: 0, 2: 0}).leading is None
    assert Area("kota", "", "", votes={1: 5, 2: 5, 3: 1}).leading is None
