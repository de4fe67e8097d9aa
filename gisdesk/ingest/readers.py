"""Read any accepted vector file into a GeoDataFrame in EPSG:4326.

Accepted: GeoJSON, GeoPackage, Shapefile (plain or zipped), CSV with lon/lat or WKT columns.
Whole-file problems (unreadable, truncated, empty, unsafe zip, projected values without a
CRS) raise :class:`~gisdesk.errors.InputRejected` with a message for a desk operator.
Row-level problems are left for the validators: a CSV row whose coordinates cannot be read
gets an empty geometry and keeps its original text columns.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka
from gisdesk.ingest.columns import canonical_columns
from gisdesk.ingest.crs_checks import reject_projected_without_crs

LOGGER = logging.getLogger(__name__)

__all__ = ["read_vector", "read_table", "parse_decimal", "points_from_frame", "to_wgs84", "check_zip", "SUPPORTED",
           "MAX_ZIP_UNCOMPRESSED", "MAX_ZIP_RATIO"]

SUPPORTED = "GeoJSON, GeoPackage (.gpkg), Shapefile (.shp or .zip) or CSV"
MAX_ZIP_UNCOMPRESSED = 2 * 1024**3   # 2 GiB: national desa boundaries fit, a zip bomb not
MAX_ZIP_RATIO = 200                  # shapefiles compress ~3-10x; bombs 1000x and more
MAX_ZIP_MEMBERS = 5000
_JSON_PRECHECK_LIMIT = 256 * 1024**2  # parse smaller GeoJSON once to say *where* it breaks
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError,
                pyogrio.errors.CRSError, OSError, ValueError, RuntimeError)


def _reject(message: str, *, field: str | None = None, value: str | None = None):
    raise InputRejected(message, [Problem(None, field, message, value=value)])


# ---------------------------------------------------------------- CSV

def parse_decimal(text: object) -> float:
    """``'116,0739'`` or ``'116.0739'`` -> 116.0739; anything unreadable -> NaN."""
    if text is None:
        return float("nan")
    value = str(text).strip().replace("\u2212", "-")
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")  # decimal comma, as Excel writes it in id-ID
    try:
        return float(value)
    except ValueError:
        return float("nan")


def _sniff_delimiter(header_line: str) -> str:
    # csv.Sniffer guesses badly on short files with decimal commas; the header is reliable.
    counts = {d: len(re.findall(re.escape(d) + r'(?=(?:[^"]*"[^"]*")*[^"]*$)', header_line))
              for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ","


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV as text cells (nothing guessed), header names as written (BOM removed)."""
    path = Path(path)
    raw = path.read_bytes()
    if not raw.strip():
        _reject(f"Berkas {path.name} kosong.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _reject(f"Berkas {path.name} bukan teks UTF-8 (byte {exc.start}). Simpan dari "
                "lembar kerja sebagai 'CSV UTF-8'.")
    if "\x00" in text:        # PostgreSQL text cannot hold it; no spreadsheet writes it
        row = text.count("\n", 0, text.index("\x00"))
        message = (f"Baris {row} dari {path.name} berisi byte NUL (\\x00): bukan tabel teks. "
                   "Simpan dari lembar kerja sebagai 'CSV UTF-8'.")
        raise InputRejected(message, [Problem(row or None, None, message)])
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(header)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str,
                            keep_default_na=False, skipinitialspace=True,
                            quoting=csv.QUOTE_MINIMAL, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            expected, line, saw = match.groups()
            row = int(line) - 1
            message = (f"Baris {row} dari {path.name} punya {saw} nilai padahal judul kolom "
                       f"punya {expected}. Koma desimal di berkas berpemisah koma? Pakai ';' "
                       "sebagai pemisah atau beri tanda kutip pada nilainya.")
            raise InputRejected(message, [Problem(row, None, message)]) from None
        _reject(f"Berkas {path.name} tidak bisa dibaca sebagai CSV: {exc}")
    except pd.errors.EmptyDataError:
        _reject(f"Berkas {path.name} kosong.")
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    if frame.empty:
        _reject(f"Berkas {path.name} punya judul kolom tetapi tidak punya baris.")
    return frame


def points_from_frame(frame: pd.DataFrame, display: str = "The table", *,
                      field_map: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Build geometries from lon/lat (decimal comma tolerated) or WKT text columns.

    ``field_map`` may name the ``lon``/``lat``/``wkt`` columns (``--*-field`` options).
    Rows whose coordinates cannot be read get an empty geometry; their text stays in the
    frame so that the validators can quote it.
    """
    overrides = {k: v for k, v in (field_map or {}).items() if k in ("lon", "lat", "wkt")}
    if "geometry" in frame.columns and "wkt" not in frame.columns:
        # A WKT column called "geometry" would clash with the GeoDataFrame's own.
        frame = frame.rename(columns={"geometry": "wkt"})
    cols = canonical_columns(frame.columns, wanted=["lon", "lat", "wkt"], overrides=overrides)
    if "lon" in cols and "lat" in cols:
        x = np.array([parse_decimal(v) for v in frame[cols["lon"]]])
        y = np.array([parse_decimal(v) for v in frame[cols["lat"]]])
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.full(len(frame), None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
    elif "wkt" in cols:
        texts = frame[cols["wkt"]].astype(object).where(frame[cols["wkt"]].notna(), None)
        texts = np.array([t if isinstance(t, str) and t.strip() else None for t in texts],
                         dtype=object)
        geoms = shapely.from_wkt(texts, on_invalid="ignore")
    else:
        _reject(f"{display} tidak punya kolom koordinat. Diharapkan lon dan lat (juga "
                "bujur/lintang, longitude/latitude, x/y) atau kolom wkt; kolom yang ada: "
                f"{', '.join(map(str, frame.columns))}.")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index))


def _csv_to_gdf(path: Path, field_map: dict[str, str] | None) -> gpd.GeoDataFrame:
    return points_from_frame(read_table(path), f"The file {path.name}", field_map=field_map)


# ---------------------------------------------------------------- zip

def check_zip(path: str | Path, *, max_total: int = MAX_ZIP_UNCOMPRESSED,
              max_ratio: float = MAX_ZIP_RATIO) -> list[str]:
    """Refuse unsafe archives before anything is read; return the member names.

    Checked from the central directory only (nothing is decompressed): absolute paths or
    ``..`` (path traversal), symbolic links, too many members, a total uncompressed size
    over ``max_total`` and compression ratios no real shapefile has (zip bombs).
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        _reject(f"Berkas {path.name} bukan arsip zip yang bisa dibaca (rusak atau "
                f"terpotong?): {exc}")
    if len(infos) > MAX_ZIP_MEMBERS:
        _reject(f"Zip {path.name} berisi {angka(len(infos))} berkas; paling banyak "
                f"{angka(MAX_ZIP_MEMBERS)} yang diterima.")
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            _reject(f"Zip {path.name} berisi jalur tidak aman {info.filename!r} "
                    "(absolut atau dengan '..'); ditolak.", value=info.filename)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            _reject(f"Zip {path.name} berisi tautan simbolik {info.filename!r}; "
                    "ditolak.", value=info.filename)
        total += info.file_size
        if info.file_size > 1024**2 and info.file_size > max_ratio * max(info.compress_size, 1):
            _reject(f"Zip {path.name} ditolak: {info.filename!r} mengembang "
                    f"{angka(info.file_size / max(info.compress_size, 1))} kali (bom zip?).",
                    value=info.filename)
    if total > max_total:
        _reject(f"Zip {path.name} akan mengembang menjadi {angka(total / 1024**2)} MB; paling "
                f"banyak {angka(max_total / 1024**2)} MB yang diterima.")
    return [i.filename for i in infos if not i.is_dir()]


def _zip_member(path: Path, names: list[str], layer: str | None) -> str:
    def usable(name: str) -> bool:
        base = PurePosixPath(name).name
        return not (name.startswith("__MACOSX/") or base.startswith("._"))

    lower = {n.lower(): n for n in names if usable(n)}
    shps = [n for low, n in lower.items() if low.endswith(".shp")]
    others = [n for low, n in lower.items() if low.endswith((".gpkg", ".geojson", ".json"))]
    candidates = shps or others
    if layer and len(candidates) > 1:
        candidates = [n for n in candidates
                      if PurePosixPath(n).stem.lower() == layer.lower()] or candidates
    if not candidates:
        _reject(f"Zip {path.name} tidak berisi berkas .shp, .gpkg atau .geojson.")
    if len(candidates) > 1:
        stems = ", ".join(PurePosixPath(n).stem for n in candidates)
        _reject(f"Zip {path.name} berisi beberapa layer ({stems}); pilih satu dengan "
                "--layer.")
    member = candidates[0]
    if member.lower().endswith(".shp"):
        stem = member[:-4].lower()
        missing = [ext for ext in (".dbf", ".shx") if stem + ext not in lower]
        if missing:
            _reject(f"Shapefile {member} di {path.name} tidak lengkap: "
                    f"{' dan '.join(missing)} tidak ada. Zip semua bagiannya (.shp .shx .dbf .prj).")
    return member


# ---------------------------------------------------------------- OGR formats

def _precheck_geojson(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        _reject(f"Berkas {path.name} kosong.")
    if size > _JSON_PRECHECK_LIMIT:
        return
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        _reject(f"Berkas {path.name} bukan teks UTF-8 (byte {exc.start}).")
    except json.JSONDecodeError as exc:
        _reject(f"Berkas {path.name} bukan GeoJSON yang sah: rusak di baris {exc.lineno}, "
                f"kolom {exc.colno} ({exc.msg}). Berkas tampak terpotong atau rusak; "
                "ekspor atau unduh lagi.")
    if not isinstance(doc, dict) or doc.get("type") not in (
            "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString",
            "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"):
        _reject(f"Berkas {path.name} JSON tetapi bukan GeoJSON (tidak ada FeatureCollection).")
    if doc.get("type") == "FeatureCollection" and not doc.get("features"):
        _reject(f"Berkas {path.name} tidak berisi fitur.")


def _gpkg_layer(source: str, name: str, layer: str | None) -> str:
    """The layer to read from GeoPackage ``source`` (a path or /vsizip/ string)."""
    try:
        layers = pyogrio.list_layers(source)
    except _READ_ERRORS as exc:
        _reject(f"Berkas {name} tidak bisa dibuka sebagai GeoPackage (rusak atau "
                f"terpotong?): {str(exc).replace(source, name)}")
    spatial = [str(name) for name, gtype in layers if gtype is not None]
    if layer is not None:
        if layer not in [str(n) for n, _ in layers]:
            _reject(f"GeoPackage {name} tidak punya layer {layer!r}; layernya: "
                    f"{', '.join(spatial) or 'tidak ada'}.", field="layer", value=layer)
        return layer
    if not spatial:
        _reject(f"GeoPackage {name} tidak punya layer bergeometri.")
    if len(spatial) > 1:
        _reject(f"GeoPackage {name} punya beberapa layer: {', '.join(spatial)}. "
                "Pilih satu dengan --layer.", field="layer")
    return spatial[0]


def _read_ogr(source: str, display: str, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(source, layer=layer)
    except _READ_ERRORS as exc:
        detail = str(exc).replace(source, display)
        _reject(f"Berkas {display} tidak bisa dibaca (rusak, terpotong atau bukan berkas "
                f"{SUPPORTED}): {detail}")


def _read_any(path: Path, layer: str | None,
              field_map: dict[str, str] | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _csv_to_gdf(path, field_map)
    if suffix in (".geojson", ".json"):
        _precheck_geojson(path)
        return _read_ogr(str(path), path.name)
    if suffix == ".gpkg":
        return _read_ogr(str(path), path.name, _gpkg_layer(str(path), path.name, layer))
    if suffix == ".shp":
        siblings = {p.suffix.lower() for p in path.parent.glob(path.stem + ".*")}
        missing = [ext for ext in (".dbf", ".shx") if ext not in siblings]
        if missing:
            _reject(f"Shapefile {path.name} tidak lengkap: {' dan '.join(missing)} "
                    "tidak ada di sampingnya. Salin semua bagian (.shp .shx .dbf .prj) atau kirim zip.")
        return _read_ogr(str(path), path.name)
    if suffix == ".zip":
        member = _zip_member(path, check_zip(path), layer)
        source = f"/vsizip/{path.resolve()}/{member}"
        inner_layer = None
        if member.lower().endswith(".gpkg"):
            inner_layer = _gpkg_layer(source, f"{path.name}/{member}", layer)
        return _read_ogr(source, f"{path.name}/{member}", inner_layer)
    _reject(f"Berkas {path.name} berjenis tidak dikenal ({suffix or 'tanpa ekstensi'}); "
            f"kirim {SUPPORTED}.")


# ---------------------------------------------------------------- CRS

def _parse_crs(src_crs: object) -> CRS:
    try:
        return CRS.from_user_input(src_crs)
    except CRSError:
        _reject(f"--src-crs {src_crs!r} bukan sistem referensi koordinat yang dikenal "
                "(tulis seperti EPSG:32750).", field="src_crs", value=str(src_crs))


def _finite_bounds(gdf: gpd.GeoDataFrame) -> np.ndarray | None:
    geoms = gdf.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return None
    return np.asarray(shapely.total_bounds(geoms[present]))


def to_wgs84(gdf: gpd.GeoDataFrame, src_crs: object = None, *,
             display: str = "The file") -> gpd.GeoDataFrame:
    """Give ``gdf`` its CRS (``src_crs`` wins over the file's) and reproject to EPSG:4326.

    A file without a CRS is taken as lon/lat (EPSG:4326) when its values are degrees;
    values in metres are refused with a hint for --src-crs.
    """
    if src_crs is not None:
        gdf = gdf.set_crs(_parse_crs(src_crs), allow_override=True)
    bounds = _finite_bounds(gdf)
    if gdf.crs is None or gdf.crs.is_geographic:
        if bounds is not None:
            reject_projected_without_crs(bounds, what=display)
        if gdf.crs is None:
            return gdf.set_crs(4326)
    elif bounds is not None and np.all(np.abs(bounds) <= 180):
        _reject(f"{display} menyatakan {gdf.crs.to_string()} (meter) tetapi koordinatnya "
                "tampak seperti derajat; .prj-nya salah. Beri --src-crs EPSG:4326.",
                field="geometry")
    if gdf.crs.equals(CRS.from_epsg(4326)):
        return gdf
    out = gdf.to_crs(4326)
    after = _finite_bounds(out)
    if bounds is not None and (after is None or not np.all(np.isfinite(after))):
        _reject(f"{display} tidak bisa diubah dari {gdf.crs.to_string()} ke lon/lat; "
                "apakah CRS-nya benar? Beri --src-crs yang benar.", field="geometry")
    return out


def read_vector(path: str | Path, *, layer: str | None = None, src_crs: object = None,
                field_map: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Read ``path`` into a GeoDataFrame in EPSG:4326 with a 0-based RangeIndex.

    ``layer`` picks a GeoPackage layer (or a shapefile inside a zip holding several);
    ``src_crs`` (e.g. ``"EPSG:32750"``) gives or overrides the file's CRS; ``field_map``
    may name a CSV's ``lon``/``lat``/``wkt`` columns. The file's own CRS string is kept in
    ``gdf.attrs["source_crs"]``.
    """
    path = Path(path)
    if not path.exists():
        _reject(f"Berkas {path} tidak ada.")
    if path.is_dir():
        _reject(f"{path} adalah folder; berikan berkasnya sendiri ({SUPPORTED}).")
    with warnings.catch_warnings():
        # GDAL reports recoverable oddities (e.g. a ring not closed) as RuntimeWarning; the
        # validators judge the geometries themselves, so these carry no extra information.
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf = _read_any(path, layer, field_map)
    if len(gdf) == 0:
        _reject(f"Berkas {path.name} tidak berisi fitur.")
    source_crs = gdf.crs.to_string() if gdf.crs is not None else None
    gdf = to_wgs84(gdf.reset_index(drop=True), src_crs, display=f"Berkas {path.name}")
    gdf.attrs["source_crs"] = source_crs if src_crs is None else str(src_crs)
    LOGGER.debug("read %s: %d features, CRS %s", path.name, len(gdf), source_crs)
    return gdf
