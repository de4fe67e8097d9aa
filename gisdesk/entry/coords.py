"""Read coordinates as people type them: decimal or DMS, either order, `.` or `,` decimals.

Accepted, among others: ``-8.5833, 116.1167``; ``116,1167 -8,5833``; ``-8,5833; 116,1167``;
``8°35'12"S 116°06'30"E``; ``8 35 12 S 116 6 30 E``; ``S 8° 35.2' E 116° 6.5'``;
``8.5833 LS 116.1167 BT``; ``lat=-8.58 lon=116.08``; ``POINT(116.08 -8.58)``;
``[116.08, -8.58]``; where desk staff get points from: a Google Maps link (``@lat,lon``,
``q=``/``query=``/``ll=``/``destination=``, or a place's ``!3d..!4d..``), a WhatsApp location
(a maps.google.com link, URL-encoded or not), a ``geo:`` URI (RFC 5870) and a Plus Code
(``6P3Q8V9C+XX``, or short ``8V9C+XX Mataram`` near a reference point). Short links
(``maps.app.goo.gl/...``) cannot be followed offline and get a message saying what to send.
Order: hemisphere letters or labels decide; otherwise a value beyond ±90 is the longitude;
otherwise ``lat, lon`` (``lon lat`` for WKT and GeoJSON brackets), reported as guessed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from openlocationcode import openlocationcode as olc

__all__ = ["CoordsError", "ParsedCoords", "parse_coords"]


class CoordsError(ValueError):
    """Text that cannot be read as one point; the message is for a desk operator."""


@dataclass(frozen=True)
class ParsedCoords:
    lat: float
    lon: float
    form: str            # "desimal", "derajat menit", "derajat menit detik"
    order: str           # "lat_lon" or "lon_lat": the order in the text
    guessed: bool = False  # the order was not evident from the text

    def as_dict(self) -> dict:
        return {"lat": self.lat, "lon": self.lon, "form": self.form, "order": self.order,
                "guessed": self.guessed}


HEMI = {"N": ("lat", 1), "U": ("lat", 1), "LU": ("lat", 1),
        "S": ("lat", -1), "LS": ("lat", -1),
        "E": ("lon", 1), "T": ("lon", 1), "BT": ("lon", 1),
        "W": ("lon", -1), "B": ("lon", -1), "BB": ("lon", -1)}
LABELS = {"LAT": "lat", "LATITUDE": "lat", "LINTANG": "lat", "Y": "lat",
          "LON": "lon", "LNG": "lon", "LONG": "lon", "LONGITUDE": "lon", "BUJUR": "lon",
          "X": "lon"}
_TOKEN = re.compile(r"""\s*(?:
      (?P<num>[-+]?\d+(?:[.,]\d+)?|[-+]?\.\d+)
    | (?P<mark>[°'"])
    | (?P<word>[A-Z]+)
    | (?P<sep>[,;/|])
    | (?P<skip>[:=()\[\]{}])
    )""", re.VERBOSE)
_NUM = r"([-+]?\d+(?:\.\d+)?)"
# a place's own point (!3d lat !4d lon) wins over the view's centre (@lat,lon)
_URL_PLACE = re.compile(r"!3d" + _NUM + r"!4d" + _NUM)
_URL = re.compile(r"(?:@|[?&](?:q|query|ll|sll|center|destination|daddr|saddr)=(?:loc:)?)"
                  r"\s*" + _NUM + r"\s*,\s*" + _NUM)
_GEO = re.compile(r"^\s*geo:\s*" + _NUM + r"\s*,\s*" + _NUM + r"(?:\s*,\s*[-+]?[\d.]+)?"
                  r"(?P<rest>[;?].*)?$", re.I)
_GEO_Q = re.compile(r"[?&]q=\s*" + _NUM + r"\s*,\s*" + _NUM)
_SHORT_LINK = re.compile(r"\b(?:maps\.app\.goo\.gl|goo\.gl/maps|g\.co/kgs)/", re.I)
_PLUS = re.compile(r"^\s*(?P<code>[23456789CFGHJMPQRVWX]{2,8}\+[23456789CFGHJMPQRVWX]{0,7})"
                   r"(?:[\s,]+(?P<place>.*))?$", re.I)
_WKT = re.compile(r"^\s*(?:SRID=\d+;)?\s*POINT\s*Z?\s*\(\s*([^)]*)\)\s*$", re.I)


@dataclass
class _Part:
    numbers: list = field(default_factory=list)  # (value_text, mark or None)
    axis: str | None = None
    sign: int | None = None
    has_hemi: bool = False

    @property
    def degree_marked(self) -> bool:
        return any(mark == "°" for _, mark in self.numbers)


def _normalise(text: str) -> str:
    out = text.strip().upper()
    for chars, repl in (("′’‘`´", "'"), ("″“”", '"'), ("º˚∘", "°"), ("−–—", "-")):
        for ch in chars:
            out = out.replace(ch, repl)
    return out.replace("''", '"')


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].strip()[:10]
            raise CoordsError(f"Tidak dapat membaca koordinat di '{bad}'.")
        kind = m.lastgroup
        if kind != "skip":
            out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _split(tokens: list[tuple[str, str]]) -> list[_Part]:
    parts: list[_Part] = [_Part()]
    for i, (kind, value) in enumerate(tokens):
        cur = parts[-1]
        if kind == "sep":
            if cur.numbers:
                parts.append(_Part())
        elif kind == "word":
            if value in HEMI:
                axis, sign = HEMI[value]
                if cur.numbers and not cur.has_hemi:        # suffix: 8.5 S
                    cur.axis, cur.sign, cur.has_hemi = axis, sign, True
                    parts.append(_Part())
                else:                                        # prefix: S 8.5
                    if cur.numbers or cur.has_hemi:
                        cur = _Part()
                        parts.append(cur)
                    cur.axis, cur.sign, cur.has_hemi = axis, sign, True
            elif value in LABELS:
                if cur.numbers or cur.axis:
                    cur = _Part()
                    parts.append(cur)
                cur.axis = LABELS[value]
            elif value in ("D", "DEG"):
                if cur.numbers:
                    cur.numbers[-1] = (cur.numbers[-1][0], "°")
            elif value in ("M", "MIN"):
                if cur.numbers:
                    cur.numbers[-1] = (cur.numbers[-1][0], "'")
            else:
                raise CoordsError(f"Kata '{value}' tidak dikenal dalam koordinat.")
        elif kind == "mark":
            if not cur.numbers or cur.numbers[-1][1]:
                raise CoordsError(f"Tanda '{value}' tanpa angka di depannya.")
            cur.numbers[-1] = (cur.numbers[-1][0], value)
        else:  # num
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt == ("mark", "°") and cur.degree_marked:
                cur = _Part()
                parts.append(cur)
            cur.numbers.append((value, None))
    return [p for p in parts if p.numbers or p.axis]


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _value(part: _Part) -> tuple[float, str]:
    nums = part.numbers
    if not nums or len(nums) > 3:
        raise CoordsError("Setiap koordinat perlu 1 sampai 3 angka (derajat, menit, detik).")
    slots = {"°": 0, "'": 1, '"': 2}
    values: list[float | None] = [None, None, None]
    for pos, (text, mark) in enumerate(nums):
        slot = slots[mark] if mark else pos
        if values[slot] is not None:
            raise CoordsError("Derajat, menit atau detik tertulis dua kali.")
        values[slot] = _number(text)
    deg, minutes, seconds = (v if v is not None else 0.0 for v in values)
    negative = nums[0][0].startswith("-")
    if values[0] is None:
        raise CoordsError("Angka derajat tidak ada.")
    for name, v in (("menit", minutes), ("detik", seconds)):
        if v < 0 or v >= 60:
            raise CoordsError(f"Nilai {name} harus antara 0 dan 60.")
    if (values[1] is not None or values[2] is not None) and deg != int(deg):
        raise CoordsError("Derajat harus bilangan bulat bila menit/detik ditulis.")
    total = abs(deg) + minutes / 60 + seconds / 3600
    if negative:
        total = -total
    if part.sign is not None:
        if negative and part.sign > 0:
            raise CoordsError("Tanda minus bertentangan dengan arah U/N atau T/E.")
        total = abs(total) * part.sign
    form = ("derajat menit detik" if values[2] is not None
            else "derajat menit" if values[1] is not None else "desimal")
    return total, form


def _halve(parts: list[_Part]) -> list[_Part]:
    """One run of bare numbers ("-8 35 12 116 6 30", "8.5 116.1") split into two."""
    if len(parts) != 1 or parts[0].has_hemi or parts[0].axis:
        return parts
    nums = parts[0].numbers
    marked = [i for i, (_, m) in enumerate(nums) if m == "°"]
    if len(marked) >= 2:
        cut = marked[1]
    elif all(m is None for _, m in nums) and len(nums) in (2, 4, 6):
        cut = len(nums) // 2
    elif len(nums) == 1 and "," in nums[0][0] and nums[0][0].count(",") == 1:
        a, b = nums[0][0].split(",")       # "-8,116": a comma between two integers
        return [_Part(numbers=[(a, None)]), _Part(numbers=[(b, None)])]
    else:
        return parts
    return [_Part(numbers=nums[:cut]), _Part(numbers=nums[cut:])]


def _assemble(a: float, b: float, axes: tuple, lon_first_default: bool, form: str):
    axis_a, axis_b = axes
    if axis_a == axis_b and axis_a is not None:
        raise CoordsError("Kedua angka menunjuk sumbu yang sama (dua lintang atau dua bujur).")
    guessed = False
    if axis_a is None and axis_b is None:
        if abs(a) > 90 >= abs(b):
            axis_a = "lon"
        elif abs(b) > 90 >= abs(a):
            axis_a = "lat"
        else:
            axis_a, guessed = ("lon" if lon_first_default else "lat"), True
    elif axis_a is None:
        axis_a = "lat" if axis_b == "lon" else "lon"
    lat, lon = (a, b) if axis_a == "lat" else (b, a)
    if not -90 <= lat <= 90:
        raise CoordsError(f"Lintang {lat:g} di luar rentang -90..90.")
    if not -180 <= lon <= 180:
        raise CoordsError(f"Bujur {lon:g} di luar rentang -180..180.")
    return ParsedCoords(round(lat, 7), round(lon, 7), form,
                        "lat_lon" if axis_a == "lat" else "lon_lat", guessed)


Reference = Callable[[], tuple[float, float] | None]


def _plus_code(match: re.Match, reference: Reference | None) -> ParsedCoords:
    """A Plus Code; a short one is completed from the reference point (the work area)."""
    code = match.group("code").upper()
    if olc.isFull(code):
        area = olc.decode(code)
        return _assemble(area.latitudeCenter, area.longitudeCenter, ("lat", "lon"), False,
                         "Plus Code")
    if not olc.isShort(code):
        raise CoordsError(f"Plus Code {code} tidak sah.")
    near = reference() if reference else None
    if near is None:
        raise CoordsError(f"Plus Code pendek {code} perlu kode lengkap (mis. 6P3Q{code}).")
    area = olc.decode(olc.recoverNearest(code, near[0], near[1]))
    return _assemble(area.latitudeCenter, area.longitudeCenter, ("lat", "lon"), False,
                     "Plus Code")


def _from_link(text: str, reference: Reference | None) -> ParsedCoords | None:
    """A point from a map link, a geo: URI or a Plus Code; None when the text is none."""
    decoded = unquote(text.replace("+", " ")) if "%" in text else text
    geo = _GEO.match(decoded)
    if geo:
        inner = _GEO_Q.search(geo.group("rest") or "")
        lat, lon = (inner.group(1), inner.group(2)) if inner else (geo.group(1), geo.group(2))
        return _assemble(float(lat), float(lon), ("lat", "lon"), False, "geo URI")
    if _SHORT_LINK.search(decoded):
        raise CoordsError("Tautan pendek Google Maps tidak dapat dibuka di sini. Buka tautan "
                          "itu, lalu salin tautan lengkap dari kolom alamat, atau salin "
                          "koordinatnya (mis. -8.5833, 116.1167).")
    url = _URL_PLACE.search(decoded) or _URL.search(decoded)
    if url:
        return _assemble(float(url.group(1)), float(url.group(2)), ("lat", "lon"), False,
                         "tautan peta")
    plus = _PLUS.match(text)
    if plus:
        return _plus_code(plus, reference)
    return None


def parse_coords(text: str, reference: Reference | None = None) -> ParsedCoords:
    """One point from typed text; raises CoordsError with a message for the operator.

    ``reference`` gives (lat, lon) of the work area when a short Plus Code needs it; it is
    called only then (it may query the database)."""
    if not text or not text.strip():
        raise CoordsError("Koordinat kosong.")
    if len(text) > 300:
        raise CoordsError("Teks koordinat terlalu panjang.")
    linked = _from_link(text.strip(), reference)
    if linked:
        return linked
    wkt = _WKT.match(text)
    lon_first = bool(wkt) or text.strip().startswith("[")
    body = _normalise(wkt.group(1) if wkt else text)
    parts = _halve(_split(_tokens(body)))
    if len(parts) != 2:
        raise CoordsError("Tulis dua koordinat: lintang dan bujur, misalnya -8.5833, 116.1167 "
                          "atau 8°35'12\"S 116°06'30\"E.")
    (a, form_a), (b, form_b) = _value(parts[0]), _value(parts[1])
    form = form_a if form_a == form_b else f"{form_a} / {form_b}"
    return _assemble(a, b, (parts[0].axis, parts[1].axis), lon_first, form)
