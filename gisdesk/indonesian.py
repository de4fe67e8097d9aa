"""Numbers and labels as Indonesian readers write them: 1.248; 60,5 %; "TPS 013 · Ampenan".

Only for text meant for people (pages, messages, problem reports); exported data keeps plain
numbers and its declared attribute names.
"""
from __future__ import annotations

import math


def angka(value, digits: int = 0) -> str:
    """1248 -> "1.248"; 1234.5 with digits=1 -> "1.234,5"; None -> "—"."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    text = f"{number:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def persen(value, digits: int = 1, *, fraction: bool = False) -> str:
    """60.5 -> "60,5 %" (``fraction=True``: 0.605 -> "60,5 %")."""
    if value is None or value == "":
        return "—"
    return f"{angka(float(value) * (100 if fraction else 1), digits)} %"


def tps_label(tps_kode: str | None, kelurahan_nama: str | None = None) -> str:
    """"52.71.01.1004-013" + "Ampenan Selatan" -> "TPS 013 · Ampenan Selatan"."""
    if not tps_kode:
        return "—"
    number = tps_kode.rsplit("-", 1)[-1]
    return f"TPS {number} · {kelurahan_nama}" if kelurahan_nama else f"TPS {number}"


JINJA_FILTERS = {"angka": angka, "persen": persen, "tps": tps_label}
