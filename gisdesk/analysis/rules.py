"""The analysis rules (classes, sources, escalation, patterns): loaded from TOML and validated.

Every error is a ConfigError whose ``field`` is the dotted TOML key, e.g. ``escalation.radius_m``.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gisdesk.errors import ConfigError

# Next to the package rather than importlib.resources: works the same installed or editable.
DEFAULT_RULES_FILE = Path(__file__).resolve().parent.parent / "rules.toml"

SUGGEST_STEPS = ("kelurahan_same_kecamatan", "kelurahan_other_kecamatan",
                 "polsek_reserve", "polresta_reserve")


def norm_word(word: str) -> str:
    """Compare words the way people write them: 'Sangat Rawan', 'sangat-rawan' -> 'sangat_rawan'."""
    return re.sub(r"[\s\-]+", "_", str(word).strip().lower())


@dataclass(frozen=True)
class Pattern:
    """Pola a-b-c: ``polri`` officers and ``linmas`` for every ``tps`` TPS."""

    polri: int
    tps: int
    linmas: int

    @classmethod
    def parse(cls, text: str, *, field: str = "pola") -> Pattern:
        """Parse '2-4-8' (a-b-c)."""
        m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*-\s*(\d+)\s*", str(text))
        if not m:
            raise ConfigError(f"{field}: pola {text!r} harus berbentuk a-b-c, mis. 2-4-8",
                              field=field)
        a, b, c = (int(g) for g in m.groups())
        if b < 1:
            raise ConfigError(f"{field}: pola {text!r}: jumlah TPS (b) harus >= 1", field=field)
        return cls(a, b, c)

    def __str__(self) -> str:
        return f"{self.polri}-{self.tps}-{self.linmas}"


@dataclass(frozen=True)
class PatternSet:
    """One version of the patterns, in force from ``effective_from`` (timezone-aware)."""

    name: str
    effective_from: datetime
    patterns: Mapping[str, Pattern]

    @classmethod
    def build(cls, name: str, effective_from: datetime,
              patterns: Mapping[str, Pattern | str | tuple[int, int, int]]) -> PatternSet:
        """Accept patterns as Pattern, 'a-b-c' strings or (a, b, c) tuples."""
        if not isinstance(effective_from, datetime) or effective_from.tzinfo is None:
            raise ConfigError(f"pola {name!r}: effective_from harus waktu dengan zona waktu",
                              field="effective_from")
        parsed = {}
        for kelas, p in patterns.items():
            if isinstance(p, Pattern):
                parsed[kelas] = p
            elif isinstance(p, tuple):
                parsed[kelas] = Pattern.parse("-".join(map(str, p)), field=f"pola.{kelas}")
            else:
                parsed[kelas] = Pattern.parse(p, field=f"pola.{kelas}")
        return cls(name, effective_from, parsed)

    def pattern(self, kelas: str) -> Pattern:
        try:
            return self.patterns[kelas]
        except KeyError:
            raise ConfigError(f"pola {self.name!r} tidak punya pola untuk kelas {kelas!r}",
                              field=f"pola.{kelas}") from None


def pattern_in_force(pattern_sets: Iterable[PatternSet], as_of: datetime) -> PatternSet:
    """The latest set with effective_from <= as_of; ConfigError if none or two tie."""
    if as_of.tzinfo is None:
        raise ConfigError("as_of harus waktu dengan zona waktu", field="as_of")
    valid = [s for s in pattern_sets if s.effective_from <= as_of]
    if not valid:
        raise ConfigError(f"tidak ada pola pengamanan yang berlaku pada {as_of.isoformat()}",
                          field="patterns")
    latest = max(s.effective_from for s in valid)
    chosen = [s for s in valid if s.effective_from == latest]
    if len(chosen) > 1:
        names = ", ".join(sorted(s.name for s in chosen))
        raise ConfigError(f"dua pola berlaku sejak waktu yang sama: {names}",
                          field="patterns.effective_from")
    return chosen[0]


@dataclass(frozen=True)
class Source:
    """A rating source (polri, kpu, bawaslu) and how its words map onto the classes."""

    name: str
    label: str
    class_map: Mapping[str, str]
    indicator_counts: tuple[tuple[int, str], ...] = ()    # (min, class), ascending min
    indicator_alone: Mapping[str, str] = field(default_factory=dict)

    @property
    def rates_indicators(self) -> bool:
        return bool(self.indicator_counts or self.indicator_alone)


@dataclass(frozen=True)
class Escalation:
    enabled: bool
    min_severity: str
    radius_m: float
    window_hours: float
    steps: int
    max_class: str
    statuses: frozenset[str]


@dataclass(frozen=True)
class Rules:
    """The whole rules file, validated. Build with load_rules() or rules_from_dict()."""

    timezone: ZoneInfo
    class_order: tuple[str, ...]
    special_classes: tuple[str, ...]
    default_class: str
    labels: Mapping[str, str]
    severity_order: tuple[str, ...]
    severity_aliases: Mapping[str, str]
    sources: Mapping[str, Source]
    escalation: Escalation
    tni_counts_as_polri: bool
    suggest_order: tuple[str, ...]
    max_distance_m: float          # 0 = no limit
    pattern_sets: tuple[PatternSet, ...]

    @property
    def classes(self) -> tuple[str, ...]:
        return self.class_order + self.special_classes

    def label(self, kelas: str) -> str:
        return self.labels.get(kelas, kelas)

    def rank(self, kelas: str) -> int:
        """Position on the ordered scale; special classes rank above all of it."""
        if kelas in self.class_order:
            return self.class_order.index(kelas)
        return len(self.class_order) + self.special_classes.index(kelas)

    def severity_rank(self, severity: str) -> int | None:
        s = norm_word(severity)
        s = self.severity_aliases.get(s, s)
        return self.severity_order.index(s) if s in self.severity_order else None

    def severity_name(self, severity: str) -> str:
        s = norm_word(severity)
        return self.severity_aliases.get(s, s)


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and validate a rules file; None -> the packaged gisdesk/rules.toml."""
    origin = str(path or DEFAULT_RULES_FILE)
    try:
        text = Path(origin).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{origin}: tidak bisa dibaca: {e.strerror}", field=None) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{origin}: bukan TOML yang sah: {e}", field=None) from e
    return rules_from_dict(data, origin=origin)


class _Table:
    """Typed access to one TOML table that names the dotted field in every error."""

    def __init__(self, data: Any, prefix: str, origin: str):
        self.prefix, self.origin = prefix, origin
        if not isinstance(data, dict):
            self.fail(prefix, "harus berupa tabel")
        self.data = data

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, fld: str, why: str):
        raise ConfigError(f"{self.origin}: {fld}: {why}", field=fld)

    def get(self, name: str, kind, default: Any = ..., *, check=None, why: str = ""):
        if name not in self.data:
            if default is ...:
                self.fail(self.key(name), "wajib diisi")
            return default
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.fail(self.key(name), f"tipe salah ({type(value).__name__})")
        if kind is float and not math.isfinite(value):
            self.fail(self.key(name), "harus angka terhingga")
        if check is not None and not check(value):
            self.fail(self.key(name), why)
        return value

    def sub(self, name: str, default: Any = ...) -> _Table:
        return _Table(self.get(name, dict, default), self.key(name), self.origin)

    def words(self, name: str, default: Any = ...) -> tuple[str, ...]:
        values = self.get(name, list, default)
        if not all(isinstance(v, str) and v for v in values):
            self.fail(self.key(name), "harus daftar kata")
        if len(set(values)) != len(values):
            self.fail(self.key(name), "ada nama yang berulang")
        return tuple(values)

    def no_other_keys(self, allowed: Iterable[str]):
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            self.fail(self.key(unknown[0]), "kunci tidak dikenal")


def rules_from_dict(data: Mapping[str, Any], *, origin: str = "rules") -> Rules:
    """Validate a parsed rules mapping (the TOML structure) into Rules."""
    top = _Table(dict(data), "", origin)
    top.no_other_keys(["timezone", "classes", "severity", "sources", "escalation", "gap",
                       "suggest", "patterns"])
    tz_name = top.get("timezone", str, "Asia/Makassar")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        top.fail("timezone", f"zona waktu {tz_name!r} tidak dikenal")

    cls = top.sub("classes")
    cls.no_other_keys(["order", "special", "default", "labels"])
    order = cls.words("order")
    if not order:
        cls.fail("classes.order", "minimal satu kelas")
    special = cls.words("special", [])
    for key, names in (("order", order), ("special", special)):
        if any(norm_word(k) != k for k in names):
            cls.fail(cls.key(key), "nama kelas ditulis huruf kecil dengan '_', mis. sangat_rawan")
    if set(order) & set(special):
        cls.fail("classes.special", "kelas khusus tidak boleh juga ada di classes.order")
    all_classes = order + special
    default = cls.get("default", str, order[0], check=lambda v: v in all_classes,
                      why="harus salah satu kelas")
    labels_t = cls.sub("labels", {})
    labels_t.no_other_keys(all_classes)
    labels = {k: labels_t.get(k, str, k.replace("_", " ")) for k in all_classes}

    sev = top.sub("severity")
    sev.no_other_keys(["order", "aliases"])
    sev_order = tuple(norm_word(s) for s in sev.words("order"))
    aliases_t = sev.sub("aliases", {})
    sev_aliases = {}
    for k in aliases_t.data:
        target = aliases_t.get(k, str, check=lambda v: norm_word(v) in sev_order,
                               why="harus salah satu severity.order")
        sev_aliases[norm_word(k)] = norm_word(target)

    sources = _sources(top.sub("sources"), all_classes, order, labels)

    esc = top.sub("escalation", {})
    esc.no_other_keys(["enabled", "min_severity", "radius_m", "window_hours", "steps",
                       "max_class", "statuses"])
    min_sev = norm_word(esc.get(
        "min_severity", str, sev_order[0],
        check=lambda v: sev_aliases.get(norm_word(v), norm_word(v)) in sev_order,
        why="harus salah satu severity.order"))
    escalation = Escalation(
        enabled=esc.get("enabled", bool, True),
        min_severity=sev_aliases.get(min_sev, min_sev),
        radius_m=esc.get("radius_m", float, 500.0, check=lambda v: v >= 0, why="harus >= 0"),
        window_hours=esc.get("window_hours", float, 24.0, check=lambda v: v > 0,
                             why="harus > 0"),
        steps=esc.get("steps", int, 1, check=lambda v: v >= 0, why="harus >= 0"),
        max_class=_a_class(esc, "max_class", order) if "max_class" in esc.data else order[-1],
        statuses=frozenset(norm_word(s) for s in esc.words("statuses", ["verified"])),
    )

    gap = top.sub("gap", {})
    gap.no_other_keys(["tni_counts_as_polri"])
    sug = top.sub("suggest", {})
    sug.no_other_keys(["order", "max_distance_m"])
    sug_order = sug.words("order", list(SUGGEST_STEPS))
    for step in sug_order:
        if step not in SUGGEST_STEPS:
            sug.fail("suggest.order", f"langkah {step!r} tidak dikenal (pilih: "
                     f"{', '.join(SUGGEST_STEPS)})")

    pattern_sets = _pattern_sets(top, all_classes)

    return Rules(
        timezone=tz, class_order=order, special_classes=special, default_class=default,
        labels=labels, severity_order=sev_order, severity_aliases=sev_aliases,
        sources=sources, escalation=escalation,
        tni_counts_as_polri=gap.get("tni_counts_as_polri", bool, False),
        suggest_order=sug_order,
        max_distance_m=sug.get("max_distance_m", float, 0.0, check=lambda v: v >= 0,
                               why="harus >= 0"),
        pattern_sets=tuple(pattern_sets),
    )


def _a_class(t: _Table, name: str, allowed: tuple[str, ...]) -> str:
    return t.get(name, str, check=lambda v: v in allowed,
                 why=f"kelas tidak dikenal (pilih: {', '.join(allowed)})")


def _sources(sources_t: _Table, all_classes: tuple[str, ...], order: tuple[str, ...],
             labels: Mapping[str, str]) -> dict[str, Source]:
    if not sources_t.data:
        sources_t.fail("sources", "minimal satu sumber penilaian")
    sources = {}
    for name in sources_t.data:
        st = sources_t.sub(name)
        st.no_other_keys(["label", "class_map", "indicator_counts", "indicator_alone"])
        cmap_t = st.sub("class_map", {})
        cmap = {norm_word(c): c for c in all_classes}            # class names always work
        cmap.update({norm_word(labels[c]): c for c in all_classes})
        cmap.update({norm_word(k): _a_class(cmap_t, k, all_classes) for k in cmap_t.data})
        counts = []
        for i, item in enumerate(st.get("indicator_counts", list, [])):
            it = _Table(item, f"{st.key('indicator_counts')}[{i}]", sources_t.origin)
            it.no_other_keys(["min", "class"])
            minimum = it.get("min", int, check=lambda v: v >= 1, why="harus >= 1")
            counts.append((minimum, _a_class(it, "class", order)))
        counts.sort()
        if len({m for m, _ in counts}) != len(counts):
            st.fail(st.key("indicator_counts"), "nilai min berulang")
        alone_t = st.sub("indicator_alone", {})
        alone = {norm_word(k): _a_class(alone_t, k, order) for k in alone_t.data}
        sources[norm_word(name)] = Source(norm_word(name), st.get("label", str, name),
                                          cmap, tuple(counts), alone)
    return sources


def pattern_sets_from_file(path: str | Path, rules: Rules) -> tuple[PatternSet, ...]:
    """The ``[[patterns]]`` sets of a pattern file (the rules file's format: name,
    effective_from with its offset, a pola table with every class), validated; errors name
    the file and the field."""
    origin = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{origin}: tidak dapat dibaca: {e}", field=None) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{origin}: bukan TOML yang sah: {e}", field=None) from e
    top = _Table(data, "", origin)
    top.no_other_keys(["patterns"])
    sets = _pattern_sets(top, tuple(rules.classes))
    if not sets:
        top.fail("patterns", "wajib diisi: sedikitnya satu [[patterns]]")
    return sets


def _pattern_sets(top: _Table, all_classes: tuple[str, ...]) -> tuple[PatternSet, ...]:
    pattern_sets = []
    for i, item in enumerate(top.get("patterns", list, [])):
        pt = _Table(item, f"patterns[{i}]", top.origin)
        pt.no_other_keys(["name", "effective_from", "pola"])
        name = pt.get("name", str)
        eff = pt.get("effective_from", datetime, check=lambda v: v.tzinfo is not None,
                     why="harus waktu dengan zona waktu, mis. 2024-01-01T00:00:00+08:00")
        pola = pt.sub("pola")
        pola.no_other_keys(all_classes)
        pats = {}
        for kelas in all_classes:
            text = pola.get(kelas, str)
            try:
                pats[kelas] = Pattern.parse(text, field=pola.key(kelas))
            except ConfigError as e:
                raise ConfigError(f"{top.origin}: {e.message}", field=e.field) from None
        pattern_sets.append(PatternSet(name, eff, pats))
    effs = [s.effective_from for s in pattern_sets]
    if len(set(effs)) != len(effs):
        top.fail("patterns", "dua pola dengan effective_from yang sama")
    return tuple(pattern_sets)
