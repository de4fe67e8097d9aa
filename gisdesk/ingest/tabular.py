"""Row-level readers for bulk files: ratings, personnel, incidents and TPS readiness (no DB).

Like ``point_rules``, each kind is data: the columns it knows (canonical name -> the usual
Indonesian and English headers, ``ALIASES``) and how each cell is read. ``read_ratings`` and
``read_personnel`` return clean rows, each with its 1-based row number, plus every problem
found; incident and readiness rows are mapped onto the entry API's payloads (their readers
sit beside the entry rules in ``write_bulk_entry``). Nothing here touches the database: the
writers check codes against what is loaded and write in one transaction.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gisdesk.analysis.rules import Rules, norm_word
from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka
from gisdesk.ingest.codes import (CodeError, normalize_kecamatan_code, normalize_kelurahan_code,
                                  parse_tps_key, tps_key)
from gisdesk.ingest.columns import HEADER_ALIASES, header_key
from gisdesk.ingest.point_rules import CellError
from gisdesk.ingest.readers import read_table

# canonical column -> header spellings (header_key form), per kind of file
_TARGET = {"tps_kode": ("kode_tps", "tps_kode", "id_tps", "kode_tps_lengkap"),
           "kode": HEADER_ALIASES["kode"] + ("kelurahan_kode",),
           "nomor": HEADER_ALIASES["nomor"],
           "kecamatan_kode": HEADER_ALIASES["kecamatan_kode"]}
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "ratings": {**_TARGET,
                "source": ("sumber", "source", "penilai", "sumber_penilaian"),
                "kelas": ("kelas", "kelas_kerawanan", "kerawanan", "tingkat_kerawanan",
                          "status_kerawanan", "kategori", "class", "kategori_kerawanan"),
                "indicators": ("indikator", "indicators", "daftar_indikator",
                               "indikator_kerawanan"),
                "score": ("skor", "score", "nilai", "indeks", "ikp"),
                "rated_on": ("tanggal", "tanggal_penilaian", "tgl", "rated_on", "date",
                             "tanggal_penetapan"),
                "note": ("catatan", "keterangan", "note", "notes")},
    "personnel": {**_TARGET,
                  "agency": ("instansi", "agency", "unsur", "asal_personel"),
                  "target": ("sasaran", "target", "penempatan", "lokasi_tugas"),
                  "count": ("jumlah", "count", "jumlah_personel", "personel", "jml"),
                  "unit": ("satuan", "unit", "kesatuan", "satker"),
                  "note": ("catatan", "keterangan", "note")},
    "incidents": {"tps": ("tps", "kode_tps", "tps_kode", "no_tps"),
                  "id": ("id", "uuid", "client_uuid", "id_laporan"),
                  "category": ("kategori", "category", "jenis_kejadian", "jenis_insiden"),
                  "severity": ("tingkat", "severity", "keparahan", "tingkat_keparahan"),
                  "occurred_at": ("waktu", "waktu_kejadian", "occurred_at", "tanggal_waktu"),
                  "date": ("tanggal", "tgl", "tanggal_kejadian"),
                  "time": ("jam", "pukul", "time"),
                  "description": ("uraian", "deskripsi", "description", "keterangan",
                                  "kronologi"),
                  "reporter_name": ("pelapor", "reporter", "nama_pelapor", "reporter_name"),
                  "coords": ("koordinat", "coords", "titik"),
                  "lat": HEADER_ALIASES["lat"], "lon": HEADER_ALIASES["lon"],
                  "confirm_warnings": ("konfirmasi", "confirm", "confirm_warnings")},
    "readiness": {**_TARGET,
                  "client_uuid": ("client_uuid", "uuid", "id"),
                  # when the list was ticked (an offline log): orders the TPS's state
                  "checked_at": ("waktu_cek", "diperiksa_pada", "waktu_periksa",
                                 "waktu_pemeriksaan", "dicek_pada", "tanggal_periksa",
                                 "checked_at", "check_time", "checked", "waktu"),
                  "note": ("catatan", "keterangan", "note")},
}
# columns that are never read as a Bawaslu indicator column
_NOT_INDICATOR = {"no", "nama", "nama_tps", "kelurahan", "desa", "kecamatan", "alamat",
                  "dpt", "lat", "lon", "nama_kelurahan", "nama_kecamatan"}
_TRUE = {"1", "ya", "y", "iya", "true", "t", "benar", "ada", "x", "v", "yes", "\u2713", "siap"}
_FALSE = {"0", "tidak", "tdk", "n", "no", "false", "f", "salah", "tidak_ada", "-", "belum"}
_AGENCY = {"polri": "polri", "polisi": "polri", "kepolisian": "polri", "polres": "polri",
           "polresta": "polri", "polsek": "polri", "linmas": "linmas", "satlinmas": "linmas",
           "hansip": "linmas", "tni": "tni", "kodim": "tni", "koramil": "tni",
           "babinsa": "tni", "tentara": "tni"}
_RESERVE = {"cadangan", "reserve", "cadangan_polsek", "cadangan_polresta", "cadangan_kota",
            "cadangan_kecamatan", "bko"}


@dataclass
class Row:
    row: int                      # 1-based, as an operator counts (header is not a row)
    values: dict


@dataclass
class TableRead:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)    # canonical -> file column

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or \
        str(value).strip() == ""


def cells(frame: pd.DataFrame, kind: str) -> dict[str, str]:
    """canonical -> file column for ``kind``; two columns meaning one thing are refused."""
    by_key: dict[str, str] = {}
    for column in frame.columns:
        if str(column) != "geometry":
            by_key.setdefault(header_key(column), column)
    found, problems = {}, []
    for canonical, aliases in ALIASES[kind].items():
        hits = [by_key[a] for a in aliases if a in by_key and by_key[a] not in found.values()]
        if len(hits) > 1:
            problems.append(Problem(None, str(hits[0]), f"kolom {', '.join(map(repr, hits))} "
                                    f"semuanya berarti {canonical!r}; sisakan satu"))
        elif hits:
            found[canonical] = hits[0]
    if problems:
        raise InputRejected("Kolom berkas ini membingungkan (ada yang ganda).", problems)
    return found


def load_csv(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise InputRejected(f"Berkas {path.name} harus tabel CSV (.csv), "
                            "dipisah ',' atau ';', UTF-8.",
                            [Problem(None, None, "bukan berkas CSV", value=path.suffix)])
    return read_table(path)


# ------------------------------------------------------------------- cell parsers

def parse_date(value) -> dt.date:
    """``14/02/2024``, ``14-02-2024``, ``2024-02-14`` (a trailing ``00:00`` is ignored)."""
    text = str(value).strip().split(" ")[0].split("T")[0]
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CellError(f"tanggal {str(value).strip()!r} bukan tanggal (tulis dd/mm/yyyy atau "
                    "yyyy-mm-dd)")


def parse_count(value) -> int:
    text = str(value).strip()
    if re.fullmatch(r"-?\d+[.,]0+", text):
        text = re.split(r"[.,]", text)[0]
    if not re.fullmatch(r"-?\d+", text):
        raise CellError(f"jumlah {text!r} bukan bilangan bulat")
    number = int(text)
    if number < 0:
        raise CellError(f"jumlah {angka(number)} negatif")
    if number > 100_000:
        raise CellError(f"jumlah {angka(number)} terlalu besar untuk masuk akal")
    return number


def parse_bool(value) -> bool:
    if _blank(value):
        return False
    word = norm_word(value)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(f"{str(value).strip()!r} bukan ya/tidak (tulis 1/0 atau ya/tidak)")


def is_bool_word(value) -> bool:
    return _blank(value) or norm_word(value) in _TRUE | _FALSE


def parse_indicators(value) -> list[str]:
    """``'politik_uang; riwayat kekerasan'`` or ``a|b`` -> normalised names."""
    if _blank(value):
        return []
    return sorted({norm_word(p) for p in re.split(r"[;|\n]", str(value)) if p.strip()})


def parse_agency(value) -> str:
    agency = _AGENCY.get(norm_word(value))
    if agency is None:
        raise CellError(f"instansi {str(value).strip()!r} tidak dikenal (polri, linmas atau tni)")
    return agency


def parse_score(value) -> float:
    text = str(value).strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise CellError(f"skor {str(value).strip()!r} bukan angka") from None


def resolve_target(v: dict) -> tuple[str, str]:
    """('tps', tps_kode) or ('kelurahan', kelurahan_kode) from tps_kode / kode + nomor / kode."""
    try:
        if not _blank(v.get("tps_kode")):
            kel, nomor = parse_tps_key(v["tps_kode"])
            return "tps", tps_key(kel, nomor)
        nomor = v.get("nomor")
        if not _blank(nomor) and re.search(r"\d[.\-\s]\d", str(nomor)) and "-" in str(nomor):
            kel, num = parse_tps_key(nomor)      # a whole TPS key in the "tps" column
            return "tps", tps_key(kel, num)
        kode, bps = normalize_kelurahan_code(v.get("kode"))
        if bps:
            raise CellError(f"{bps} adalah kode BPS; isi kode Kemendagri (52.71.01.1004)")
        if kode is None:
            raise CellError("sasaran kosong: isi kode TPS (52.71.01.1004-012), atau kode "
                            "kelurahan dengan atau tanpa nomor TPS")
        if not _blank(nomor):
            return "tps", tps_key(kode, nomor)
        return "kelurahan", kode
    except CodeError as exc:
        raise CellError(str(exc)) from None


def target_column(cols: dict) -> str:
    """The file column that names a row's target (for messages)."""
    return cols.get(next((c for c in ("target", "tps_kode", "nomor", "kode") if c in cols),
                         "tps_kode"), "tps_kode")


# ------------------------------------------------------------------- ratings

def _indicator_columns(frame: pd.DataFrame, cols: dict) -> dict[str, str]:
    """Columns (not otherwise known) holding only yes/no words: one Bawaslu indicator each."""
    out = {}
    for column in frame.columns:
        key = header_key(column)
        if column in cols.values() or key in _NOT_INDICATOR or column == "geometry":
            continue
        values = frame[column]
        if values.map(_blank).all() or not values.map(is_bool_word).all():
            continue
        out[column] = norm_word(re.sub(r"^(ind|indikator)_", "", key))
    return out


def read_ratings(path_or_frame, rules: Rules, source: str | None = None) -> TableRead:
    """Ratings at TPS or kelurahan level; classes and indicators checked against ``rules``."""
    frame = path_or_frame if isinstance(path_or_frame, pd.DataFrame) else load_csv(path_or_frame)
    cols = cells(frame, "ratings")
    out = TableRead(columns=cols)
    if "rated_on" not in cols:
        out.problems.append(Problem(None, "rated_on", "berkas tidak punya kolom tanggal "
                                    "(tanggal / tanggal_penilaian)"))
    if "source" not in cols and source is None:
        out.problems.append(Problem(None, "source", "sumber penilaian tidak diketahui: tambah "
                                    "kolom 'sumber' atau beri --source polri|kpu|bawaslu"))
    if not {"tps_kode", "nomor", "kode"} & set(cols):
        out.problems.append(Problem(None, "kode", "berkas tidak punya kolom sasaran: kode_tps, "
                                    "atau kode (kelurahan) dengan atau tanpa tps"))
    if out.problems:
        return out
    ind_cols = _indicator_columns(frame, cols)
    for i, (_, fr) in enumerate(frame.iterrows(), start=1):
        v, problems = {c: fr[col] for c, col in cols.items()}, []

        def bad(fld, reason, value=None):
            problems.append(Problem(i, fld, reason, value=None if value is None
                                    else str(value).strip()[:80]))

        src = source
        if not _blank(v.get("source")):
            given = norm_word(v["source"])
            if given not in rules.sources:
                bad(cols["source"], f"sumber tidak dikenal (yang dikenal: {', '.join(rules.sources)})",
                    v["source"])
                src = None
            elif source is not None and given != source:
                bad(cols["source"], f"baris ini menyebut {given} padahal impor ini untuk {source}",
                    v["source"])
            else:
                src = given
        elif src is None:
            bad("source", "sumber kosong (sumber)")
        target = kode = None
        try:
            target, kode = resolve_target(v)
        except CellError as exc:
            col = target_column(cols)
            bad(col, str(exc), fr.get(col))
        rated_on = None
        if _blank(v.get("rated_on")):
            bad(cols["rated_on"], "tanggal kosong")
        else:
            try:
                rated_on = parse_date(v["rated_on"])
            except CellError as exc:
                bad(cols["rated_on"], str(exc), v["rated_on"])
        kelas = None
        src_rules = rules.sources.get(src) if src else None
        if not _blank(v.get("kelas")) and src_rules is not None:
            kelas = src_rules.class_map.get(norm_word(v["kelas"]))
            if kelas is None:
                known = sorted({rules.label(k) for k in rules.classes} | set(src_rules.class_map))
                bad(cols["kelas"], f"kelas tidak dikenal untuk {src_rules.label} (yang dikenal: "
                    f"{', '.join(w.replace('_', ' ') for w in known)})", v["kelas"])
        indicators = parse_indicators(v.get("indicators"))
        for column, name in ind_cols.items():
            try:
                if parse_bool(fr[column]):
                    indicators.append(name)
            except CellError as exc:
                bad(column, str(exc), fr[column])
        indicators = sorted(set(indicators))
        if indicators and src_rules is not None and not src_rules.rates_indicators:
            bad(cols.get("indicators", "indicators"),
                f"{src_rules.label} tidak menilai dengan indikator")
        score = None
        if not _blank(v.get("score")):
            try:
                score = parse_score(v["score"])
            except CellError as exc:
                bad(cols["score"], str(exc), v["score"])
        if src_rules is not None and _blank(v.get("kelas")) and not indicators \
                and _blank(v.get("score")):
            bad(cols.get("kelas", "kelas"), "baris ini tanpa kelas, indikator atau skor")
        out.problems += problems
        if not problems:
            note = None if _blank(v.get("note")) else " ".join(str(v["note"]).split())
            out.rows.append(Row(i, {"source": src, "target": target, "kode": kode,
                                    "kelas": kelas, "indicators": indicators, "score": score,
                                    "rated_on": rated_on, "note": note}))
    return out


# ------------------------------------------------------------------- personnel

_MISSING = {"agency": "instansi", "count": "jumlah"}   # what an operator calls the column

def _personnel_target(v: dict) -> tuple[str, str | None]:
    """('tps'|'kelurahan', kode) or ('reserve', kecamatan_kode or None for Polresta)."""
    given = v.get("target")
    if not _blank(given):
        word = norm_word(given)
        if word in _RESERVE or word.startswith("cadangan"):
            kec = v.get("kecamatan_kode")
            if _blank(kec):
                return "reserve", None
            try:
                kode, _ = normalize_kecamatan_code(kec)
            except CodeError as exc:
                raise CellError(str(exc)) from None
            if kode is None:
                raise CellError(f"{kec} bukan kode kecamatan Kemendagri (52.71.01)")
            return "reserve", kode
        if "-" in str(given).strip():
            return resolve_target({"tps_kode": given})
        return resolve_target({"kode": given, "nomor": v.get("nomor")})
    return resolve_target(v)


def read_personnel(path_or_frame) -> TableRead:
    """Assignments: agency, target (TPS, kelurahan, or 'cadangan' + kecamatan), count, unit."""
    frame = path_or_frame if isinstance(path_or_frame, pd.DataFrame) else load_csv(path_or_frame)
    cols = cells(frame, "personnel")
    out = TableRead(columns=cols)
    for need, label in (("agency", "instansi (polri/linmas/tni)"), ("count", "jumlah")):
        if need not in cols:
            out.problems.append(Problem(None, need, f"berkas tidak punya kolom {label}"))
    if not {"target", "tps_kode", "nomor", "kode"} & set(cols):
        out.problems.append(Problem(None, "target", "berkas tidak punya kolom sasaran: sasaran, "
                                    "kode_tps atau kode (kelurahan)"))
    if out.problems:
        return out
    for i, (_, fr) in enumerate(frame.iterrows(), start=1):
        v, problems = {c: fr[col] for c, col in cols.items()}, []
        parsed = {}
        for fld, parser in (("agency", parse_agency), ("count", parse_count)):
            if _blank(v.get(fld)):
                problems.append(Problem(i, cols[fld], f"{_MISSING[fld]} kosong"))
                continue
            try:
                parsed[fld] = parser(v[fld])
            except CellError as exc:
                problems.append(Problem(i, cols[fld], str(exc), value=str(v[fld]).strip()))
        try:
            parsed["target"], parsed["kode"] = _personnel_target(v)
        except CellError as exc:
            col = target_column(cols)
            problems.append(Problem(i, col, str(exc),
                                    value=None if _blank(fr.get(col)) else str(fr[col]).strip()))
        out.problems += problems
        if not problems:
            unit = None if _blank(v.get("unit")) else " ".join(str(v["unit"]).split())
            note = None if _blank(v.get("note")) else " ".join(str(v["note"]).split())
            out.rows.append(Row(i, {**parsed, "unit": unit, "note": note}))
    return out

