"""Match kelurahan by name to codes already loaded (for GADM / geoBoundaries files).

Names are compared case-, accent-, whitespace- and punctuation-insensitively, without
prefixes such as "Kelurahan", "Kel.", "Desa", "Kec.": ``SAYANG SAYANG`` = ``Sayang-sayang``.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import pandas as pd

from gisdesk.errors import InputRejected, Problem

__all__ = ["name_key", "match_kelurahan_by_name"]

_PREFIX = re.compile(r"^(?:kelurahan|kel|desa|ds|kecamatan|kec|kota|kabupaten|kab)\b\.?\s*",
                     re.IGNORECASE)


def name_key(name: object) -> str:
    """Comparable form of a place name."""
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).strip()
    text = _PREFIX.sub("", text)
    return re.sub(r"[\W_]+", "", text.lower())


def match_kelurahan_by_name(attrs: pd.DataFrame, known: pd.DataFrame | None, *,
                            name_field: str | None, parent_field: str | None
                            ) -> tuple[list[str | None], list[Problem]]:
    """Codes for rows of ``attrs`` (``nama``, ``kecamatan_nama``) from ``known``
    (``kode``, ``nama``, ``kecamatan_nama``). Unmatched rows are errors naming the field to
    map; a match on the kelurahan name alone (kecamatan name differs) is a warning."""
    if known is None or len(known) == 0:
        message = ("Berkas tidak punya kode Kemendagri dan belum ada kelurahan yang dimuat untuk "
                   "mencocokkan namanya. Muat dulu berkas batas wilayah yang berkode, atau "
                   "petakan kolom kode dengan --code-field.")
        raise InputRejected(message, [Problem(None, name_field, message)])
    missing = {"kode", "nama", "kecamatan_nama"} - set(known.columns)
    if missing:
        raise ValueError(f"known_kelurahan lacks columns {sorted(missing)}")
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kode, nama, kec in known[["kode", "nama", "kecamatan_nama"]].itertuples(index=False):
        by_pair[(name_key(kec), name_key(nama))].append(kode)
        by_name[name_key(nama)].append((kode, kec))

    codes: list[str | None] = []
    problems: list[Problem] = []
    for pos, (nama, kec) in enumerate(attrs[["nama", "kecamatan_nama"]].itertuples(index=False)):
        row = pos + 1
        # absent cells may arrive as None or NaN (pandas 3 string columns)
        nama = nama if isinstance(nama, str) and nama.strip() else None
        kec = kec if isinstance(kec, str) and kec.strip() else None
        key = name_key(nama)
        hits = by_pair.get((name_key(kec), key), []) if kec else []
        if len(hits) == 1:
            codes.append(hits[0])
            continue
        candidates = by_name.get(key, [])
        if len(candidates) == 1 and not hits:
            kode, known_kec = candidates[0]
            codes.append(kode)
            if kec:
                problems.append(Problem(row, parent_field, f"kelurahan {nama!r} dicocokkan "
                                        f"ke {kode} hanya dari nama: berkas menyebut kecamatan "
                                        f"{kec!r}, data yang dimuat {known_kec!r}", severity="warning",
                                        value=str(kec)))
            continue
        codes.append(None)
        if not key:
            problems.append(Problem(row, name_field, "nama kelurahan kosong, tak bisa dicocokkan (petakan "
                                    "nama dengan --name-field atau kode dengan --code-field)"))
        elif len(candidates) > 1 or len(hits) > 1:
            where = ", ".join(sorted(str(k) for _, k in candidates))
            problems.append(Problem(row, parent_field or name_field,
                                    f"kelurahan {nama!r} ada di beberapa kecamatan ({where}); "
                                    "beri nama kecamatan dengan --parent-field",
                                    value=str(nama)))
        else:
            within = f" di kecamatan {kec!r}" if kec else ""
            problems.append(Problem(row, name_field, f"kelurahan {nama!r}{within} tidak cocok "
                                    "dengan kelurahan yang dimuat; betulkan namanya, atau petakan "
                                    "kolom kode dengan --code-field (nama: --name-field, --parent-field)",
                                    value=str(nama)))
    return codes, problems
