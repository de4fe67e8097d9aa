"""Prepare a kelurahan or kecamatan boundary file for loading (no database here).

:func:`prepare_boundaries` reads the file, fixes what it can be sure of (swapped axes, invalid
rings, Polygon -> MultiPolygon), normalises codes and names from any known field scheme, and
either returns clean GeoDataFrames in EPSG:4326 or raises ``InputRejected`` listing every bad
feature. Overlaps and gaps between neighbours are reported as warnings, never edited.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka
from gisdesk.ingest.codes import CodeError, kecamatan_of
from gisdesk.ingest.crs_checks import INDONESIA_BBOX, BBox, ExpectedArea, fix_or_report_axes
from gisdesk.ingest.geometry_repair import repair_polygons
from gisdesk.ingest.name_matching import match_kelurahan_by_name, name_key
from gisdesk.ingest.readers import read_vector, to_wgs84
from gisdesk.ingest.schemes import KELURAHAN, SchemeResult, normalise_attributes
from gisdesk.ingest.topology import (area_km2, dissolve_kecamatan, find_gaps, find_overlaps,
                                     utm_epsg_for)

LOGGER = logging.getLogger(__name__)

__all__ = ["BoundaryPrep", "prepare_boundaries", "dissolve_kecamatan", "utm_epsg_for",
           "KELURAHAN_COLUMNS", "KECAMATAN_COLUMNS", "rejection_message"]

KELURAHAN_COLUMNS = ["kode", "kode_bps", "nama", "kecamatan_kode", "kecamatan_nama",
                     "kabkota_nama", "area_km2", "source_row", "geometry"]
KECAMATAN_COLUMNS = ["kode", "kode_bps", "nama", "kabkota_nama", "area_km2", "source_row",
                     "geometry"]


@dataclass
class BoundaryPrep:
    """A boundary file ready to load. ``kelurahan`` is None for a kecamatan file;
    ``kecamatan`` is dissolved from the kelurahan (``kecamatan_derived``) for a kelurahan
    file. ``problems`` holds the warnings and the repairs ("fixed")."""

    level: str
    scheme: str
    kelurahan: gpd.GeoDataFrame | None
    kecamatan: gpd.GeoDataFrame | None
    kecamatan_derived: bool
    problems: list[Problem] = field(default_factory=list)
    overlaps: pd.DataFrame | None = None   # row_a, row_b, kode_a, kode_b, area_m2
    gaps: gpd.GeoDataFrame | None = None   # area_m2, hole polygon (EPSG:4326)
    fields: dict[str, str] = field(default_factory=dict)  # output column -> source field
    source_crs: str | None = None

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def fixed(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "fixed"]


def rejection_message(what: str, problems: list[Problem]) -> str:
    """One-paragraph summary for ``InputRejected``; the problems carry the details."""
    errors = [p for p in problems if p.severity == "error"]
    first = errors[0]
    where = f"baris {first.row}" if first.row is not None else "berkas"
    if first.field:
        where += f", kolom {first.field}"
    more = f" dan {angka(len(errors) - 1)} lainnya" if len(errors) > 1 else ""
    return (f"{what} ditolak dan tidak ada yang dimuat: {angka(len(errors))} kesalahan. "
            f"Pertama: {where}: {first.reason}{more}.")


def _duplicate_codes(kode: pd.Series, rows: np.ndarray, field_name: str | None,
                     what: str) -> list[Problem]:
    seen: dict[str, list[int]] = defaultdict(list)
    for code, row in zip(kode, rows):
        if code:
            seen[code].append(int(row))
    problems = []
    for code, where in seen.items():
        for row in where[1:]:
            listed = " dan ".join(str(r) for r in where)
            problems.append(Problem(row, field_name, f"kode {what} {code} ganda: muncul "
                                    f"di baris {listed}", value=code))
    return problems


def _has_kemendagri_codes(attrs: pd.DataFrame, result: SchemeResult) -> bool:
    """False for files to match by name: no code field, or only BPS codes in it."""
    code_field = result.fields.get("kode")
    return code_field is not None and (attrs["kode"].notna().any() or any(
        p.field == code_field for p in result.problems))


def _check_kelurahan_codes(attrs: pd.DataFrame, result: SchemeResult,
                           known: pd.DataFrame | None, rows: np.ndarray) -> list[Problem]:
    """Fill ``kode``/``kecamatan_kode`` (matching names when the file has no codes) and
    check the kecamatan prefix against a parent field."""
    problems: list[Problem] = []
    code_field = result.fields.get("kode")
    if not _has_kemendagri_codes(attrs, result):
        # No Kemendagri codes at all (GADM, geoBoundaries, BPS-only): match by name.
        codes, found = match_kelurahan_by_name(attrs, known, name_field=result.fields.get("nama"),
                                               parent_field=result.fields.get("kecamatan_nama"))
        attrs["kode"] = pd.Series(codes, index=attrs.index, dtype=object)
        problems += found
        # Names in such files may be outdated or squashed ("AmpenanSelatan"); once matched,
        # the loaded names are the reference.
        names = known.drop_duplicates("kode").set_index("kode")
        matched = attrs["kode"].notna()
        for column in ("nama", "kecamatan_nama"):
            attrs.loc[matched, column] = names.loc[attrs.loc[matched, "kode"], column].to_list()
    else:
        already = {p.row for p in result.problems}  # bad code cells: said once
        for pos, (kode, bps) in enumerate(attrs[["kode", "kode_bps"]].itertuples(index=False)):
            if kode is None and int(rows[pos]) not in already:
                reason = (f"kode BPS {bps} bukan kode Kemendagri; isi kode Kemendagri"
                          if bps else "kode kelurahan kosong")
                problems.append(Problem(int(rows[pos]), code_field, reason, value=bps))
    parent_field = result.fields.get("kecamatan_kode")
    derived = []
    for pos, (kode, parent) in enumerate(attrs[["kode", "kecamatan_kode"]].itertuples(index=False)):
        own = kecamatan_of(kode) if kode else None
        if own and parent and own != parent:
            problems.append(Problem(int(rows[pos]), parent_field, f"kode kelurahan {kode} termasuk "
                                    f"kecamatan {own}, tetapi {parent_field} menyebut {parent}",
                                    value=parent))
        derived.append(own or parent)
    attrs["kecamatan_kode"] = pd.Series(derived, index=attrs.index, dtype=object)
    return problems


def _check_kecamatan_codes(attrs: pd.DataFrame, result: SchemeResult,
                           known: pd.DataFrame | None, rows: np.ndarray) -> list[Problem]:
    """Kecamatan files without Kemendagri codes are matched by name to loaded kelurahan."""
    if _has_kemendagri_codes(attrs, result):
        already = {p.row for p in result.problems}
        return [Problem(int(rows[pos]), result.fields.get("kode"), "kode kecamatan kosong")
                for pos, kode in enumerate(attrs["kode"])
                if kode is None and int(rows[pos]) not in already]
    name_field = result.fields.get("nama")
    if known is None or len(known) == 0:
        message = ("Berkas kecamatan tidak punya kode Kemendagri dan belum ada kelurahan yang "
                   "dimuat untuk mencocokkan namanya; petakan kolom kode dengan --code-field.")
        raise InputRejected(message, [Problem(None, name_field, message)])
    lookup: dict[str, set[str]] = defaultdict(set)
    for kode, kec in known[["kode", "kecamatan_nama"]].itertuples(index=False):
        try:
            lookup[name_key(kec)].add(kecamatan_of(kode))
        except CodeError:
            continue
    problems, codes = [], []
    for pos, nama in enumerate(attrs["nama"]):
        hits = lookup.get(name_key(nama), set())
        codes.append(next(iter(hits)) if len(hits) == 1 else None)
        if len(hits) != 1:
            problems.append(Problem(int(rows[pos]), name_field, f"kecamatan {nama!r} tidak cocok "
                                    "dengan kecamatan yang dimuat; petakan kodenya dengan --code-field",
                                    value=str(nama)))
    attrs["kode"] = pd.Series(codes, index=attrs.index, dtype=object)
    return problems


def _topology_warnings(gdf: gpd.GeoDataFrame, level: str, min_overlap_m2: float
                       ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, list[Problem]]:
    overlaps = find_overlaps(gdf, min_area_m2=min_overlap_m2)
    gaps = find_gaps(gdf, min_area_m2=min_overlap_m2)
    problems = []
    if len(overlaps):
        top = overlaps.iloc[0]
        problems.append(Problem(None, "geometry", f"{angka(len(overlaps))} pasang {level} "
                                f"bertetangga tumpang tindih lebih dari {angka(min_overlap_m2)} m² "
                                f"(terbesar {angka(top.area_m2)} m², baris {top.row_a} dan "
                                f"{top.row_b}: {top.kode_a} / {top.kode_b}); dibiarkan apa adanya",
                                severity="warning", value=f"{top.area_m2:.0f}"))
    if len(gaps):
        top = gaps.iloc[0]
        point = top.geometry.representative_point()
        problems.append(Problem(None, "geometry", f"{angka(len(gaps))} celah antara {level} "
                                f"bertetangga lebih dari {angka(min_overlap_m2)} m² (terbesar "
                                f"{angka(top.area_m2)} m² dekat {point.x:.5f}, {point.y:.5f}); "
                                "dibiarkan apa adanya", severity="warning",
                                value=f"{top.area_m2:.0f}"))
    return overlaps, gaps, problems


def _load(gdf_or_path, layer, src_crs) -> gpd.GeoDataFrame:
    if isinstance(gdf_or_path, (str, Path)):
        return read_vector(gdf_or_path, layer=layer, src_crs=src_crs)
    gdf = gdf_or_path.reset_index(drop=True)
    source = gdf.crs.to_string() if gdf.crs is not None else None
    gdf = to_wgs84(gdf, src_crs, display="The boundary data")
    gdf.attrs["source_crs"] = source
    return gdf


def prepare_boundaries(gdf_or_path, *, level: str | None = None, layer: str | None = None,
                       code_field: str | None = None, name_field: str | None = None,
                       parent_field: str | None = None, src_crs: object = None,
                       known_kelurahan: pd.DataFrame | None = None,
                       expected_bbox: BBox = INDONESIA_BBOX,
                       min_overlap_m2: float = 1.0) -> BoundaryPrep:
    """Read, check, repair and normalise a boundary file (path or GeoDataFrame).

    ``known_kelurahan`` (columns ``kode``, ``nama``, ``kecamatan_nama``; from the database)
    is needed only for files without Kemendagri codes (GADM, geoBoundaries), which are
    matched by kecamatan + kelurahan name. Raises ``InputRejected`` with every problem when
    any feature is bad.
    """
    gdf = _load(gdf_or_path, layer, src_crs)
    rows = np.arange(1, len(gdf) + 1)
    what = f"Berkas batas wilayah {Path(gdf_or_path).name}" if isinstance(
        gdf_or_path, (str, Path)) else "Data batas wilayah"

    geoms, problems = fix_or_report_axes(gdf.geometry.values.copy(), rows,
                                         ExpectedArea(expected_bbox), kind="feature")
    geoms, repair_problems = repair_polygons(geoms, rows)
    problems += repair_problems
    type_problems = [p for p in repair_problems if "berkas batas wilayah perlu poligon" in p.reason]
    if type_problems and all(g is None for g in geoms):
        kinds = sorted({p.value for p in type_problems})
        message = (f"{what} berisi geometri {', '.join(kinds)}, bukan poligon. "
                   "Berkas batas wilayah perlu area kelurahan atau kecamatan (TPS dan titik "
                   "lain diimpor dengan 'gisdesk import tps|facilities').")
        raise InputRejected(message, problems)

    result = normalise_attributes(gdf.drop(columns=gdf.geometry.name), level=level,
                                  code_field=code_field, name_field=name_field,
                                  parent_field=parent_field)
    problems += result.problems
    attrs = result.attrs.reset_index(drop=True)
    if result.level == KELURAHAN:
        problems += _check_kelurahan_codes(attrs, result, known_kelurahan, rows)
    else:
        problems += _check_kecamatan_codes(attrs, result, known_kelurahan, rows)
    name_field_used = result.fields.get("nama")
    for pos, nama in enumerate(attrs["nama"]):
        if not nama:
            problems.append(Problem(int(rows[pos]), name_field_used, f"nama {result.level} kosong"))
    problems += _duplicate_codes(attrs["kode"], rows, result.fields.get("kode")
                                 or name_field_used, result.level)

    if any(p.severity == "error" for p in problems):
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise InputRejected(rejection_message(what, problems), problems)

    out = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, crs=4326))
    out["source_row"] = rows
    out["area_km2"] = area_km2(out.geometry.values)
    overlaps, gaps, topo = _topology_warnings(out, result.level, min_overlap_m2)
    problems += topo
    prep = BoundaryPrep(level=result.level, scheme=result.scheme, kelurahan=None,
                        kecamatan=None, kecamatan_derived=False, problems=problems,
                        overlaps=overlaps, gaps=gaps, fields=result.fields,
                        source_crs=gdf.attrs.get("source_crs"))
    if result.level == KELURAHAN:
        prep.kelurahan = out[KELURAHAN_COLUMNS]
        prep.kecamatan = dissolve_kecamatan(prep.kelurahan)
        prep.kecamatan_derived = True
        prep.problems += _kecamatan_name_warnings(prep.kelurahan)
    else:
        prep.kecamatan = out[KECAMATAN_COLUMNS]
    LOGGER.info("prepared %d %s (%s scheme), %d problems", len(out), result.level,
                result.scheme, len(prep.problems))
    return prep


def _kecamatan_name_warnings(kelurahan: gpd.GeoDataFrame) -> list[Problem]:
    """One kecamatan code spelled with different names across rows is worth a look."""
    problems = []
    for kode, group in kelurahan.groupby("kecamatan_kode"):
        names = sorted({n for n in group["kecamatan_nama"].dropna()})
        if len({name_key(n) for n in names}) > 1:
            problems.append(Problem(None, "kecamatan_nama", f"kecamatan {kode} punya beberapa "
                                    f"nama di berkas: {', '.join(names)}",
                                    severity="warning"))
    return problems
