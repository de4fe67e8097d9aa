"""Kemendagri region codes: normalise to the dotted form and derive parents and TPS keys.

Kemendagri codes (PP.KK.CC.DDDD) are the stable join keys of gisdesk. BPS codes look alike
(10 digits, PPKKCCCDDD) but number villages differently, so they are kept apart as
``kode_bps`` and never reinterpreted as Kemendagri codes.
"""
from __future__ import annotations

import math
import re
from typing import NamedTuple

__all__ = [
    "CodeError", "ParsedCode", "normalize_kelurahan_code", "normalize_kecamatan_code",
    "kecamatan_of", "kabkota_of", "province_of", "is_desa", "is_kota", "tps_key",
    "parse_tps_key", "tps_nomor", "TPS_NOMOR_MAX",
]

TPS_NOMOR_MAX = 999  # the TPS number is written with 3 digits in the key

# Separators seen in the field: dots (Kepmendagri), dashes and spaces (spreadsheets), slashes.
_SEPARATORS = re.compile(r"[.\-\s/_]+")
# A numeric cell read as a float ("5271011004.0") lost nothing but gained ".0".
_FLOAT_TAIL = re.compile(r"^(\d+)\.0+$")


class CodeError(ValueError):
    """A code that is neither a Kemendagri nor a BPS code; the message is for an operator."""


class ParsedCode(NamedTuple):
    """A code cell split into its Kemendagri (dotted) and BPS readings; at most one is set."""

    kode: str | None
    kode_bps: str | None


def _clean(raw: object) -> str:
    """Return the code text without an ``ID`` prefix, float tail or surrounding blanks."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        if math.isnan(raw):
            return ""
        if raw.is_integer():
            raw = int(raw)
    text = str(raw).strip()
    match = _FLOAT_TAIL.match(text)
    if match:
        text = match.group(1)
    # HDX/OCHA p-codes carry the ISO country prefix: ID5271011004.
    if text[:2].upper() == "ID" and text[2:3].isdigit():
        text = text[2:]
    return text


def _parts(text: str) -> list[str]:
    return [p for p in _SEPARATORS.split(text) if p]


def normalize_kelurahan_code(raw: object) -> ParsedCode:
    """Read a kelurahan/desa code in any usual spelling.

    ``5271011004``, ``ID5271011004``, ``52.71.01.1004``, ``52-71-01-1004`` ->
    ``ParsedCode('52.71.01.1004', None)``. Ten digits whose last four do not start with 1 or
    2 are BPS codes (``5201010001``) -> ``ParsedCode(None, '5201010001')``. Blank ->
    ``ParsedCode(None, None)``. Anything else raises :class:`CodeError`.
    """
    text = _clean(raw)
    if not text:
        return ParsedCode(None, None)
    parts = _parts(text)
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) == 10:
        digits = parts[0]
        if digits[6] in "12":
            return ParsedCode(f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:10]}", None)
        return ParsedCode(None, digits)
    if [len(p) for p in parts] == [2, 2, 2, 4] and all(p.isdigit() for p in parts):
        if parts[3][0] not in "12":
            raise CodeError(f"kode kelurahan {text!r}: empat angka terakhir harus diawali "
                            "1 (kelurahan) atau 2 (desa)")
        return ParsedCode(".".join(parts), None)
    raise CodeError(f"{text!r} bukan kode kelurahan/desa (contoh: 52.71.01.1004)")


def normalize_kecamatan_code(raw: object) -> ParsedCode:
    """Read a kecamatan code: ``527101``, ``52.71.01``, ``ID527101`` -> ``'52.71.01'``.

    Seven digits are the BPS kecamatan form (``5271010``) and are kept as ``kode_bps``.
    A full kelurahan code is refused: a kecamatan column must hold kecamatan codes.
    """
    text = _clean(raw)
    if not text:
        return ParsedCode(None, None)
    parts = _parts(text)
    if len(parts) == 1 and parts[0].isdigit():
        digits = parts[0]
        if len(digits) == 6:
            return ParsedCode(f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}", None)
        if len(digits) == 7:
            return ParsedCode(None, digits)
    elif [len(p) for p in parts] == [2, 2, 2] and all(p.isdigit() for p in parts):
        return ParsedCode(".".join(parts), None)
    raise CodeError(f"{text!r} bukan kode kecamatan (contoh: 52.71.01)")


def _kemendagri_kelurahan(code: object) -> str:
    kode, kode_bps = normalize_kelurahan_code(code)
    if kode is None:
        if kode_bps:
            raise CodeError(f"{kode_bps!r} adalah kode BPS, bukan kode Kemendagri")
        raise CodeError("kode kelurahan kosong")
    return kode


def kecamatan_of(kel_code: object) -> str:
    """``52.71.01.1004`` (any spelling) -> ``52.71.01``."""
    return _kemendagri_kelurahan(kel_code)[:8]


def _region_prefix(code: object) -> str:
    """Dotted code of a kelurahan, kecamatan, kab/kota (``5271``) or province (``52``)."""
    text = _clean(code)
    digits = "".join(_parts(text))
    if not digits.isdigit():
        raise CodeError(f"{text!r} bukan kode wilayah")
    if len(digits) == 10:
        return _kemendagri_kelurahan(text)
    if len(digits) in (6, 7):
        kode = normalize_kecamatan_code(text).kode
        if kode is None:
            raise CodeError(f"{text!r} adalah kode BPS, bukan kode Kemendagri")
        return kode
    if len(digits) == 4:
        return f"{digits[:2]}.{digits[2:]}"
    if len(digits) == 2:
        return digits
    raise CodeError(f"{text!r} bukan kode wilayah")


def kabkota_of(code: object) -> str:
    """Kab/kota code (``52.71``) of a kelurahan or kecamatan code."""
    prefix = _region_prefix(code)
    if len(prefix) < 5:
        raise CodeError(f"{code!r} adalah kode provinsi; tidak menyebut kab/kota")
    return prefix[:5]


def province_of(code: object) -> str:
    """Province code (``52``) of a kelurahan, kecamatan or kab/kota code."""
    return _region_prefix(code)[:2]


def is_desa(code: object) -> bool:
    """True for a desa (DDDD starting with 2), False for a kelurahan (starting with 1)."""
    return _kemendagri_kelurahan(code)[9] == "2"


def is_kota(code: object) -> bool:
    """True when the kab/kota part is a kota (KK 71-99), False for a kabupaten."""
    return int(kabkota_of(code)[3:5]) >= 71


def tps_nomor(nomor: object) -> int:
    """Read a TPS number: 12, '12', '012', 'TPS 012', 12.0 -> 12 (1..999)."""
    if isinstance(nomor, bool):
        raise CodeError(f"nomor TPS {nomor!r} bukan angka")
    if isinstance(nomor, float) and nomor.is_integer():
        nomor = int(nomor)
    if isinstance(nomor, int):
        value = nomor
    else:
        text = _clean(nomor)
        text = re.sub(r"^(?:tps)\s*[.:-]?\s*", "", text, flags=re.IGNORECASE)
        if not text.isdigit():
            raise CodeError(f"nomor TPS {str(nomor).strip()!r} bukan bilangan bulat")
        value = int(text)
    if not 1 <= value <= TPS_NOMOR_MAX:
        raise CodeError(f"nomor TPS {value} di luar 1..{TPS_NOMOR_MAX}")
    return value


def tps_key(kel_code: object, nomor: object) -> str:
    """Canonical TPS key: kelurahan code + 3-digit TPS number, ``52.71.01.1004-012``."""
    return f"{_kemendagri_kelurahan(kel_code)}-{tps_nomor(nomor):03d}"


def parse_tps_key(key: object) -> tuple[str, int]:
    """``'52.71.01.1004-012'`` (or ``5271011004-12``) -> ``('52.71.01.1004', 12)``."""
    text = str(key or "").strip()
    match = re.fullmatch(r"(.+?)\s*[-/]\s*(?:TPS\s*)?(\d{1,3})", text, flags=re.IGNORECASE)
    if not match:
        raise CodeError(f"{text!r} bukan kode TPS (contoh: 52.71.01.1004-012)")
    return _kemendagri_kelurahan(match.group(1)), tps_nomor(match.group(2))
