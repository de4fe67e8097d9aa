"""Requirement from the security pattern: ceil rounding per kelurahan and class, sums above."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from gisdesk.analysis import (Pattern, PatternSet, TpsRisk, linmas_for, load_rules,
                              pattern_in_force, polri_for, requirement)
from gisdesk.errors import ConfigError, InputRejected

WITA = timezone(timedelta(hours=8))
PEMILU_2024 = load_rules().pattern_sets[0]      # 2-4-8, 2-2-4, 2-1-2, khusus 2-1-2


def tps(kelurahan: str, kelas: str, n: int) -> list[TpsRisk]:
    return [TpsRisk(f"{kelurahan}-{i:03d}", kelurahan, kelurahan.rsplit(".", 1)[0], kelas, kelas,
                    False, True, False) for i in range(1, n + 1)]


def test_ceil_rounding_per_kelurahan_and_class():
    req = requirement(tps("52.71.01.1004", "kurang_rawan", 5)
                      + tps("52.71.01.1004", "rawan", 3), PEMILU_2024)
    rows = req.by_class.set_index("kelas")
    # 5 kurang rawan at 2-4-8: Polri 2*ceil(5/4) = 2*2 = 4; Linmas ceil(8*5/4) = ceil(10) = 10
    assert (rows.loc["kurang_rawan", "polri"], rows.loc["kurang_rawan", "linmas"]) == (4, 10)
    # 3 rawan at 2-2-4: Polri 2*ceil(3/2) = 2*2 = 4; Linmas ceil(4*3/2) = 6
    assert (rows.loc["rawan", "polri"], rows.loc["rawan", "linmas"]) == (4, 6)
    assert rows.loc["rawan", "pola"] == "2-2-4"
    kel = req.kelurahan.iloc[0]
    # kelurahan: Polri 4 + 4 = 8, Linmas 10 + 6 = 16, 8 TPS (5 + 3)
    assert (kel.n_tps, kel.n_kurang_rawan, kel.n_rawan, kel.polri, kel.linmas) == (8, 5, 3, 8, 16)


@pytest.mark.parametrize("n, pattern, polri, linmas", [
    (1, "2-4-8", 2, 2),       # 2*ceil(1/4)=2; ceil(8/4)=2
    (4, "2-4-8", 2, 8),       # 2*1; 32/4=8
    (5, "2-4-6", 4, 8),       # 2*ceil(5/4)=4; ceil(30/4)=ceil(7.5)=8  (Linmas rounds alone)
    (7, "1-6-4", 2, 5),       # 1*ceil(7/6)=2; ceil(28/6)=ceil(4.67)=5
    (1, "2-1-2", 2, 2),       # sangat rawan / khusus: per TPS
    (0, "2-4-8", 0, 0),
])
def test_pattern_arithmetic(n, pattern, polri, linmas):
    p = Pattern.parse(pattern)
    assert (polri_for(n, p), linmas_for(n, p)) == (polri, linmas)


def test_kecamatan_and_city_are_sums_of_kelurahan_not_recomputed():
    risks = (tps("52.71.01.1004", "kurang_rawan", 1) + tps("52.71.01.1005", "kurang_rawan", 1)
             + tps("52.71.02.1001", "sangat_rawan", 2) + tps("52.71.02.1001", "khusus", 1))
    req = requirement(risks, PEMILU_2024)
    kec = req.kecamatan.set_index("kecamatan_kode")
    # Ampenan: each kelurahan 1 kurang rawan: Polri 2*ceil(1/4)=2, Linmas ceil(8/4)=2;
    # sum = Polri 4, Linmas 4 (recomputing from n=2 would wrongly give 2*ceil(2/4)=2 and 4)
    assert (kec.loc["52.71.01", "polri"], kec.loc["52.71.01", "linmas"]) == (4, 4)
    assert kec.loc["52.71.01", "n_tps"] == 2
    # Mataram: 2 sangat rawan at 2-1-2: Polri 2*2=4, Linmas 4; 1 khusus: 2 and 2 -> 6, 6
    assert (kec.loc["52.71.02", "polri"], kec.loc["52.71.02", "linmas"]) == (6, 6)
    assert kec.loc["52.71.02", "n_khusus"] == 1
    city = req.city.iloc[0]
    assert (city.n_tps, city.polri, city.linmas) == (5, 10, 10)     # 4+6, 4+6


def test_counts_frame_from_sql_gives_the_same_answer_and_merges_duplicates():
    counts = pd.DataFrame({
        "kecamatan_kode": ["52.71.01", "52.71.01"], "kelurahan_kode": ["52.71.01.1004"] * 2,
        "kelas": ["kurang_rawan", "kurang_rawan"], "n_tps": [1, 1]})
    req = requirement(counts, PEMILU_2024)
    # merged first: 2 kurang rawan -> Polri 2*ceil(2/4) = 2, Linmas ceil(16/4) = 4
    # (rounding each row alone would give Polri 2*ceil(1/4) * 2 = 4)
    assert len(req.by_class) == 1
    assert req.kelurahan.loc[0, "polri"] == 2 and req.kelurahan.loc[0, "linmas"] == 4
    same = requirement(tps("52.71.01.1004", "kurang_rawan", 2), PEMILU_2024)
    pd.testing.assert_frame_equal(req.kelurahan, same.kelurahan)


def test_pattern_change_by_effective_date_changes_the_requirement():
    sets = [PatternSet.build("lama", datetime(2019, 1, 1, tzinfo=WITA),
                             {"kurang_rawan": "2-4-6", "rawan": "4-2-8", "sangat_rawan": "6-2-8"}),
            PatternSet.build("baru", datetime(2024, 2, 13, 12, tzinfo=WITA),
                             {"kurang_rawan": "2-8-16", "rawan": "2-2-4", "sangat_rawan": "2-1-2"})]
    risks = tps("52.71.01.1004", "rawan", 3)
    before = requirement(risks, pattern_in_force(sets, datetime(2024, 2, 13, 11, 59, tzinfo=WITA)))
    after = requirement(risks, pattern_in_force(sets, datetime(2024, 2, 13, 12, 1, tzinfo=WITA)))
    # before: 4-2-8 -> Polri 4*ceil(3/2)=8, Linmas ceil(24/2)=12
    assert (before.city.loc[0, "polri"], before.city.loc[0, "linmas"]) == (8, 12)
    # after: 2-2-4 -> Polri 2*2=4, Linmas ceil(12/2)=6
    assert (after.city.loc[0, "polri"], after.city.loc[0, "linmas"]) == (4, 6)


def test_class_without_a_pattern_is_a_config_error():
    partial = PatternSet.build("tanpa khusus", datetime(2024, 1, 1, tzinfo=WITA),
                               {"kurang_rawan": "2-4-8"})
    with pytest.raises(ConfigError) as info:
        requirement(tps("52.71.05.1001", "khusus", 1), partial)
    assert info.value.field == "pola.khusus"


def test_no_tps_gives_empty_tables_and_zero_city():
    req = requirement([], PEMILU_2024)
    assert req.kelurahan.empty and req.kecamatan.empty
    assert req.city.loc[0, "polri"] == 0


def test_negative_counts_are_rejected():
    counts = pd.DataFrame({"kecamatan_kode": ["52.71.01"], "kelurahan_kode": ["52.71.01.1004"],
                           "kelas": ["rawan"], "n_tps": [-1]})
    with pytest.raises(InputRejected):
        requirement(counts, PEMILU_2024)
