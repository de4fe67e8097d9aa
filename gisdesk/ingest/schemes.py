"""Boundary field schemes: recognise BIG RBI, HDX/OCHA, GADM, geoBoundaries and plain files.

Each scheme is data: which fields identify it, and where the kelurahan (or kecamatan) code,
name, BPS code, parent kecamatan and kab/kota name live. :func:`normalise_attributes` turns
any of them (or explicit ``--*-field`` mappings) into one set of columns:
``kode`` (dotted Kemendagri or None), ``kode_bps``, ``nama``, ``kecamatan_kode``,
``kecamatan_nama``, ``kabkota_nama``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from gisdesk.errors import InputRejected, Problem
from gisdesk.ingest.codes import CodeError, normalize_kecamatan_code, normalize_kelurahan_code
from gisdesk.ingest.columns import find_column

__all__ = ["Scheme", "SchemeLevel", "SCHEMES", "SchemeResult", "detect_scheme",
           "normalise_attributes", "OUTPUT_COLUMNS", "KELURAHAN", "KECAMATAN"]

KELURAHAN, KECAMATAN = "kelurahan", "kecamatan"
OUTPUT_COLUMNS = ["kode", "kode_bps", "nama", "kecamatan_kode", "kecamatan_nama",
                  "kabkota_nama"]


@dataclass(frozen=True)
class SchemeLevel:
    """Candidate fields (first present wins) for one level of a scheme."""

    code: tuple[str, ...] = ()
    name: tuple[str, ...] = ()
    bps: tuple[str, ...] = ()
    parent_code: tuple[str, ...] = ()
    parent_name: tuple[str, ...] = ()
    kabkota_name: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scheme:
    """A known boundary layout. ``detect``: any of these fields identifies it;
    ``kelurahan_marker``: any of these present means a kelurahan (not kecamatan) file."""

    name: str
    label: str
    detect: tuple[str, ...]
    kelurahan: SchemeLevel
    kecamatan: SchemeLevel
    kelurahan_marker: tuple[str, ...] = ()
    has_codes: bool = True


_PLAIN_KEL_CODE = ("kode", "kode_kelurahan", "kode_desa", "kode_kel", "kode_wilayah")
_PLAIN_KEL_NAME = ("nama", "name", "nama_kelurahan", "kelurahan", "desa", "nama_desa")
_PLAIN_KEC_CODE = ("kecamatan_kode", "kode_kecamatan", "kode_kec")
_PLAIN_KEC_NAME = ("kecamatan", "nama_kecamatan", "kecamatan_nama")
_PLAIN_KABKOTA = ("kabkota", "kabkota_nama", "kota", "kabupaten", "nama_kabkota")

SCHEMES: tuple[Scheme, ...] = (
    # BIG RBI 1:25k (ADMINISTRASIDESA_AR_25K / ADMINISTRASIKECAMATAN_AR_25K). In the
    # kecamatan layer NAMOBJ is the kecamatan's name, hence the level-specific lists.
    Scheme("rbi", "BIG RBI", ("KDEPUM", "WADMKD", "KDCPUM", "KDEBPS", "KDCBPS"),
           kelurahan=SchemeLevel(code=("KDEPUM",), name=("WADMKD", "NAMOBJ"),
                                 bps=("KDEBPS",), parent_code=("KDCPUM",),
                                 parent_name=("WADMKC",), kabkota_name=("WADMKK",)),
           kecamatan=SchemeLevel(code=("KDCPUM",), name=("WADMKC", "NAMOBJ"),
                                 bps=("KDCBPS",), kabkota_name=("WADMKK",)),
           kelurahan_marker=("KDEPUM", "WADMKD", "KDEBPS")),
    Scheme("hdx", "HDX/OCHA", ("ADM4_PCODE", "ADM3_PCODE", "ADM4_EN"),
           kelurahan=SchemeLevel(code=("ADM4_PCODE",), name=("ADM4_EN",),
                                 parent_code=("ADM3_PCODE",), parent_name=("ADM3_EN",),
                                 kabkota_name=("ADM2_EN",)),
           kecamatan=SchemeLevel(code=("ADM3_PCODE",), name=("ADM3_EN",),
                                 kabkota_name=("ADM2_EN",)),
           kelurahan_marker=("ADM4_PCODE", "ADM4_EN")),
    Scheme("gadm", "GADM", ("GID_4", "NAME_4", "GID_3"),
           kelurahan=SchemeLevel(name=("NAME_4",), parent_name=("NAME_3",),
                                 kabkota_name=("NAME_2",)),
           kecamatan=SchemeLevel(name=("NAME_3",), kabkota_name=("NAME_2",)),
           kelurahan_marker=("NAME_4", "GID_4"), has_codes=False),
    Scheme("geoboundaries", "geoBoundaries", ("shapeID", "shapeName"),
           kelurahan=SchemeLevel(name=("shapeName",)),
           kecamatan=SchemeLevel(name=("shapeName",)), has_codes=False),
    Scheme("plain", "plain kode/nama", _PLAIN_KEL_CODE + ("nama", "name"),
           kelurahan=SchemeLevel(code=_PLAIN_KEL_CODE, name=_PLAIN_KEL_NAME,
                                 bps=("kode_bps",), parent_code=_PLAIN_KEC_CODE,
                                 parent_name=_PLAIN_KEC_NAME, kabkota_name=_PLAIN_KABKOTA),
           kecamatan=SchemeLevel(code=("kode",) + _PLAIN_KEC_CODE,
                                 name=("nama", "name") + _PLAIN_KEC_NAME,
                                 bps=("kode_bps",), kabkota_name=_PLAIN_KABKOTA)),
)


@dataclass
class SchemeResult:
    """Normalised attributes (one row per feature, same index) and what was found."""

    attrs: pd.DataFrame
    scheme: str
    level: str
    fields: dict[str, str] = field(default_factory=dict)  # output column -> source field
    problems: list[Problem] = field(default_factory=list)


def detect_scheme(columns) -> Scheme | None:
    """The first scheme one of whose identifying fields the file has (case-insensitive)."""
    for scheme in SCHEMES:
        if find_column(columns, *scheme.detect):
            return scheme
    return None


def _looks_like_codes(values: pd.Series, parse) -> bool:
    present = [v for v in values if _text(v)]
    if not present:
        return False
    try:
        return all(any(parse(v)) for v in present)
    except CodeError:
        return False


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _detect_level(frame: pd.DataFrame, scheme: Scheme | None, code_col: str | None) -> str:
    level_col = find_column(frame.columns, "level", "tingkat", "shapeType")
    if level_col is not None:
        values = {str(v).strip().lower() for v in frame[level_col].dropna()}
        if values <= {"kelurahan", "desa", "adm4", "kelurahan/desa"} and values:
            return KELURAHAN
        if values <= {"kecamatan", "adm3"} and values:
            return KECAMATAN
    if scheme is not None and scheme.kelurahan_marker:
        return KELURAHAN if find_column(frame.columns, *scheme.kelurahan_marker) else KECAMATAN
    if code_col is None and scheme is not None and scheme.kelurahan.code:
        code_col = find_column(frame.columns, *scheme.kelurahan.code)
    if code_col is not None and _looks_like_codes(frame[code_col], normalize_kecamatan_code):
        return KECAMATAN
    return KELURAHAN


def _parse_codes(frame: pd.DataFrame, column: str, parse, problems: list[Problem],
                 what: str) -> tuple[list, list]:
    kode, bps = [], []
    for pos, value in enumerate(frame[column]):
        try:
            parsed = parse(value)
        except CodeError as exc:
            problems.append(Problem(pos + 1, column, f"kode {what}: {exc}", value=str(value)))
            parsed = (None, None)
        kode.append(parsed[0])
        bps.append(parsed[1])
    return kode, bps


def normalise_attributes(frame: pd.DataFrame, *, level: str | None = None,
                         code_field: str | None = None, name_field: str | None = None,
                         parent_field: str | None = None) -> SchemeResult:
    """Recognise the scheme of ``frame`` and return its attributes in gisdesk's columns.

    ``code_field``/``name_field``/``parent_field`` override the scheme (``parent_field`` may
    hold kecamatan codes or names; which one is decided from its values). Code cells that
    are not codes become row problems naming the source field.
    """
    if level not in (None, KELURAHAN, KECAMATAN):
        raise InputRejected(f"Tingkat harus kelurahan atau kecamatan, bukan {level!r}.",
                            [Problem(None, "level", "tingkat tidak dikenal", value=str(level))])
    columns = [c for c in frame.columns if c != "geometry"]
    overrides = {"code": code_field, "name": name_field, "parent": parent_field}
    missing = [f"--{k}-field {v}" for k, v in overrides.items()
               if v is not None and find_column(columns, v) is None]
    if missing:
        message = (f"Berkas tidak punya kolom {', '.join(missing)}; kolom yang ada: "
                   f"{', '.join(map(str, columns))}.")
        raise InputRejected(message, [Problem(None, v, message) for v in overrides.values()
                                      if v is not None and find_column(columns, v) is None])
    scheme = detect_scheme(columns)
    if scheme is None and code_field is None and name_field is None:
        message = (f"Kolom berkas batas ({', '.join(map(str, columns))}) tidak cocok dengan "
                   "format yang dikenal (BIG RBI, HDX/OCHA, GADM, geoBoundaries, kode/nama "
                   "biasa). Petakan kolomnya dengan --code-field, --name-field dan "
                   "--parent-field.")
        raise InputRejected(message, [Problem(None, None, message)])

    code_override = find_column(columns, code_field) if code_field else None
    lvl = level or _detect_level(frame, scheme, code_override)
    spec = getattr(scheme, lvl) if scheme else SchemeLevel()

    def pick(override: str | None, candidates: tuple[str, ...]) -> str | None:
        if override is not None:
            return find_column(columns, override)
        return find_column(columns, *candidates) if candidates else None

    code_col = pick(code_field, spec.code)
    name_col = pick(name_field, spec.name)
    bps_col = pick(None, spec.bps)
    parent_code_col = pick(None, spec.parent_code)
    parent_name_col = pick(None, spec.parent_name)
    if parent_field is not None and lvl == KELURAHAN:
        col = find_column(columns, parent_field)
        if _looks_like_codes(frame[col], normalize_kecamatan_code):
            parent_code_col = col
        else:
            parent_name_col = col
    kabkota_col = pick(None, spec.kabkota_name)
    if lvl == KECAMATAN:
        parent_code_col = parent_name_col = None

    problems: list[Problem] = []
    n = len(frame)
    attrs = pd.DataFrame({c: [None] * n for c in OUTPUT_COLUMNS}, index=frame.index,
                         dtype=object)
    parse = normalize_kelurahan_code if lvl == KELURAHAN else normalize_kecamatan_code
    def put(column: str, values: list) -> None:
        # object dtype keeps None for "absent" (pandas 3 would infer str and store NaN)
        attrs[column] = pd.Series(values, index=frame.index, dtype=object)

    if code_col is not None:
        kode, kode_bps = _parse_codes(frame, code_col, parse, problems, lvl)
        put("kode", kode)
        put("kode_bps", kode_bps)
    if bps_col is not None:
        # A dedicated BPS field (KDEBPS) is copied as text, never read as Kemendagri.
        bps = [_text(v) for v in frame[bps_col]]
        put("kode_bps", [b or o for b, o in zip(bps, attrs["kode_bps"])])
    if name_col is not None:
        put("nama", [_text(v) for v in frame[name_col]])
    if parent_code_col is not None:
        put("kecamatan_kode", _parse_codes(frame, parent_code_col, normalize_kecamatan_code,
                                           problems, KECAMATAN)[0])
    if parent_name_col is not None:
        put("kecamatan_nama", [_text(v) for v in frame[parent_name_col]])
    if kabkota_col is not None:
        put("kabkota_nama", [_text(v) for v in frame[kabkota_col]])

    fields = {k: v for k, v in (("kode", code_col), ("nama", name_col), ("kode_bps", bps_col),
                                ("kecamatan_kode", parent_code_col),
                                ("kecamatan_nama", parent_name_col),
                                ("kabkota_nama", kabkota_col)) if v is not None}
    name = scheme.name if scheme and not (code_field or name_field) else (
        f"{scheme.name}+mapped" if scheme else "mapped")
    return SchemeResult(attrs, name, lvl, fields, problems)
