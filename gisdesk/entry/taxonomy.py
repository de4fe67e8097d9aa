"""Incident categories, severities, entry checks and the readiness checklist, from TOML.

The packaged ``gisdesk/incident_types.toml`` is the default; a copy can replace it
(``GISDESK_INCIDENT_TYPES``). Every key is validated when loaded; a wrong one is a
``ConfigError`` naming the file and the field.
"""
from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gisdesk.errors import ConfigError

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "incident_types.toml"
JENIS = ("etik", "administrasi", "pidana", "lainnya", "gangguan", "bencana")
SEVERITIES = ("ringan", "sedang", "berat")  # what the incident table accepts
WARNING_CODES = ("far_from_tps", "near_boundary", "tps_far_from_point")


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    jenis: str


@dataclass(frozen=True)
class ReadinessItem:
    key: str
    label: str
    critical: bool


@dataclass(frozen=True)
class Taxonomy:
    source: str
    jenis: dict[str, str]
    categories: dict[str, Category]
    severities: tuple[str, ...]
    severity_labels: dict[str, str]
    severity_aliases: dict[str, str]
    boundary_tolerance_m: float
    far_from_tps_m: float
    future_tolerance_min: float
    description_max: int
    confirm: frozenset[str]
    duplicate_radius_m: float
    duplicate_window_hours: float
    duplicate_same_category: bool
    readiness: tuple[ReadinessItem, ...]
    readiness_clock_skew_min: float = 10.0   # a check time later than now + this: refused

    def severity(self, value: str) -> str | None:
        word = (value or "").strip().lower()
        word = self.severity_aliases.get(word, word)
        return word if word in self.severities else None

    @property
    def readiness_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.readiness)


# the value types a taxonomy file holds, as the error says them
_KIND = {str: "teks", float: "angka", int: "bilangan bulat", bool: "true/false", list: "daftar",
         dict: "tabel"}


def _need(table: dict, key: str, kind, where: str):
    if key not in table:
        raise ConfigError(f"{where}: '{key}' tidak ada", field=key)
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{key}' harus {_KIND.get(kind, kind.__name__)}", field=key)
    return value


def _only(table: dict, keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ConfigError(f"{where}: kunci tidak dikenal: {', '.join(unknown)}", field=unknown[0])


def _categories(data: dict, src: str, jenis: dict) -> dict[str, Category]:
    table = _need(data, "categories", dict, src)
    if not table:
        raise ConfigError(f"{src}: [categories] kosong", field="categories")
    out = {}
    for key, cat in table.items():
        where = f"{src} [categories.{key}]"
        if len(key) > 40 or not key.replace("_", "").isalnum():
            raise ConfigError(f"{where}: kunci hanya huruf, angka atau _ (maks. 40)", field=key)
        _only(cat, {"label", "jenis"}, where)
        kind = _need(cat, "jenis", str, where)
        if kind not in jenis:
            raise ConfigError(f"{where}: jenis '{kind}' bukan salah satu dari {', '.join(jenis)}",
                              field="jenis")
        out[key] = Category(key, _need(cat, "label", str, where), kind)
    return out


def _readiness(data: dict, src: str) -> tuple[ReadinessItem, ...]:
    items = _need(data, "readiness", list, src)
    out, seen = [], set()
    for i, item in enumerate(items, 1):
        where = f"{src} [[readiness]] #{i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: harus berupa tabel", field="readiness")
        _only(item, {"key", "label", "critical"}, where)
        key = _need(item, "key", str, where)
        if key in seen:
            raise ConfigError(f"{where}: kunci '{key}' ganda", field="key")
        seen.add(key)
        out.append(ReadinessItem(key, _need(item, "label", str, where),
                                 _need(item, "critical", bool, where)))
    if not out:
        raise ConfigError(f"{src}: daftar periksa kesiapan kosong", field="readiness")
    return tuple(out)


def parse_taxonomy(data: dict, src: str = "<incident types>") -> Taxonomy:
    _only(data, {"jenis", "categories", "severity", "checks", "duplicates", "readiness"}, src)
    jenis = _need(data, "jenis", dict, src)
    bad = sorted(set(jenis) - set(JENIS))
    if bad:
        raise ConfigError(f"{src} [jenis]: jenis tidak dikenal: {', '.join(bad)}", field=bad[0])
    sev = _need(data, "severity", dict, src)
    _only(sev, {"order", "labels", "aliases"}, f"{src} [severity]")
    order = tuple(_need(sev, "order", list, f"{src} [severity]"))
    if set(order) - set(SEVERITIES) or not order:
        raise ConfigError(f"{src} [severity]: order hanya boleh memakai {', '.join(SEVERITIES)}",
                          field="order")
    aliases = {k.lower(): v for k, v in sev.get("aliases", {}).items()}
    if set(aliases.values()) - set(order):
        raise ConfigError(f"{src} [severity.aliases]: nilainya harus ada di order", field="aliases")
    checks = _need(data, "checks", dict, src)
    cw = f"{src} [checks]"
    _only(checks, {"boundary_tolerance_m", "far_from_tps_m", "future_tolerance_min",
                   "description_max", "confirm", "readiness_clock_skew_min"}, cw)
    confirm = _need(checks, "confirm", list, cw)
    if set(confirm) - set(WARNING_CODES):
        raise ConfigError(f"{cw}: confirm hanya boleh berisi {', '.join(WARNING_CODES)}", field="confirm")
    dup = _need(data, "duplicates", dict, src)
    dw = f"{src} [duplicates]"
    _only(dup, {"radius_m", "window_hours", "same_category"}, dw)
    return Taxonomy(
        source=src, jenis=dict(jenis), categories=_categories(data, src, jenis),
        severities=order, severity_labels=dict(sev.get("labels", {})),
        severity_aliases=aliases,
        boundary_tolerance_m=_need(checks, "boundary_tolerance_m", float, cw),
        far_from_tps_m=_need(checks, "far_from_tps_m", float, cw),
        future_tolerance_min=_need(checks, "future_tolerance_min", float, cw),
        readiness_clock_skew_min=float(checks.get("readiness_clock_skew_min", 10.0)),
        description_max=_need(checks, "description_max", int, cw),
        confirm=frozenset(confirm),
        duplicate_radius_m=_need(dup, "radius_m", float, dw),
        duplicate_window_hours=_need(dup, "window_hours", float, dw),
        duplicate_same_category=_need(dup, "same_category", bool, dw),
        readiness=_readiness(data, src))


@functools.cache
def _load(path: str) -> Taxonomy:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: tidak dapat dibaca ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: bukan TOML yang sah ({exc})") from exc
    return parse_taxonomy(data, path)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy from ``path``, $GISDESK_INCIDENT_TYPES or the packaged file (cached)."""
    chosen = path or os.environ.get("GISDESK_INCIDENT_TYPES") or DEFAULT_FILE
    return _load(_resolved(str(chosen), os.getcwd()))


@functools.lru_cache(maxsize=64)
def _resolved(path: str, cwd: str) -> str:
    # every report asks for the taxonomy: resolve the path once, not per request
    return str((Path(cwd) / path).resolve())
