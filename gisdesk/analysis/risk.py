"""Effective vulnerability class of each TPS: the highest of its ratings, escalated by incidents.

Inputs are plain data; distances are computed by the caller (PostGIS). The combination rules
are small functions (latest_per_source, map_rating, highest, escalate, incidents_that_count)
so the same rules can later be mirrored in SQL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping, Sequence

import pandas as pd

from gisdesk.analysis.rules import Rules, Source, norm_word
from gisdesk.errors import InputRejected


@dataclass(frozen=True)
class Rating:
    """One rating of a TPS or a kelurahan by one source.

    ``kelas`` is the class as the source wrote it ('rawan', 'Sangat Rawan', 'tinggi'), or None
    when the source gives ``indicators`` (Bawaslu: the set of indicators found). ``rated_at`` is
    a date (read as the start of that day in rules.timezone) or an aware datetime.
    """

    source: str
    rated_at: date | datetime
    kelas: str | None = None
    indicators: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NearbyIncident:
    """An incident near a TPS, with its distance to that TPS in metres (caller computes it)."""

    incident_id: str
    occurred_at: datetime          # timezone-aware, when it happened (not when entered)
    severity: str                  # ringan|sedang|berat (or rendah|sedang|tinggi)
    distance_m: float
    title: str = ""                # e.g. 'bentrok massa'
    status: str = "verified"       # only rules.escalation.statuses count


@dataclass(frozen=True)
class TpsInput:
    """A TPS and its own (TPS-level) ratings. Kelurahan/kecamatan are derived from the code
    (52.71.01.1004-012 -> 52.71.01.1004 -> 52.71.01) when not given."""

    tps_kode: str
    kelurahan_kode: str | None = None
    kecamatan_kode: str | None = None
    ratings: tuple[Rating, ...] = ()


@dataclass(frozen=True)
class TpsRisk:
    """The effective class of one TPS and why."""

    tps_kode: str
    kelurahan_kode: str
    kecamatan_kode: str
    kelas: str                     # effective class
    base_kelas: str                # before escalation by incidents
    escalated: bool
    rated: bool                    # False: nobody rated the TPS or its kelurahan (default class)
    disagree: bool                 # TPS-level sources map to different classes
    source_classes: Mapping[str, str] = field(default_factory=dict)   # TPS-level: source -> class
    reasons: tuple[str, ...] = ()
    incident_ids: tuple[str, ...] = ()    # incidents that count for escalation


def kelurahan_of(tps_kode: str) -> str:
    return tps_kode.split("-", 1)[0]


def kecamatan_of(kelurahan_kode: str) -> str:
    return kelurahan_kode.rsplit(".", 1)[0]


def _require_aware(value: datetime, fld: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InputRejected(f"{fld} harus waktu dengan zona waktu", field=fld)


def rating_time(rating: Rating, rules: Rules) -> datetime:
    """A rating's time; a plain date starts at 00:00 in the rules' time zone."""
    if isinstance(rating.rated_at, datetime):
        _require_aware(rating.rated_at, "rated_at")
        return rating.rated_at
    if isinstance(rating.rated_at, date):
        return datetime.combine(rating.rated_at, time(0), tzinfo=rules.timezone)
    raise InputRejected(f"tanggal penilaian tidak sah: {rating.rated_at!r}", field="rated_at")


def _source(rating: Rating, rules: Rules) -> Source:
    try:
        return rules.sources[norm_word(rating.source)]
    except KeyError:
        raise InputRejected(f"sumber penilaian tidak dikenal: {rating.source!r}",
                            field="source") from None


def map_rating(rating: Rating, rules: Rules) -> tuple[str, str]:
    """(class on the common scale, short description such as 'rawan' or '4 indikator (...)')."""
    src = _source(rating, rules)
    found: list[str] = []
    parts: list[str] = []
    if rating.kelas is not None:
        word = norm_word(rating.kelas)
        if word not in src.class_map:
            raise InputRejected(f"{src.label}: kelas {rating.kelas!r} tidak dikenal",
                                field="kelas")
        kelas = src.class_map[word]
        found.append(kelas)
        same = word == kelas or word == norm_word(rules.label(kelas))
        parts.append(rules.label(kelas) if same else f"{rating.kelas} (= {rules.label(kelas)})")
    if rating.indicators is not None:
        if not src.rates_indicators:
            raise InputRejected(f"{src.label} tidak menilai dengan indikator",
                                field="indicators")
        kelas, text = classify_indicators(rating.indicators, src, rules)
        found.append(kelas)
        parts.append(text)
    if not found:
        raise InputRejected(f"penilaian {src.label} tanpa kelas maupun indikator", field="kelas")
    return highest(found, rules), "; ".join(parts)


def classify_indicators(indicators: Iterable[str], src: Source, rules: Rules) -> tuple[str, str]:
    """Indicators -> class by count thresholds and by indicators that count alone."""
    names = sorted({norm_word(i) for i in indicators if str(i).strip()})
    kelas = rules.class_order[0]
    for minimum, k in src.indicator_counts:
        if len(names) >= minimum:
            kelas = highest([kelas, k], rules)
    for name in names:
        if name in src.indicator_alone:
            kelas = highest([kelas, src.indicator_alone[name]], rules)
    shown = ", ".join(names[:4]) + (f", dan {len(names) - 4} lainnya" if len(names) > 4 else "")
    text = f"{len(names)} indikator" + (f" ({shown})" if names else "")
    return kelas, f"{text}: {rules.label(kelas)}"


def latest_per_source(ratings: Iterable[Rating], rules: Rules,
                      as_of: datetime) -> dict[str, tuple[str, str]]:
    """source -> (class, description) of its latest rating at or before as_of.

    Two ratings of one source at the same time: the higher class counts (cautious, and the
    answer does not depend on input order).
    """
    best: dict[str, tuple[datetime, int, str, str]] = {}
    for r in ratings:
        when = rating_time(r, rules)
        if when > as_of:
            continue                          # not yet given at as_of
        kelas, text = map_rating(r, rules)
        key = (when, rules.rank(kelas))
        name = _source(r, rules).name
        if name not in best or key > best[name][:2]:
            best[name] = (when, rules.rank(kelas), kelas, text)
    order = list(rules.sources)
    return {s: (v[2], v[3]) for s, v in sorted(best.items(), key=lambda kv: order.index(kv[0]))}


def highest(classes: Iterable[str], rules: Rules) -> str:
    """The highest class; a special class (khusus) outranks the whole scale."""
    return max(classes, key=rules.rank)


def escalate(kelas: str, steps: int, rules: Rules) -> str:
    """Raise ``steps`` classes, never above max_class, never lowering, never into/out of khusus."""
    if kelas in rules.special_classes or steps <= 0:
        return kelas
    i = rules.class_order.index(kelas)
    top = rules.class_order.index(rules.escalation.max_class)
    return rules.class_order[max(i, min(i + steps, top))]


def incidents_that_count(incidents: Iterable[NearbyIncident], rules: Rules,
                         as_of: datetime) -> list[NearbyIncident]:
    """Incidents with a counted status, severity >= min, within radius (inclusive) and in the
    window [as_of - window_hours, as_of] (both ends inclusive). Most severe, then nearest first."""
    esc = rules.escalation
    start = as_of - timedelta(hours=esc.window_hours)
    minimum = rules.severity_rank(esc.min_severity)
    out = []
    for inc in incidents:
        _require_aware(inc.occurred_at, "occurred_at")
        rank = rules.severity_rank(inc.severity)
        if rank is None:
            raise InputRejected(f"tingkat kejadian tidak dikenal: {inc.severity!r}",
                                field="severity")
        if (norm_word(inc.status) in esc.statuses and rank >= minimum
                and inc.distance_m is not None and not math.isnan(inc.distance_m)
                and inc.distance_m <= esc.radius_m
                and start <= inc.occurred_at <= as_of):
            out.append(inc)
    return sorted(out, key=lambda i: (-rules.severity_rank(i.severity), i.distance_m,
                                      str(i.incident_id)))


# the zone names people read on clocks; others are shown by their IANA name
ZONE_LABELS = {"Asia/Makassar": "WITA", "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB",
               "Asia/Jayapura": "WIT"}


def zone_label(rules: Rules) -> str:
    return ZONE_LABELS.get(str(rules.timezone), str(rules.timezone))


def clock_time(moment: datetime, rules: Rules) -> str:
    """'14-02-2024 07:30 WITA': an absolute time in rules.timezone, so reasons computed at
    different moments can be compared (never '12 menit lalu')."""
    return f"{moment.astimezone(rules.timezone):%d-%m-%Y %H:%M} {zone_label(rules)}"


def incident_reason(inc: NearbyIncident, rules: Rules, as_of: datetime, raised: bool) -> str:
    """"Eskalasi: kejadian berat 'bentrok massa' 320 m, 14-02-2024 07:30 WITA"."""
    title = f" '{inc.title}'" if inc.title else ""
    text = (f"kejadian {rules.severity_name(inc.severity)}{title} {inc.distance_m:.0f} m, "
            f"{clock_time(inc.occurred_at, rules)}")
    return f"Eskalasi: {text}" if raised else f"Ada {text} (kelas tidak dinaikkan)"


def _kelurahan_reasons(ratings: Sequence[Rating], rules: Rules,
                       as_of: datetime) -> tuple[list[str], list[str]]:
    """(classes that apply to every TPS of the kelurahan, reasons)."""
    classes, reasons = [], []
    for name, (kelas, text) in latest_per_source(ratings, rules, as_of).items():
        label = rules.sources[name].label
        if kelas in rules.special_classes:
            # A special class names a TPS location (a prison), not an area.
            reasons.append(f"Kelurahan dinilai {rules.label(kelas)} oleh {label}: "
                           "kelas ini hanya berlaku per TPS, diabaikan")
            continue
        classes.append(kelas)
        detail = f" ({text})" if "indikator" in text else ""
        reasons.append(f"Kelurahan dinilai {rules.label(kelas)} oleh {label}{detail}")
    return classes, reasons


def assess_tps(tps: TpsInput, kelurahan: tuple[list[str], list[str]],
               incidents: Sequence[NearbyIncident], rules: Rules, as_of: datetime) -> TpsRisk:
    """The effective class of one TPS, given its kelurahan's (classes, reasons)."""
    kel = tps.kelurahan_kode or kelurahan_of(tps.tps_kode)
    kec = tps.kecamatan_kode or kecamatan_of(kel)
    own = latest_per_source(tps.ratings, rules, as_of)
    reasons = [f"{rules.sources[s].label}: {text}" for s, (_, text) in own.items()]
    kel_classes, kel_reasons = kelurahan
    reasons += kel_reasons
    classes = [k for k, _ in own.values()] + kel_classes
    rated = bool(classes)
    if not rated:
        classes = [rules.default_class]
        reasons.append(f"Tidak ada penilaian: dianggap {rules.label(rules.default_class)}")
    base = highest(classes, rules)

    kelas, counted = base, []
    if rules.escalation.enabled:
        counted = incidents_that_count(incidents, rules, as_of)
        if counted:
            kelas = escalate(base, rules.escalation.steps, rules)
            reasons += [incident_reason(i, rules, as_of, kelas != base) for i in counted]
            if kelas != base:
                reasons.append(f"Naik dari {rules.label(base)} ke {rules.label(kelas)}")

    source_classes = {s: k for s, (k, _) in own.items()}
    disagree = len(set(source_classes.values())) > 1
    if disagree:
        said = ", ".join(f"{rules.sources[s].label} {rules.label(k)}"
                         for s, k in source_classes.items())
        reasons.append(f"Beda penilaian: {said}")
    return TpsRisk(tps.tps_kode, kel, kec, kelas, base, kelas != base, rated, disagree,
                   source_classes, tuple(reasons), tuple(str(i.incident_id) for i in counted))


def effective_classes(tps: Iterable[TpsInput],
                      kelurahan_ratings: Mapping[str, Sequence[Rating]] | None,
                      incidents_near: Mapping[str, Sequence[NearbyIncident]] | None,
                      rules: Rules, as_of: datetime) -> list[TpsRisk]:
    """Effective class of every TPS at ``as_of`` (timezone-aware).

    ``kelurahan_ratings``: kelurahan_kode -> ratings given to the whole kelurahan (any source);
    ``incidents_near``: tps_kode -> incidents near that TPS with their distance (the caller may
    pass only verified ones; the status is checked anyway). Ratings dated after as_of and
    incidents after as_of are ignored, so an answer for a past as_of is reproducible.
    """
    _require_aware(as_of, "as_of")
    kelurahan_ratings = kelurahan_ratings or {}
    incidents_near = incidents_near or {}
    per_kelurahan: dict[str, tuple[list[str], list[str]]] = {}
    out = []
    for t in tps:
        kel = t.kelurahan_kode or kelurahan_of(t.tps_kode)
        if kel not in per_kelurahan:
            per_kelurahan[kel] = _kelurahan_reasons(kelurahan_ratings.get(kel, ()), rules, as_of)
        out.append(assess_tps(t, per_kelurahan[kel], incidents_near.get(t.tps_kode, ()),
                              rules, as_of))
    return out


def risks_frame(risks: Iterable[TpsRisk]) -> pd.DataFrame:
    """TpsRisk list as a table (reasons joined with '; ') for maps, exports and CSV."""
    cols = ["tps_kode", "kelurahan_kode", "kecamatan_kode", "kelas", "base_kelas", "escalated",
            "rated", "disagree", "source_classes", "reasons", "incident_ids"]
    rows = [{
        "tps_kode": r.tps_kode, "kelurahan_kode": r.kelurahan_kode,
        "kecamatan_kode": r.kecamatan_kode, "kelas": r.kelas, "base_kelas": r.base_kelas,
        "escalated": r.escalated, "rated": r.rated, "disagree": r.disagree,
        "source_classes": ", ".join(f"{s}={k}" for s, k in r.source_classes.items()),
        "reasons": "; ".join(r.reasons), "incident_ids": ", ".join(r.incident_ids),
    } for r in risks]
    return pd.DataFrame(rows, columns=cols)
