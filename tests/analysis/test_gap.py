"""Gap = requirement - assigned per kelurahan, kecamatan, city; TNI and reserves reported."""
from __future__ import annotations

import copy
import tomllib

import pandas as pd
import pytest

from gisdesk.analysis import Assignment, TpsRisk, gaps, load_rules, requirement, rules_from_dict
from gisdesk.analysis.rules import DEFAULT_RULES_FILE
from gisdesk.errors import InputRejected

RULES = load_rules()
PEMILU_2024 = RULES.pattern_sets[0]
A, B, C = "52.71.01.1004", "52.71.01.1005", "52.71.02.1001"


def tps(kelurahan: str, kelas: str, n: int) -> list[TpsRisk]:
    return [TpsRisk(f"{kelurahan}-{i:03d}", kelurahan, kelurahan.rsplit(".", 1)[0], kelas, kelas,
                    False, True, False) for i in range(1, n + 1)]


# A: 3 rawan -> Polri 2*ceil(3/2) = 4, Linmas ceil(4*3/2) = 6
# B: 4 kurang rawan -> Polri 2*ceil(4/4) = 2, Linmas ceil(8*4/4) = 8
# C: 1 sangat rawan -> Polri 2, Linmas 2
REQ = requirement(tps(A, "rawan", 3) + tps(B, "kurang_rawan", 4) + tps(C, "sangat_rawan", 1),
                  PEMILU_2024)


def test_tps_assignments_count_toward_their_kelurahan_and_surplus_is_negative():
    table = gaps(REQ, [
        Assignment("polri", 1, "tps", f"{A}-001"), Assignment("polri", 1, "tps", f"{A}-002"),
        Assignment("polri", 1, "kelurahan", A),          # A: 3 Polri assigned
        Assignment("linmas", 6, "tps", f"{A}-003"),       # A: 6 Linmas
        Assignment("polri", 5, "kelurahan", B),           # B: 5 Polri
        Assignment("linmas", 2, "kelurahan", B),
    ])
    kel = table.kelurahan.set_index("kelurahan_kode")
    # A: Polri 4 - 3 = 1 short; Linmas 6 - 6 = 0
    assert (kel.loc[A, "polri_assigned"], kel.loc[A, "polri_gap"], kel.loc[A, "linmas_gap"]) == \
        (3, 1, 0)
    # B: Polri 2 - 5 = -3 (surplus 3); Linmas 8 - 2 = 6
    assert (kel.loc[B, "polri_gap"], kel.loc[B, "linmas_gap"]) == (-3, 6)
    # C: nobody assigned: Polri 2, Linmas 2
    assert (kel.loc[C, "polri_gap"], kel.loc[C, "linmas_gap"]) == (2, 2)
    kec = table.kecamatan.set_index("kecamatan_kode")
    # Ampenan (A + B): Polri net 1 + (-3) = -2, but 1 short in A (a net sum hides it)
    assert (kec.loc["52.71.01", "polri_gap"], kec.loc["52.71.01", "polri_short"]) == (-2, 1)
    # Linmas: required 6 + 8 = 14, assigned 6 + 2 = 8, gap 6
    assert tuple(kec.loc["52.71.01", ["linmas_required", "linmas_assigned", "linmas_gap"]]) == \
        (14, 8, 6)
    city = table.city.iloc[0]
    # city Polri: required 4+2+2 = 8, assigned 3+5 = 8, gap 0, short 1 (A) + 2 (C) = 3
    assert (city.polri_required, city.polri_assigned, city.polri_gap, city.polri_short) == \
        (8, 8, 0, 3)


def test_kecamatan_is_the_sum_of_its_kelurahan():
    table = gaps(REQ, [Assignment("polri", 2, "kelurahan", A),
                       Assignment("linmas", 9, "tps", f"{B}-001")])
    kel, kec = table.kelurahan, table.kecamatan.set_index("kecamatan_kode")
    for col in ["n_tps", "polri_required", "polri_assigned", "polri_gap", "linmas_required",
                "linmas_assigned", "linmas_gap", "tni_assigned"]:
        sums = kel.groupby("kecamatan_kode")[col].sum()
        assert (kec.loc[sums.index, col] == sums).all(), col


def test_tni_is_reported_but_not_counted_unless_the_rules_say_so():
    assignments = [Assignment("tni", 4, "kelurahan", A), Assignment("polri", 1, "kelurahan", A)]
    kel = gaps(REQ, assignments, RULES).kelurahan.set_index("kelurahan_kode")
    # default: A Polri 4 - 1 = 3; TNI 4 only reported
    assert (kel.loc[A, "polri_gap"], kel.loc[A, "tni_assigned"]) == (3, 4)
    data = copy.deepcopy(tomllib.loads(DEFAULT_RULES_FILE.read_text("utf-8")))
    data["gap"]["tni_counts_as_polri"] = True
    kel = gaps(REQ, assignments, rules_from_dict(data)).kelurahan.set_index("kelurahan_kode")
    # TNI counts: 4 - (1 + 4) = -1
    assert (kel.loc[A, "polri_gap"], kel.loc[A, "tni_assigned"]) == (-1, 4)


def test_reserves_are_reported_separately_and_not_in_the_gap():
    table = gaps(REQ, [Assignment("polri", 6, "reserve", "52.71.01"),   # Polsek Ampenan
                       Assignment("linmas", 3, "reserve", "52.71.01"),
                       Assignment("polri", 20, "reserve"),              # Polresta
                       Assignment("tni", 10, "reserve", None)])
    kec = table.kecamatan.set_index("kecamatan_kode")
    assert (kec.loc["52.71.01", "polri_reserve"], kec.loc["52.71.01", "linmas_reserve"]) == (6, 3)
    assert kec.loc["52.71.01", "polri_gap"] == 4 + 2          # A + B, reserves not subtracted
    city = table.city.iloc[0]
    assert (city.polri_reserve_polsek, city.polri_reserve_polresta, city.tni_reserve_polresta) \
        == (6, 20, 10)
    assert city.polri_gap == 8
    assert sorted(table.reserves["polri"]) == [6, 20]


def test_kelurahan_with_assignments_but_no_tps_shows_as_surplus():
    kel = gaps(REQ, [Assignment("linmas", 5, "kelurahan", "52.71.03.1001")]).kelurahan
    row = kel.set_index("kelurahan_kode").loc["52.71.03.1001"]
    assert (row.kecamatan_kode, row.n_tps, row.linmas_gap) == ("52.71.03", 0, -5)


def test_assignments_as_a_dataframe_give_the_same_table():
    objs = [Assignment("polri", 2, "kelurahan", A), Assignment("Linmas", 3, "TPS", f"{C}-001")]
    frame = pd.DataFrame({"agency": ["polri", "Linmas"], "count": [2, 3],
                          "target": ["kelurahan", "TPS"], "kode": [A, f"{C}-001"]})
    pd.testing.assert_frame_equal(gaps(REQ, objs).kelurahan, gaps(REQ, frame).kelurahan)


def test_bad_assignments_are_rejected_naming_row_and_field():
    with pytest.raises(InputRejected) as info:
        gaps(REQ, [Assignment("polri", 1, "kelurahan", A), Assignment("satpam", 1, "tps", "x-001"),
                   Assignment("linmas", -2, "kelurahan", A), Assignment("polri", 1, "kelurahan")])
    found = {(p.row, p.field) for p in info.value.problems}
    assert found == {(2, "agency"), (3, "count"), (4, "kode")}
