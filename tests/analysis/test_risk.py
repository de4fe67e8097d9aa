"""Effective TPS class: max of sources, kelurahan ratings, khusus, latest rating, escalation."""
from __future__ import annotations

import copy
import tomllib
from datetime import date, datetime, timedelta, timezone

import pytest

from gisdesk.analysis import NearbyIncident, Rating, TpsInput, effective_classes, load_rules
from gisdesk.analysis import risks_frame, rules_from_dict
from gisdesk.analysis.rules import DEFAULT_RULES_FILE
from gisdesk.errors import InputRejected

WITA = timezone(timedelta(hours=8))
AS_OF = datetime(2024, 2, 14, 6, 0, tzinfo=WITA)     # voting morning, 06:00 WITA
RULES = load_rules()
KEL = "52.71.01.1004"
TPS = f"{KEL}-012"


def rules_with(**escalation):
    data = tomllib.loads(DEFAULT_RULES_FILE.read_text("utf-8"))
    data = copy.deepcopy(data)
    data["escalation"].update(escalation)
    return rules_from_dict(data)


def one(ratings=(), kelurahan=(), incidents=(), rules=RULES, as_of=AS_OF):
    (risk,) = effective_classes([TpsInput(TPS, ratings=tuple(ratings))], {KEL: list(kelurahan)},
                                {TPS: list(incidents)}, rules, as_of)
    return risk


def r(source, kelas=None, day=date(2024, 2, 1), indicators=None):
    return Rating(source, day, kelas, tuple(indicators) if indicators is not None else None)


def incident(hours_ago, metres, severity="berat", status="verified", title="bentrok massa"):
    return NearbyIncident("inc-1", AS_OF - timedelta(hours=hours_ago), severity, metres, title,
                          status)


# --- combining sources -------------------------------------------------------------------

def test_effective_class_is_the_highest_of_the_sources():
    # Polri kurang rawan, KPU 'tinggi' (= sangat rawan), Bawaslu 3 indicators (>= 3 -> rawan):
    # max(kurang_rawan, sangat_rawan, rawan) = sangat_rawan
    risk = one([r("polri", "kurang rawan"), r("kpu", "tinggi"),
                r("bawaslu", indicators=["dptb", "politik_uang", "logistik_rusak"])])
    assert risk.kelas == "sangat_rawan" and risk.base_kelas == "sangat_rawan"
    assert risk.reasons[:3] == (
        "Polri: kurang rawan", "KPU: tinggi (= sangat rawan)",
        "Bawaslu: 3 indikator (dptb, logistik_rusak, politik_uang): rawan")


@pytest.mark.parametrize("indicators, expected", [
    ([], "kurang_rawan"),                                   # 0 indicators
    (["a", "b"], "kurang_rawan"),                           # 2 < 3
    (["a", "b", "c"], "rawan"),                             # 3 >= 3
    (["a", "b", "c", "c", "C "], "rawan"),                  # duplicates count once: still 3
    (["a", "b", "c", "d", "e", "f"], "sangat_rawan"),       # 6 >= 6
    (["riwayat_kekerasan"], "rawan"),                       # alone -> rawan
    (["Riwayat Kekerasan", "a", "b", "c", "d", "e"], "sangat_rawan"),   # 6 indicators wins
])
def test_bawaslu_indicators_map_by_the_table(indicators, expected):
    assert one([r("bawaslu", indicators=indicators)]).kelas == expected


def test_kelurahan_rating_applies_to_all_its_tps():
    # TPS rated kurang rawan by Polri, its kelurahan rawan by KPU -> rawan
    risk = one([r("polri", "kurang_rawan")], kelurahan=[r("kpu", "rawan")])
    assert risk.kelas == "rawan"
    assert "Kelurahan dinilai rawan oleh KPU" in risk.reasons
    # every TPS of the kelurahan, also the ones nobody rated; other kelurahan untouched
    risks = effective_classes(
        [TpsInput(f"{KEL}-001"), TpsInput(f"{KEL}-002"), TpsInput("52.71.01.1005-001")],
        {KEL: [r("bawaslu", indicators=["riwayat_kekerasan"])]}, {}, RULES, AS_OF)
    assert [x.kelas for x in risks] == ["rawan", "rawan", "kurang_rawan"]
    assert [x.rated for x in risks] == [True, True, False]
    # kelurahan ratings do not take part in the disagreement flag
    assert not risk.disagree


def test_khusus_is_never_lowered_and_never_escalated():
    # Polri khusus (prison), Bawaslu 6 indicators (sangat rawan), kelurahan sangat rawan,
    # a heavy incident 100 m away 1 h ago: still khusus
    risk = one([r("polri", "khusus"), r("bawaslu", indicators="abcdef")],
               kelurahan=[r("kpu", "sangat rawan")], incidents=[incident(1, 100)])
    assert (risk.kelas, risk.base_kelas, risk.escalated) == ("khusus", "khusus", False)
    assert risk.incident_ids == ("inc-1",)          # the incident is still reported
    assert "Ada kejadian berat 'bentrok massa' 100 m, 14-02-2024 05:00 WITA (kelas tidak dinaikkan)" in \
        risk.reasons


def test_escalation_never_turns_a_class_into_khusus():
    # sangat rawan + incident: max_class is sangat_rawan, stays sangat_rawan
    risk = one([r("polri", "sangat_rawan")], incidents=[incident(1, 100)])
    assert (risk.kelas, risk.escalated) == ("sangat_rawan", False)
    # even with 5 steps, kurang rawan stops at sangat rawan
    risk = one([r("polri", "kurang_rawan")], incidents=[incident(1, 100)],
               rules=rules_with(steps=5))
    assert risk.kelas == "sangat_rawan"


def test_latest_rating_per_source_wins_even_when_lower():
    # Polri: rawan on 1 Jan, kurang rawan on 1 Feb -> kurang rawan counts (not the max)
    old, new = r("polri", "rawan", date(2024, 1, 1)), r("polri", "kurang_rawan", date(2024, 2, 1))
    risk = one([old, new])
    assert risk.kelas == "kurang_rawan"
    assert risk.reasons == ("Polri: kurang rawan",)
    # input order does not matter
    risk = one([new, old])
    assert risk.kelas == "kurang_rawan"


def test_latest_kelurahan_rating_per_source_wins():
    risk = one(kelurahan=[r("kpu", "sangat_rawan", date(2024, 1, 1)),
                          r("kpu", "kurang_rawan", date(2024, 2, 10))])
    assert risk.kelas == "kurang_rawan"


def test_rating_dated_after_as_of_is_not_yet_known():
    # Polri upgrades to rawan on 15 Feb; at as_of 14 Feb 06:00 the 1 Feb rating holds
    ratings = [r("polri", "kurang_rawan", date(2024, 2, 1)), r("polri", "rawan", date(2024, 2, 15))]
    assert one(ratings).kelas == "kurang_rawan"
    assert one(ratings, as_of=datetime(2024, 2, 15, 0, 0, tzinfo=WITA)).kelas == "rawan"


def test_same_day_ratings_of_one_source_take_the_higher():
    assert one([r("polri", "rawan"), r("polri", "kurang_rawan")]).kelas == "rawan"


def test_unrated_tps_gets_the_default_class_with_a_reason():
    risk = one()
    assert (risk.kelas, risk.rated, risk.disagree) == ("kurang_rawan", False, False)
    assert risk.reasons == ("Tidak ada penilaian: dianggap kurang rawan",)


def test_disagreement_is_flagged_with_who_said_what():
    risk = one([r("polri", "kurang_rawan"), r("bawaslu", indicators=["riwayat_kekerasan"])])
    assert risk.kelas == "rawan" and risk.disagree
    assert risk.source_classes == {"polri": "kurang_rawan", "bawaslu": "rawan"}
    assert risk.reasons[-1] == "Beda penilaian: Polri kurang rawan, Bawaslu rawan"
    # two sources saying the same class in different words agree
    assert not one([r("polri", "sangat rawan"), r("kpu", "tinggi")]).disagree
    # only the latest rating per source is compared
    assert not one([r("polri", "rawan", date(2024, 1, 1)), r("polri", "kurang_rawan"),
                    r("kpu", "rendah")]).disagree


def test_unknown_source_or_class_is_rejected_with_the_field():
    with pytest.raises(InputRejected) as info:
        one([r("dukun", "rawan")])
    assert info.value.field == "source"
    with pytest.raises(InputRejected) as info:
        one([r("polri", "merah")])
    assert info.value.field == "kelas"
    with pytest.raises(InputRejected) as info:
        one([r("polri", indicators=["a"])])          # Polri does not rate by indicators
    assert info.value.field == "indicators"


def test_as_of_must_be_timezone_aware():
    with pytest.raises(InputRejected) as info:
        one(as_of=datetime(2024, 2, 14, 6, 0))
    assert info.value.field == "as_of"


# --- escalation by incidents -------------------------------------------------------------

def test_recent_heavy_incident_nearby_raises_one_class_with_reason():
    risk = one([r("polri", "kurang_rawan")], incidents=[incident(3, 320)])
    assert (risk.base_kelas, risk.kelas, risk.escalated) == ("kurang_rawan", "rawan", True)
    assert "Eskalasi: kejadian berat 'bentrok massa' 320 m, 14-02-2024 03:00 WITA" in risk.reasons
    assert "Naik dari kurang rawan ke rawan" in risk.reasons


def test_several_incidents_still_raise_one_class():
    incidents = [incident(1, 100), NearbyIncident("inc-2", AS_OF - timedelta(hours=2), "sedang",
                                                  200)]
    risk = one([r("polri", "kurang_rawan")], incidents=incidents)
    assert risk.kelas == "rawan"                               # one step, not two
    assert risk.incident_ids == ("inc-1", "inc-2")             # most severe first


@pytest.mark.parametrize("hours_ago, escalates", [
    (0, True),                       # at as_of itself
    (24, True),                      # exactly 24 h before as_of: inside (inclusive)
    (24 + 1 / 3600, False),          # 24 h and 1 s: outside
    (-1 / 3600, False),              # 1 s after as_of: not happened yet at as_of
])
def test_escalation_window_edges(hours_ago, escalates):
    assert one(incidents=[incident(hours_ago, 100)]).escalated is escalates


@pytest.mark.parametrize("metres, escalates", [
    (0, True), (499.9, True), (500, True),      # 500 m inclusive
    (500.01, False), (float("nan"), False)])
def test_escalation_radius_edges(metres, escalates):
    assert one(incidents=[incident(1, metres)]).escalated is escalates


@pytest.mark.parametrize("severity, escalates", [
    ("ringan", False), ("rendah", False),       # below sedang
    ("sedang", True), ("Sedang", True),
    ("berat", True), ("tinggi", True),          # tinggi = berat
])
def test_escalation_severity(severity, escalates):
    assert one(incidents=[incident(1, 100, severity=severity)]).escalated is escalates


@pytest.mark.parametrize("status, escalates", [
    ("verified", True), ("reported", False), ("rejected", False), ("resolved", False)])
def test_only_verified_incidents_escalate(status, escalates):
    assert one(incidents=[incident(1, 100, status=status)]).escalated is escalates


def test_escalation_settings_come_from_the_rules():
    rules = rules_with(min_severity="berat", radius_m=1000, window_hours=48)
    assert one(incidents=[incident(1, 100, severity="sedang")], rules=rules).escalated is False
    assert one(incidents=[incident(40, 900)], rules=rules).escalated is True
    assert one(incidents=[incident(1, 100)], rules=rules_with(enabled=False)).escalated is False
    assert one(incidents=[incident(1, 100)], rules=rules_with(steps=2)).kelas == "sangat_rawan"


def test_unknown_severity_or_naive_time_is_rejected():
    with pytest.raises(InputRejected) as info:
        one(incidents=[incident(1, 100, severity="parah")])
    assert info.value.field == "severity"
    naive = NearbyIncident("x", datetime(2024, 2, 14, 5), "berat", 10)
    with pytest.raises(InputRejected) as info:
        one(incidents=[naive])
    assert info.value.field == "occurred_at"


def test_risks_frame_has_one_row_per_tps():
    frame = risks_frame([one([r("polri", "rawan")])])
    assert frame.loc[0, "kelas"] == "rawan" and frame.loc[0, "reasons"] == "Polri: rawan"
    assert frame.loc[0, "kecamatan_kode"] == "52.71.01"
