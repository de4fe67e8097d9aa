"""Suggestions: nearest same-kecamatan surplus first, then elsewhere, then reserves; no donor
left short; nothing counted twice; reasons."""
from __future__ import annotations

import copy
import tomllib

import pandas as pd

from gisdesk.analysis import (Assignment, Move, SuggestContext, TpsRisk, gaps, load_rules,
                              requirement, rules_from_dict, suggest, suggestions_frame)
from gisdesk.analysis.rules import DEFAULT_RULES_FILE

RULES = load_rules()
PEMILU_2024 = RULES.pattern_sets[0]
R1, D1, D2 = "52.71.01.1001", "52.71.01.1002", "52.71.01.1003"     # kecamatan Ampenan
D3 = "52.71.02.1001"                                                # kecamatan Mataram


def tps(kelurahan: str, kelas: str, n: int, **kw) -> list[TpsRisk]:
    return [TpsRisk(f"{kelurahan}-{i:03d}", kelurahan, kelurahan.rsplit(".", 1)[0], kelas,
                    kw.get("base", kelas), kw.get("escalated", False), True,
                    kw.get("disagree", False), {}, (), kw.get("incidents", ()))
            for i in range(1, n + 1)]


def polri(n, kode, target="kelurahan"):
    return Assignment("polri", n, target, kode)


def rules_with(**suggest_keys):
    data = copy.deepcopy(tomllib.loads(DEFAULT_RULES_FILE.read_text("utf-8")))
    data["suggest"].update(suggest_keys)
    return rules_from_dict(data)


# R1: 8 rawan -> Polri 2*ceil(8/2) = 8, nobody assigned: short 8
# D1, D2, D3: 1 kurang rawan each -> Polri 2*ceil(1/4) = 2
#   D1 has 4 (surplus 2), D2 has 3 (surplus 1), D3 has 5 (surplus 3)
# Polsek Ampenan reserve 1 Polri, Polresta reserve 5 Polri
RISKS = tps(R1, "rawan", 8) + tps(D1, "kurang_rawan", 1) + tps(D2, "kurang_rawan", 1) \
    + tps(D3, "kurang_rawan", 1)
ASSIGNED = [polri(4, D1), polri(3, f"{D2}-001", "tps"), polri(5, D3),
            polri(1, "52.71.01", "reserve"), polri(5, None, "reserve")]
# D3 is nearest but in another kecamatan
DISTANCES = {(R1, D1): 900.0, (D2, R1): 300.0, (R1, D3): 100.0}


def table(risks=RISKS, assigned=ASSIGNED):
    return gaps(requirement(risks, PEMILU_2024), assigned, RULES)


def polri_suggestions(result):
    return [s for s in result if s.agency == "polri"]


def test_same_kecamatan_nearest_first_then_other_kecamatan_then_polsek_then_polresta():
    (s,) = polri_suggestions(suggest(table(), DISTANCES, RULES))
    assert (s.kelurahan_kode, s.required, s.assigned, s.gap) == (R1, 8, 0, 8)
    # need 8: D2 (300 m, same kec) 1 -> 7 left; D1 (900 m, same kec) 2 -> 5;
    # D3 (100 m, other kec) 3 -> 2; Polsek Ampenan 1 -> 1; Polresta 1 -> 0
    assert s.moves == (
        Move("kelurahan", D2, 1, 300.0, True), Move("kelurahan", D1, 2, 900.0, True),
        Move("kelurahan", D3, 3, 100.0, False), Move("polsek_reserve", "52.71.01", 1),
        Move("polresta_reserve", None, 1))
    assert s.unfilled == 0


def test_donors_are_never_left_short_and_the_rest_is_tidak_tercukupi():
    # no reserves: 1 + 2 + 3 = 6 of 8 from surplus; 2 remain
    (s,) = polri_suggestions(suggest(table(assigned=ASSIGNED[:3]), DISTANCES, RULES))
    assert [(m.source, m.count) for m in s.moves] == [
        ("kelurahan", 1), ("kelurahan", 2), ("kelurahan", 3), ("tidak_tercukupi", 2)]
    assert s.unfilled == 2
    assert "Tidak tercukupi: masih kurang 2 Polri" in s.summary()


def test_a_donor_shared_by_two_short_kelurahan_is_not_counted_twice():
    # R1: 3 rawan -> Polri 2*ceil(3/2) = 4, short 4; R2 (same kec): 1 sangat rawan -> 2, short 2
    # D1: 1 kurang rawan needs 2, has 5 -> surplus 3, the only donor
    r2 = "52.71.01.1009"
    result = polri_suggestions(suggest(
        table(tps(R1, "rawan", 3) + tps(r2, "sangat_rawan", 1) + tps(D1, "kurang_rawan", 1),
              [polri(5, D1)]),
        {(R1, D1): 500, (r2, D1): 100}, RULES))
    # largest gap first: R1 takes all 3 of D1's surplus (1 still short); R2 gets nothing
    assert [(s.kelurahan_kode, s.gap) for s in result] == [(R1, 4), (r2, 2)]
    assert result[0].moves == (Move("kelurahan", D1, 3, 500.0, True),
                               Move("tidak_tercukupi", None, 1))
    assert result[1].moves == (Move("tidak_tercukupi", None, 2),)
    moved_from_d1 = sum(m.count for s in result for m in s.moves if m.kode == D1)
    assert moved_from_d1 == 3                               # = its surplus, never more


def test_equal_gaps_are_ordered_by_code():
    k1, k2 = "52.71.01.1008", "52.71.01.1007"
    result = polri_suggestions(suggest(table(tps(k1, "rawan", 1) + tps(k2, "rawan", 1), []),
                                       {}, RULES))
    assert [s.kelurahan_kode for s in result] == [k2, k1]


def test_polri_surplus_does_not_cover_a_linmas_gap():
    # D1: 1 kurang rawan needs Polri 2, Linmas 2; has 10 Polri, no Linmas
    result = suggest(table(tps(R1, "rawan", 1) + tps(D1, "kurang_rawan", 1),
                           [polri(10, D1), Assignment("linmas", 4, "kelurahan", R1)]),
                     {(R1, D1): 100}, RULES)
    by_agency = {(s.kelurahan_kode, s.agency): s for s in result}
    # R1: Polri 2*ceil(1/2) = 2 short, taken from D1's Polri surplus 8
    assert by_agency[(R1, "polri")].moves == (Move("kelurahan", D1, 2, 100.0, True),)
    # D1 Linmas: needs ceil(8*1/4) = 2, has 0; R1 has Linmas 4 - ceil(4*1/2)=2 -> surplus 2
    assert by_agency[(D1, "linmas")].moves == (Move("kelurahan", R1, 2, 100.0, True),)
    assert (R1, "linmas") not in by_agency


def test_unknown_distance_comes_last_and_max_distance_skips_far_donors():
    # same kecamatan: D2 distance unknown, D1 900 m
    s = polri_suggestions(suggest(table(assigned=ASSIGNED[:3]), {(R1, D1): 900.0}, RULES))[0]
    assert [m.kode for m in s.moves[:2]] == [D1, D2]
    assert s.moves[1].distance_m is None
    # at most 500 m: D1 (900) and D2 (unknown) skipped; D3 100 m used
    s = polri_suggestions(suggest(table(assigned=ASSIGNED[:3]), DISTANCES,
                                  rules_with(max_distance_m=500)))[0]
    assert [(m.kode, m.count) for m in s.moves] == [(D2, 1), (D3, 3), (None, 4)]


def test_the_order_of_sources_comes_from_the_rules():
    rules = rules_with(order=["polresta_reserve", "kelurahan_same_kecamatan"])
    s = polri_suggestions(suggest(table(), DISTANCES, rules))[0]
    # Polresta 5 first, then D2 1 and D1 2 (same kecamatan only): 8
    assert [(m.source, m.count) for m in s.moves] == [
        ("polresta_reserve", 5), ("kelurahan", 1), ("kelurahan", 2)]


def test_distances_as_a_dataframe_work_like_a_mapping():
    frame = pd.DataFrame({"from_kode": [R1, D2, R1], "to_kode": [D1, R1, D3],
                          "distance_m": [900, 300, 100]})
    assert suggest(table(), frame, RULES) == suggest(table(), DISTANCES, RULES)


def test_reasons_give_classes_incidents_readiness_and_arithmetic():
    # R1: 3 rawan + 1 sangat rawan (escalated by incident i1, which is near two TPS)
    def risk(nomor, kelas, base, incidents=()):
        return TpsRisk(f"{R1}-{nomor:03d}", R1, "52.71.01", kelas, base, kelas != base, True,
                       nomor == 9, {}, (), incidents)
    risks = [risk(1, "rawan", "rawan", ("i1",)), risk(2, "rawan", "rawan", ("i1",)),
             risk(3, "rawan", "rawan"), risk(9, "sangat_rawan", "rawan", ("i1",))]
    # Polri: 3 rawan 2*ceil(3/2) = 4, 1 sangat rawan 2*1 = 2 -> 6; assigned 1 -> short 5
    result = suggest(table(risks, [polri(1, R1)]), {},
                     RULES, SuggestContext(tps_risks=risks, not_ready={R1: 2}))
    s = polri_suggestions(result)[0]
    assert s.reasons == (
        "butuh 6 Polri, ada 1",
        "1 TPS sangat rawan, 3 rawan",
        "1 kejadian terverifikasi baru di dekat TPS (1 TPS naik kelas)",    # i1 once
        "1 TPS dinilai berbeda oleh sumber",
        "2 TPS belum siap",
    )


def test_rows_and_frame_have_one_row_per_move():
    result = suggest(table(), DISTANCES, RULES)
    frame = suggestions_frame(result, names={R1: "Ampenan Tengah", D2: "Dayan Peken"})
    polri_rows = frame[frame["agency"] == "polri"]
    assert len(polri_rows) == 5
    first = polri_rows.iloc[0]
    assert (first.kelurahan, first["from"], first.from_nama, first["count"]) == (
        "Ampenan Tengah", "kelurahan", "Dayan Peken", 1)
    assert first.move == "1 Polri dari surplus Dayan Peken (300 m, kecamatan sama)"
    assert polri_rows["count"].sum() == 8
    assert list(frame.columns)[:4] == ["kelurahan_kode", "kelurahan", "kecamatan_kode", "agency"]


def test_nothing_short_means_no_suggestions():
    # every kelurahan exactly covered: 2 Polri and 2 Linmas for 1 kurang rawan TPS
    assigned = [polri(2, D1), Assignment("linmas", 2, "kelurahan", D1)]
    assert suggest(table(tps(D1, "kurang_rawan", 1), assigned), {}, RULES) == []


def test_a_list_walked_to_its_end_asks_for_more_only_while_a_donor_has_surplus_left():
    """The planner widens a kelurahan's nearest-donor list when its walk reached the end
    still short (ran_out); that is worth it only if some donor outside the list still has
    surplus: nationally most walks end with every donor of the kab/kota spent."""
    from gisdesk.analysis.suggest import NearestDonors
    only_d2 = NearestDonors({R1: [(300.0, D2)]})
    ran_out: set[str] = set()
    (s,) = polri_suggestions(suggest(table(), only_d2, RULES, ran_out=ran_out))
    assert ran_out == {R1}                  # D1 and D3 still had surplus beyond the list
    assert [(m.source, m.kode, m.count) for m in s.moves][:1] == [("kelurahan", D2, 1)]

    every = NearestDonors({R1: [(100.0, D3), (300.0, D2), (900.0, D1)]})
    ran_out = set()
    (s,) = polri_suggestions(suggest(table(), every, RULES, ran_out=ran_out))
    assert s.unfilled == 0 and s.moves[-1].source == "polresta_reserve"
    assert ran_out == set()                 # every donor spent: a longer list changes nothing
