"""Header aliases: the usual Indonesian and English names of input columns, as data.

Files from KPU, Polri, Bawaslu and the kelurahan offices name the same column in many ways
(``lintang``, ``Latitude``, ``LAT``). Each canonical name below lists the spellings that mean
it; matching ignores case, spaces, dots and dashes. Anything else is mapped with options.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from gisdesk.errors import InputRejected, Problem

__all__ = ["HEADER_ALIASES", "header_key", "canonical_columns", "find_column"]

# canonical name -> spellings (already in header_key form). Order matters only for reading.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "lat": ("lat", "latitude", "lintang", "y", "koordinat_y"),
    "lon": ("lon", "lng", "long", "longitude", "bujur", "x", "koordinat_x"),
    "wkt": ("wkt", "geometry", "geom", "the_geom"),
    "nomor": ("tps", "no_tps", "nomor_tps", "nomor", "no_urut_tps"),
    "kode": ("kode", "kode_kelurahan", "kode_wilayah", "kode_kel", "kode_desa",
             "kode_kemendagri"),
    "dpt": ("dpt", "jumlah_dpt", "jml_dpt", "pemilih"),
    "alamat": ("alamat", "address", "lokasi", "alamat_tps"),
    "nama": ("nama", "name", "nama_fasilitas"),
    "kelurahan": ("kelurahan", "desa", "nama_kelurahan", "kelurahan_desa", "nama_desa",
                  "desa_kelurahan"),
    "kecamatan": ("kecamatan", "nama_kecamatan"),
    "kecamatan_kode": ("kecamatan_kode", "kode_kecamatan", "kode_kec"),
    "jenis": ("jenis", "kategori", "type", "tipe", "jenis_fasilitas"),
}


def header_key(name: object) -> str:
    """Comparable form of a header: lower case, BOM and blanks gone, separators as ``_``."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s.\-/]+", "_", text).strip("_")


def canonical_columns(columns: Iterable[object], *,
                      wanted: Iterable[str] | None = None,
                      overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map canonical names to the file's own column names.

    ``overrides`` (canonical -> file column, from ``--*-field`` options) win over the alias
    table. Two file columns meaning the same thing (``lat`` and ``lintang``) are refused,
    since guessing which one is right could put a TPS in the wrong place.
    """
    columns = [c for c in columns if str(c) != "geometry"]
    by_key = {header_key(c): c for c in columns}
    names = list(wanted) if wanted is not None else list(HEADER_ALIASES)
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for canonical, column in (overrides or {}).items():
        if column is None:
            continue
        match = by_key.get(header_key(column))
        if match is None:
            problems.append(Problem(None, column, f"berkas tidak punya kolom {column!r} "
                                    f"(kolom yang ada: {', '.join(map(str, columns))})"))
        else:
            found[canonical] = match
    for canonical in names:
        if canonical in found:
            continue
        hits = [by_key[a] for a in HEADER_ALIASES.get(canonical, ()) if a in by_key]
        taken = set(found.values())
        hits = [h for h in hits if h not in taken]
        if len(hits) > 1:
            problems.append(Problem(None, hits[0], f"kolom {', '.join(map(repr, hits))} semuanya "
                                    f"berarti {canonical!r}; sisakan satu atau petakan dengan opsi"))
        elif hits:
            found[canonical] = hits[0]
    if problems:
        raise InputRejected("Kolom berkas tidak ada atau bermakna ganda.", problems)
    return found


def find_column(columns: Iterable[object], *candidates: str) -> str | None:
    """The first file column whose header matches one of ``candidates`` (any spelling)."""
    by_key = {header_key(c): c for c in columns}
    for candidate in candidates:
        hit = by_key.get(header_key(candidate))
        if hit is not None:
            return hit
    return None
