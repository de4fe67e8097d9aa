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
        message = ("The file has no Kemendagri codes and no kelurahan are loaded to match its "
                   "names against. Load a boundary file with codes first, or map the code "
                   "field with --code-field.")
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
                problems.append(Problem(row, parent_field, f"kelurahan {nama!r} matched "
                                        f"{kode} by name only: the file says kecamatan {kec!r}, "
                                        f"the loaded data {known_kec!r}", severity="warning",
                                        value=str(kec)))
            continue
        codes.append(None)
        if not key:
            problems.append(Problem(row, name_field, "no kelurahan name to match (map the "
                                    "name with --name-field or the code with --code-field)"))
        elif len(candidates) > 1 or len(hits) > 1:
            where = ", ".join(sorted(str(k) for _, k in candidates))
            problems.append(Problem(row, parent_field or name_field,
                                    f"kelurahan {nama!r} exists in several kecamatan ({where}); "
                                    "give the kecamatan name with --parent-field",
                                    value=str(nama)))
        else:
            within = f" in kecamatan {kec!r}" if kec else ""
            problems.append(Problem(row, name_field, f"kelurahan {nama!r}{within} matches no "
                                    "loaded kelurahan; correct the name, or map the code field "
                                    "with --code-field (names: --name-field, --parent-field)",
                                    value=str(nama)))
    return codes, problems
