"""Prepare a point file (TPS list, facilities) for loading (no database here).

:func:`prepare_points` reads CSV/GeoJSON/GeoPackage/Shapefile points or a DataFrame,
normalises columns by the kind's rule table (``point_rules``), checks coordinates (range,
swapped, flipped latitude, outside the loaded area) and keys, and returns clean rows or
raises ``InputRejected`` listing every bad row.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka
from gisdesk.ingest.boundaries import rejection_message
from gisdesk.ingest.columns import HEADER_ALIASES, canonical_columns
from gisdesk.ingest.crs_checks import INDONESIA_BBOX, BBox, ExpectedArea, fix_or_report_axes
from gisdesk.ingest.name_matching import match_kelurahan_by_name
from gisdesk.ingest.point_rules import PARSERS, POINT_KINDS, CellError, PointKind
from gisdesk.ingest.readers import points_from_frame, read_vector, to_wgs84
from gisdesk.ingest.topology import utm_epsg_for

LOGGER = logging.getLogger(__name__)

__all__ = ["PointPrep", "prepare_points", "NEAR_AREA_M"]

NEAR_AREA_M = 50.0  # DESIGN: within 50 m of the loaded area -> nearest kelurahan, flagged


@dataclass
class PointPrep:
    """Clean points (EPSG:4326) of one kind, with warnings and repairs in ``problems``."""

    kind: str
    points: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source column

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def _load(path_or_df, layer, src_crs, field_map) -> tuple[gpd.GeoDataFrame, str | None]:
    if isinstance(path_or_df, (str, Path)):
        gdf = read_vector(path_or_df, layer=layer, src_crs=src_crs, field_map=field_map)
        return gdf, Path(path_or_df).name
    frame = path_or_df.reset_index(drop=True)
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = points_from_frame(frame, "The table", field_map=field_map)
    source = frame.crs.to_string() if frame.crs is not None else None
    gdf = to_wgs84(frame, src_crs, display="The table")
    gdf.attrs["source_crs"] = source
    return gdf, None


def _as_points(geoms: np.ndarray, rows: np.ndarray, frame: pd.DataFrame,
               cols: dict[str, str]) -> tuple[np.ndarray, list[Problem]]:
    """Points only: single-point MultiPoints are unwrapped; other types are errors."""
    out = np.full(len(geoms), None, dtype=object)
    problems = []
    for i, geom in enumerate(geoms):
        row = int(rows[i])
        if geom is None or geom.is_empty:
            cells = [str(frame.iloc[i][cols[c]]).strip() for c in ("lon", "lat") if c in cols]
            raw = ", ".join(cells) if any(cells) else None
            problems.append(Problem(row, cols.get("lon", "geometry"),
                                    "tidak ada koordinat yang terbaca (lon/lat)", value=raw))
        elif geom.geom_type == "Point":
            out[i] = shapely.force_2d(geom)
        elif geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            out[i] = shapely.force_2d(geom.geoms[0])
        else:
            problems.append(Problem(row, "geometry", f"geometri berupa {geom.geom_type}; "
                                    "yang diperlukan titik (lon/lat)", value=geom.geom_type))
    return out, problems


def _distance_check(geoms: np.ndarray, rows: np.ndarray, area: BaseGeometry, label: str,
                    near_m: float, skip: set[int]) -> list[Problem]:
    """Points outside ``area``: within ``near_m`` a warning, further an error."""
    present = np.array([g is not None and int(r) not in skip for g, r in zip(geoms, rows)])
    if not present.any():
        return []
    x = shapely.get_x(geoms[present].astype(object))
    y = shapely.get_y(geoms[present].astype(object))
    shapely.prepare(area)
    outside = ~shapely.intersects_xy(area, x, y)
    if not outside.any():
        return []
    centre = area.centroid
    epsg = utm_epsg_for(centre.x, centre.y)
    area_m = gpd.GeoSeries([area], crs=4326).to_crs(epsg).values[0]
    pts = gpd.GeoSeries(shapely.points(x[outside], y[outside]), crs=4326).to_crs(epsg).values
    dist = shapely.distance(area_m, pts)
    problems = []
    for row, d, px, py in zip(rows[present][outside], dist, x[outside], y[outside]):
        where = f"{px:.6f}, {py:.6f}"
        if d <= near_m:
            problems.append(Problem(int(row), "geometry", f"terletak {angka(d)} m di luar {label}; "
                                    "akan dimasukkan ke kelurahan terdekat",
                                    severity="warning", value=where))
        else:
            far = f"{angka(d / 1000, 1)} km" if d >= 1000 else f"{angka(d)} m"
            problems.append(Problem(int(row), "geometry", f"terletak {far} di luar {label} "
                                    f"(lebih dari {angka(near_m)} m)", value=where))
    return problems


def _parse_cells(frame: pd.DataFrame, cols: dict[str, str], kind: PointKind,
                 rows: np.ndarray, max_dpt: int) -> tuple[pd.DataFrame, list[Problem]]:
    values: dict[str, list] = {}
    problems = []
    for rule in kind.rules:
        column = cols.get(rule.column)
        raw_values = frame[column].tolist() if column else [None] * len(frame)
        parse = PARSERS[rule.parser]
        # a national file repeats the same codes, numbers and DPTs: parse each value once
        seen: dict = {}
        parsed = []
        for pos, raw in enumerate(raw_values):
            try:
                outcome = seen[raw]
            except (KeyError, TypeError):
                try:
                    outcome = (parse(raw, max_dpt=max_dpt), None)
                except CellError as exc:
                    outcome = (None, str(exc))
                try:
                    seen[raw] = outcome
                except TypeError:  # an unhashable cell is simply not remembered
                    pass
            value, error = outcome
            if error is not None:
                problems.append(Problem(int(rows[pos]), column, error, value=str(raw)))
            elif value is None and rule.required and column:
                problems.append(Problem(int(rows[pos]), column, f"{rule.label} kosong"))
            parsed.append(value)
        values[rule.column] = parsed
    # object dtype keeps None for "absent" (pandas 3 would infer str and store NaN)
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in values.items()}), problems


def _resolve_kelurahan(cells: pd.DataFrame, cols: dict[str, str], kind: PointKind,
                       known: pd.DataFrame | None, rows: np.ndarray,
                       bad_code_rows: set[int]) -> list[Problem]:
    """Fill ``kelurahan_kode`` from the code, or from kelurahan + kecamatan names.
    ``bad_code_rows`` already have an error for their code cell: not said twice."""
    problems: list[Problem] = []
    known_codes = set(known["kode"]) if known is not None and len(known) else None
    codes = list(cells["kode"])
    by_name = [i for i, c in enumerate(codes) if c is None and cells["kelurahan"].iloc[i]]
    if by_name:
        subset = pd.DataFrame({"nama": cells["kelurahan"].iloc[by_name].to_list(),
                               "kecamatan_nama": cells["kecamatan"].iloc[by_name].to_list()})
        matched, found = match_kelurahan_by_name(
            subset, known, name_field=cols.get("kelurahan"), parent_field=cols.get("kecamatan"))
        for sub_pos, problem in ((p.row - 1, p) for p in found):
            problems.append(Problem(int(rows[by_name[sub_pos]]), problem.field, problem.reason,
                                    problem.severity, problem.value))
        for i, code in zip(by_name, matched):
            codes[i] = code
    for i, code in enumerate(codes):
        row = int(rows[i])
        if code is not None and known_codes is not None and code not in known_codes \
                and i not in by_name:
            problems.append(Problem(row, cols.get("kode"), f"kode kelurahan {code} tidak dikenal "
                                    "(tidak ada di antara kelurahan yang dimuat)", value=code))
        elif code is None and kind.kelurahan_required and i not in by_name \
                and row not in bad_code_rows:
            problems.append(Problem(row, cols.get("kode") or cols.get("kelurahan"),
                                    "kelurahan kosong (isi kode kelurahan, atau nama kelurahan "
                                    "dan nama kecamatan)"))
    cells["kelurahan_kode"] = pd.Series(codes, index=cells.index, dtype=object)
    return problems


def _duplicate_keys(keys: list[str | None], rows: np.ndarray, field_name: str | None
                    ) -> list[Problem]:
    seen: dict[str, list[int]] = defaultdict(list)
    for key, row in zip(keys, rows):
        if key:
            seen[key].append(int(row))
    return [Problem(row, field_name, f"TPS {key} ganda: muncul di baris "
                    f"{' dan '.join(map(str, where))}", value=key)
            for key, where in seen.items() for row in where[1:]]


def _missing_columns(cols: dict[str, str], kind: PointKind) -> list[Problem]:
    problems = []
    for rule in kind.rules:
        if rule.required and rule.column not in cols:
            names = ", ".join(HEADER_ALIASES.get(rule.column, (rule.column,)))
            problems.append(Problem(None, rule.column, f"berkas tidak punya kolom {rule.label} "
                                    f"(judul kolom yang diterima: {names})"))
    if kind.kelurahan_required and "kode" not in cols and "kelurahan" not in cols:
        problems.append(Problem(None, "kode", "berkas tidak punya kolom kelurahan: isi "
                                "kode kelurahan (kode, kode_kelurahan, kode_wilayah) atau "
                                "nama kelurahan dan nama kecamatan"))
    return problems


def prepare_points(path_or_df, kind: str = "tps", *, area: BaseGeometry | None = None,
                   known_kelurahan: pd.DataFrame | None = None, layer: str | None = None,
                   src_crs: object = None, field_map: dict[str, str] | None = None,
                   max_dpt: int = 300, near_m: float = NEAR_AREA_M,
                   expected_bbox: BBox = INDONESIA_BBOX) -> PointPrep:
    """Read and check a point file of ``kind`` ("tps" or "facility").

    ``area``: union of the loaded kelurahan (EPSG:4326); points within ``near_m`` metres of
    it are warnings, further out errors. ``known_kelurahan`` (``kode``, ``nama``,
    ``kecamatan_nama``) checks codes and resolves kelurahan given by name. ``field_map``
    maps canonical names (``nomor``, ``dpt``, ``kode``, ``lon``...) to file columns.
    Raises ``InputRejected`` naming every bad row when any row is bad.
    """
    if kind not in POINT_KINDS:
        raise ValueError(f"unknown point kind {kind!r}; known: {', '.join(POINT_KINDS)}")
    rules = POINT_KINDS[kind]
    gdf, display = _load(path_or_df, layer, src_crs, field_map)
    what = f"Berkas {rules.label} {display}" if display else f"Data {rules.label}"
    rows = np.arange(1, len(gdf) + 1)
    wanted = [r.column for r in rules.rules] + ["lon", "lat"]
    cols = canonical_columns(gdf.columns, wanted=wanted, overrides=field_map)
    missing = _missing_columns(cols, rules)
    if missing:
        raise InputRejected(rejection_message(what, missing), missing)

    geoms, problems = _as_points(gdf.geometry.values, rows, gdf, cols)
    expected = ExpectedArea.around(area) if area is not None else ExpectedArea(expected_bbox)
    geoms, axis_problems = fix_or_report_axes(geoms, rows, expected, kind="row",
                                              report_outside=area is None)
    problems += axis_problems
    if area is not None:
        skip = {p.row for p in problems if p.severity == "error"}
        problems += _distance_check(geoms, rows, area, expected.label, near_m, skip)

    cells, cell_problems = _parse_cells(gdf, cols, rules, rows, max_dpt)
    problems += cell_problems
    bad_code_rows = {p.row for p in cell_problems if p.field == cols.get("kode")}
    problems += _resolve_kelurahan(cells, cols, rules, known_kelurahan, rows, bad_code_rows)
    if rules.name == "tps":
        # codes and numbers are already normalised here: build the key without re-parsing
        keys = [f"{k}-{int(n):03d}" if k and n else None
                for k, n in zip(cells["kelurahan_kode"], cells["nomor"])]
        cells["kode"] = pd.Series(keys, index=cells.index, dtype=object)
        problems += _duplicate_keys(keys, rows, cols.get("nomor"))

    if any(p.severity == "error" for p in problems):
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise InputRejected(rejection_message(what, problems), problems)
    out = gpd.GeoDataFrame(cells[list(rules.output)],
                           geometry=gpd.GeoSeries(geoms, crs=4326))
    for column in ("nomor", "dpt"):  # required and checked: no gaps left
        if column in out:
            out[column] = out[column].astype("int64")
    out["source_row"] = rows
    LOGGER.info("prepared %d %s points, %d problems", len(out), kind, len(problems))
    return PointPrep(kind=kind, points=out, problems=problems, columns=cols)
