"""Column rules for point files (TPS, facilities), kept as data, and their cell parsers.

A rule says which canonical column (see ``columns.HEADER_ALIASES``) a kind of point file
uses, how its cells are read and whether the column must be present. The validators in
``points`` apply whatever the table says; a new kind of point file is a new table.
"""
from __future__ import annotations

from dataclasses import dataclass

from gisdesk.indonesian import angka
from gisdesk.ingest.codes import CodeError, normalize_kelurahan_code, tps_nomor
from gisdesk.ingest.columns import header_key

__all__ = ["FieldRule", "PointKind", "TPS", "FACILITY", "POINT_KINDS", "FACILITY_KINDS",
           "CellError", "PARSERS"]


class CellError(ValueError):
    """A cell that cannot be read; the message is for a desk operator."""


@dataclass(frozen=True)
class FieldRule:
    column: str            # canonical name (columns.HEADER_ALIASES key)
    parser: str            # key of PARSERS
    required: bool = False  # the column must exist and every cell be filled
    label: str = ""        # how an operator calls it, for messages


@dataclass(frozen=True)
class PointKind:
    name: str
    label: str
    rules: tuple[FieldRule, ...]
    kelurahan_required: bool   # by code, or by name + kecamatan name
    output: tuple[str, ...]    # output columns besides source_row and geometry


TPS = PointKind(
    "tps", "TPS",
    rules=(FieldRule("kode", "kelurahan_code", label="kode kelurahan"),
           FieldRule("kelurahan", "text", label="nama kelurahan"),
           FieldRule("kecamatan", "text", label="nama kecamatan"),
           FieldRule("nomor", "tps_nomor", required=True, label="nomor TPS"),
           FieldRule("dpt", "dpt", required=True, label="DPT (pemilih)"),
           FieldRule("alamat", "text", label="alamat")),
    kelurahan_required=True,
    output=("kode", "kelurahan_kode", "nomor", "dpt", "alamat"))

# Facility kinds seen at the desk; each canonical kind lists the spellings that mean it.
FACILITY_KINDS: dict[str, tuple[str, ...]] = {
    "sekretariat_pps": ("pps", "sekretariat_pps", "sekretariat pps", "kantor_pps"),
    "sekretariat_ppk": ("ppk", "sekretariat_ppk", "sekretariat ppk", "kantor_ppk"),
    "kantor_kpu": ("kpu", "kantor_kpu", "gudang_kpu", "gudang_logistik"),
    "kantor_bawaslu": ("bawaslu", "panwascam", "kantor_bawaslu"),
    "puskesmas": ("puskesmas", "pustu", "health_post"),
    "rumah_sakit": ("rumah_sakit", "rs", "hospital", "rsud"),
    "pos_polisi": ("pos_polisi", "pospol", "pos_pam", "police_post"),
    "polsek": ("polsek", "police_station"),
    "polres": ("polres", "polresta"),
    "koramil": ("koramil", "kodim", "tni"),
    "kantor_lurah": ("kantor_lurah", "kantor_kelurahan", "kantor_desa"),
    "kantor_camat": ("kantor_camat", "kantor_kecamatan"),
    "damkar": ("damkar", "pemadam_kebakaran", "fire_station"),
    "posko": ("posko", "desk_pemilu", "command_post"),
    "lainnya": ("lainnya", "lain_lain", "other"),
}

FACILITY = PointKind(
    "facility", "fasilitas",
    rules=(FieldRule("jenis", "facility_kind", required=True, label="jenis"),
           FieldRule("nama", "text", required=True, label="nama"),
           FieldRule("alamat", "text", label="alamat"),
           FieldRule("kode", "kelurahan_code", label="kode kelurahan"),
           FieldRule("kelurahan", "text", label="nama kelurahan"),
           FieldRule("kecamatan", "text", label="nama kecamatan")),
    kelurahan_required=False,
    output=("jenis", "nama", "alamat", "kelurahan_kode"))

POINT_KINDS = {k.name: k for k in (TPS, FACILITY)}


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or \
        str(value).strip() == ""


def parse_text(value, **_) -> str | None:
    return None if _blank(value) else " ".join(str(value).split())


def parse_kelurahan_code(value, **_) -> str | None:
    try:
        kode, bps = normalize_kelurahan_code(value)
    except CodeError as exc:
        raise CellError(str(exc)) from None
    if bps:
        raise CellError(f"{bps} adalah kode BPS; isi kode kelurahan Kemendagri "
                        "(mis. 52.71.01.1004)")
    return kode


def parse_tps_nomor(value, **_) -> int | None:
    if _blank(value):
        return None
    try:
        return tps_nomor(value)
    except CodeError as exc:
        raise CellError(str(exc)) from None


def parse_dpt(value, *, max_dpt: int = 300, **_) -> int | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if text.endswith((".0", ",0")):
        text = text[:-2]
    if not text.lstrip("-").isdigit():
        raise CellError(f"DPT {str(value).strip()!r} bukan bilangan bulat")
    number = int(text)
    if number < 0:
        raise CellError(f"DPT {angka(number)} negatif")
    if number > max_dpt:
        raise CellError(f"DPT {angka(number)} melebihi batas {angka(max_dpt)} pemilih per TPS")
    return number


_KIND_BY_KEY = {header_key(alias): kind for kind, aliases in FACILITY_KINDS.items()
                for alias in aliases + (kind,)}


def parse_facility_kind(value, **_) -> str | None:
    if _blank(value):
        return None
    kind = _KIND_BY_KEY.get(header_key(value))
    if kind is None:
        raise CellError(f"jenis fasilitas {str(value).strip()!r} tidak dikenal (yang dikenal: "
                        f"{', '.join(FACILITY_KINDS)})")
    return kind


PARSERS = {"text": parse_text, "kelurahan_code": parse_kelurahan_code,
           "tps_nomor": parse_tps_nomor, "dpt": parse_dpt,
           "facility_kind": parse_facility_kind}
