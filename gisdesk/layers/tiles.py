"""Vector tiles (Mapbox Vector Tile, ``ST_AsMVT``) straight from PostGIS; no Flask here.

``tile(conn, layer, z, x, y, election_id, role)`` answers one tile of one map layer. What a
tile holds depends on the zoom, so the map stays fast at any size (the browser never gets all
TPS of a national election):

| layer source      | z <= 6                  | z 7-8                 | z 9-11            | z >= 12 |
|-------------------|-------------------------|-----------------------|-------------------|---------|
| ``tps`` (no where)| one point per kab/kota  | one per kecamatan     | one per kelurahan | TPS     |
| ``kelurahan_gap`` | (nothing: see the points)| kecamatan polygons, gaps summed (z 7-9) | | kelurahan polygons (z >= 10) |
| ``kecamatan``     | nothing below z 6       | kecamatan outlines    |                   |         |
| other point layers| their points; over the size cap grouped on a grid of the tile      |||
| other polygon layers | from z 10 on, simplified to the tile's resolution               |||

A TPS tile at z 12-13 holding more than ``MAX_TILE_POINTS`` TPS (a dense city seen whole)
shows them per kelurahan too; from z 14 on, always the TPS themselves.

Aggregate points carry counts per class (``n_kurang_rawan`` ... ``n_belum_dinilai``), the
personnel shortfall (``polri_short``, ``linmas_short``: sums of positive gaps per kelurahan,
a surplus in one does not staff another) and ``level`` (``kabkota``/``kecamatan``/
``kelurahan``); each unit is one point (a point on its surface), so it appears once whatever
the tile edges. Counts come from the analysis results (``kelurahan_gap``, and per kecamatan
and kab/kota the sums stored with them: ``kecamatan_gap``, ``kabkota_gap``), the same numbers
as the gap table.

No tile is larger than ``MAX_TILE_BYTES``: a tile that would be is made coarser (points
grouped on a grid of the tile, polygons simplified more, aggregates one level up), never cut.

``raw_tile(conn, layer, z, x, y, election_id)`` is the floor the benchmark compares with: the
bare ``ST_AsMVT`` of the layer's own features in that tile (no aggregation, no cap).
Every value reaches SQL as a bind parameter; column names come from the layer registry.
"""
from __future__ import annotations

import functools
import logging
from typing import Any

from sqlalchemy import Connection, text

from gisdesk.layers import sources as layer_sources
from gisdesk.errors import InputRejected, NotFound
from gisdesk.layers.registry import Layer
from gisdesk.roles import allowed

LOGGER = logging.getLogger(__name__)

MAX_TILE_BYTES = 500 * 1024
MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64                     # tile units around the tile (symbols crossing its edge)
TPS_POINT_MIN_ZOOM = 12         # single TPS from here on; aggregates below
TPS_DENSE_ZOOM = 14             # below it, a tile with more than MAX_TILE_POINTS TPS ...
MAX_TILE_POINTS = 3000          # ... shows them per kelurahan instead (dense cities)
KELURAHAN_AGG_MIN_ZOOM = 9
KECAMATAN_AGG_MIN_ZOOM = 7
KELURAHAN_POLYGON_MIN_ZOOM = 10
KECAMATAN_POLYGON_MIN_ZOOM = 6
POLYGON_MIN_ZOOM = 10           # other polygon layers (e.g. the quick count per kelurahan)
LEVELS = ("kelurahan", "kecamatan", "kabkota")
CLASSES = ("kurang_rawan", "rawan", "sangat_rawan", "khusus")
MVT_TYPES = {"application/vnd.mapbox-vector-tile"}
MIME = "application/vnd.mapbox-vector-tile"
# what a TPS point carries in a tile: enough to draw, filter and label it; the popup fetches
# the whole feature (reasons, sources, address) from the API when clicked
# (kecamatan code and "TPS 012" label follow from these in the browser)
TPS_TILE_PROPS = ("tps_kode", "nomor", "kelurahan_kode", "kelas", "dpt", "kesiapan",
                  "disagree", "escalated")
_TPS_SQL = """{bounds},
    f AS (SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.env, :extent, :buffer, true) AS geom,
                 t.kode AS tps_kode, t.nomor::int AS nomor, t.kelurahan_kode, r.kelas, t.dpt,
                 rd.state AS kesiapan, COALESCE(r.disagree, false) AS disagree,
                 COALESCE(r.escalated, false) AS escalated
          FROM b, tps t
          LEFT JOIN tps_risk r ON r.tps_id = t.id AND r.election_id = t.election_id
          LEFT JOIN tps_readiness rd ON rd.tps_id = t.id
          WHERE t.election_id = :e AND t.geom && b.q)
    SELECT ST_AsMVT(f.*, :name, :extent, 'geom') FROM f WHERE f.geom IS NOT NULL"""


class TileOutOfRange(InputRejected):
    status = 400


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise TileOutOfRange(f"z harus 0..{MAX_ZOOM}", field="z")
    n = 1 << z
    if not 0 <= x < n:
        raise TileOutOfRange(f"x harus 0..{n - 1} pada z={z}", field="x")
    if not 0 <= y < n:
        raise TileOutOfRange(f"y harus 0..{n - 1} pada z={z}", field="y")


@functools.cache
def _default_layers() -> dict[str, Layer]:
    from gisdesk import layers as registry
    from gisdesk.config import load_settings
    return registry.load(load_settings().layers_dir)


def _resolve(layer: Layer | str, role: str | None, check_role: bool) -> Layer:
    if isinstance(layer, str):
        found = _default_layers().get(layer)
        if found is None:
            raise NotFound(f"Lapisan '{layer}' tidak ada.", field="layer")
        layer = found
    if check_role and not allowed(role, layer.permission):
        # a layer the role may not see looks exactly like one that does not exist
        raise NotFound(f"Lapisan '{layer.id}' tidak ada.", field="layer")
    return layer


# --- what a tile holds at a zoom ----------------------------------------------------------

def plan(layer: Layer, z: int) -> str:
    """The representation of ``layer`` at zoom ``z`` (see the table in the module doc)."""
    if layer.source == "tps" and not layer.where and layer.geometry == "Point":
        if z >= TPS_POINT_MIN_ZOOM:
            return "features"
        if z >= KELURAHAN_AGG_MIN_ZOOM:
            return "agg:kelurahan"
        if z >= KECAMATAN_AGG_MIN_ZOOM:
            return "agg:kecamatan"
        return "agg:kabkota"
    if layer.geometry == "Point":
        return "features"
    if layer.source == "kelurahan_gap":
        if z >= KELURAHAN_POLYGON_MIN_ZOOM:
            return "features"
        return "kecamatan_gap" if z >= KECAMATAN_AGG_MIN_ZOOM else "empty"
    if layer.source == "kecamatan":
        return "features" if z >= KECAMATAN_POLYGON_MIN_ZOOM else "empty"
    return "features" if z >= POLYGON_MIN_ZOOM else "empty"


def _bounds_cte() -> str:
    # env: the tile in EPSG:3857; q: the tile plus its buffer, in EPSG:4326 (index filter)
    return ("WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env, "
            "ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS q)")


def _params(z: int, x: int, y: int, election_id: int | None, name: str) -> dict:
    return {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT, "e": election_id,
            "election_id": election_id, "name": name, "extent": EXTENT, "buffer": BUFFER}


def _tolerance(z: int, factor: float) -> float:
    """Simplification tolerance in EPSG:3857 metres: ``factor`` units of a 4096 tile... of
    a 256-pixel screen tile (half a pixel by default)."""
    return 40075016.68557849 / (256 * (1 << z)) * factor


def _prop_sql(layer: Layer, names: tuple[str, ...] | None = None) -> str:
    cols = []
    for p in layer.properties:
        if names is not None and p.name not in names:
            continue
        if p.type == "array":
            continue  # lists go to the popup (fetched from the API), not into tiles
        ref = f's."{p.name}"'
        if p.type == "datetime":
            ref = f"to_char({ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        elif p.type == "number":
            ref = f"{ref}::float8"
        cols.append(f'{ref} AS "{p.name}"')
    return ", ".join(cols)


def _features_sql(layer: Layer, *, simplify: float | None, props: str) -> tuple[str, dict]:
    """One MVT feature per row of the layer's source inside the tile (+ buffer)."""
    source = layer_sources.SOURCES[layer.source]
    clauses, params = layer_sources._where(layer, election_id=None, bbox=None, filters=None,
                                           since=None, until=None)
    params.pop("election_id", None)
    geom = "ST_Transform(s.geom, 3857)"
    if simplify:
        geom = f"ST_Simplify({geom}, :tol, true)"
    where = " AND ".join(["s.geom && b.q"] + clauses)
    sql = f"""{_bounds_cte()},
    f AS (SELECT ST_AsMVTGeom({geom}, b.env, :extent, :buffer, true) AS geom
                 {', ' + props if props else ''}
          FROM b, ({source.sql}) s WHERE {where})
    SELECT ST_AsMVT(f.*, :name, :extent, 'geom') FROM f WHERE f.geom IS NOT NULL"""
    if simplify:
        params["tol"] = simplify
    return sql, params


def _grid_sql(layer: Layer, cell: int) -> tuple[str, dict]:
    """Points grouped on a grid of ``cell`` tile units: a count (and counts per class)."""
    source = layer_sources.SOURCES[layer.source]
    clauses, params = layer_sources._where(layer, election_id=None, bbox=None, filters=None,
                                           since=None, until=None)
    params.pop("election_id", None)
    has_kelas = layer.property("kelas") is not None
    per_class = "".join(f", count(*) FILTER (WHERE p.kelas = '{k}')::int AS n_{k}"
                        for k in CLASSES) if has_kelas else ""
    kelas_col = ", s.kelas" if has_kelas else ""
    where = " AND ".join(["s.geom && b.q"] + clauses)
    sql = f"""{_bounds_cte()},
    p AS (SELECT ST_AsMVTGeom(ST_Transform(s.geom, 3857), b.env, :extent, :buffer, true) AS g
                 {kelas_col}
          FROM b, ({source.sql}) s WHERE {where}),
    f AS (SELECT ST_Centroid(ST_Collect(p.g)) AS geom, 'grid'::text AS level,
                 count(*)::int AS n_tps {per_class}
          FROM p WHERE p.g IS NOT NULL
          GROUP BY floor(ST_X(p.g) / :cell), floor(ST_Y(p.g) / :cell))
    SELECT ST_AsMVT(f.*, :name, :extent, 'geom') FROM f"""
    params["cell"] = cell
    return sql, params


# TPS per class, out of a results row's n_by_class (kelurahan, kecamatan or kab/kota)
_CLASS_COLS = ", ".join(f"COALESCE((g.n_by_class ->> '{k}')::int, 0) AS n_{k}" for k in CLASSES)
# per-kelurahan figures from the analysis results (the same numbers as the gap table)
_GAP_COLS = f"""
    g.n_tps, {_CLASS_COLS},
    g.polri_required, g.polri_assigned, GREATEST(g.polri_gap, 0) AS polri_short,
    g.linmas_required, g.linmas_assigned, GREATEST(g.linmas_gap, 0) AS linmas_short,
    g.tni_assigned, g.not_ready, g.incidents_recent"""
# the same figures per kecamatan / kab/kota, as stored with the results (kecamatan_gap,
# kabkota_gap: sums of their kelurahan rows, short = sum of positive gaps), so a low-zoom
# tile reads one row per unit instead of summing every kelurahan under it
_STORED_COLS = f"""
    g.n_kelurahan, g.kelurahan_short, g.n_tps, {_CLASS_COLS},
    g.polri_required, g.polri_assigned, g.polri_short,
    g.linmas_required, g.linmas_assigned, g.linmas_short,
    g.tni_assigned, g.not_ready, g.incidents_recent"""
_FINISH = (", (n_tps - n_kurang_rawan - n_rawan - n_sangat_rawan - n_khusus) "
           "AS n_belum_dinilai")


def _agg_sql(level: str) -> str:
    """One point per administrative unit whose point lies in the tile (+ buffer)."""
    if level == "kelurahan":
        units = """
    u AS (SELECT k.kode, k.nama, ST_PointOnSurface(k.geom) AS pt
          FROM b, kelurahan k WHERE k.geom && b.q),
    a AS (SELECT u.kode, u.nama, u.pt, 1 AS n_kelurahan,
                 (g.polri_gap > 0 OR g.linmas_gap > 0)::int AS kelurahan_short, """ + _GAP_COLS + """
          FROM b, u JOIN kelurahan_gap g ON g.election_id = :e AND g.kelurahan_kode = u.kode
          WHERE u.pt && b.q)"""
    elif level == "kecamatan":
        # (a kecamatan row with reserves but no kelurahan rows has nothing to draw)
        units = """
    u AS (SELECT c.kode, c.nama, ST_PointOnSurface(c.geom) AS pt
          FROM b, kecamatan c WHERE c.geom && b.q),
    a AS (SELECT u.kode, u.nama, u.pt, """ + _STORED_COLS + """
          FROM b, u JOIN kecamatan_gap g ON g.election_id = :e AND g.kecamatan_kode = u.kode
          WHERE u.pt && b.q AND g.n_kelurahan > 0)"""
    else:  # kab/kota: no table of its own; its point is the mean of its kecamatan points
        units = """
    kk AS (SELECT DISTINCT left(c.kode, 5) AS kode FROM b, kecamatan c WHERE c.geom && b.q),
    u AS (SELECT left(c.kode, 5) AS kode,
                 ST_Centroid(ST_Collect(ST_PointOnSurface(c.geom))) AS pt
          FROM kecamatan c WHERE left(c.kode, 5) IN (SELECT kode FROM kk) GROUP BY 1),
    a AS (SELECT u.kode, 'Kab/Kota ' || u.kode AS nama, u.pt, """ + _STORED_COLS + """
          FROM b, u JOIN kabkota_gap g ON g.election_id = :e AND g.kabkota_kode = u.kode
          WHERE u.pt && b.q AND g.n_kelurahan > 0)"""
    cols = ", ".join(["n_kelurahan", "kelurahan_short", "n_tps", *(f"n_{k}" for k in CLASSES),
                      "polri_required", "polri_assigned", "polri_short", "linmas_required",
                      "linmas_assigned", "linmas_short", "tni_assigned", "not_ready",
                      "incidents_recent"])
    return f"""{_bounds_cte()},{units},
    f AS (SELECT ST_AsMVTGeom(ST_Transform(a.pt, 3857), b.env, :extent, :buffer, true) AS geom,
                 '{level}'::text AS level, a.kode, a.nama, {cols} {_FINISH}
          FROM b, a)
    SELECT ST_AsMVT(f.*, :name, :extent, 'geom') FROM f WHERE f.geom IS NOT NULL"""


def _kecamatan_gap_sql(tol_factor: float) -> str:
    """Kecamatan polygons with their stored sums (the kelurahan layer at z 7-9); the gaps
    shown are the shortfalls (sums of positive kelurahan gaps)."""
    return f"""{_bounds_cte()},
    v AS (SELECT c.kode, c.nama, c.geom FROM b, kecamatan c WHERE c.geom && b.q),
    k AS (SELECT g.kecamatan_kode AS kode, g.n_kelurahan, g.n_tps, g.polri_required,
                 g.polri_assigned, g.polri_short AS polri_gap, g.linmas_required,
                 g.linmas_assigned, g.linmas_short AS linmas_gap, g.not_ready,
                 g.incidents_recent
          FROM kecamatan_gap g WHERE g.election_id = :e AND g.n_kelurahan > 0
            AND g.kecamatan_kode IN (SELECT kode FROM v)),
    f AS (SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(v.geom, 3857), :tol, true), b.env,
                              :extent, :buffer, true) AS geom,
                 'kecamatan'::text AS level, v.kode AS kecamatan_kode,
                 v.nama AS kecamatan_nama, k.n_kelurahan, k.n_tps, k.polri_required,
                 k.polri_assigned, k.polri_gap, k.linmas_required, k.linmas_assigned,
                 k.linmas_gap, k.not_ready, k.incidents_recent
          FROM b, v JOIN k USING (kode))
    SELECT ST_AsMVT(f.*, :name, :extent, 'geom') FROM f WHERE f.geom IS NOT NULL"""


def _point_features(layer: Layer) -> tuple[str, dict]:
    if layer.source == "tps" and not layer.where:  # the big one: lean SQL, no name joins
        return _TPS_SQL.format(bounds=_bounds_cte()), {}
    return _features_sql(layer, simplify=None, props=_prop_sql(layer))


def _attempts(layer: Layer, z: int) -> list[tuple[str, str, dict]]:
    """(description, sql, extra params), finest first; the first one under the cap wins."""
    kind = plan(layer, z)
    if kind == "empty":
        return []
    if kind.startswith("agg:"):
        start = LEVELS.index(kind[4:])
        return [(f"agg:{lvl}", _agg_sql(lvl), {}) for lvl in LEVELS[start:]]
    if kind == "kecamatan_gap":
        return [(f"kecamatan_gap tol={f}", _kecamatan_gap_sql(f), {"tol": _tolerance(z, f)})
                for f in (0.5, 2, 8)]
    if layer.geometry == "Point":
        out = [("features", *_point_features(layer))]
        for cell in (16, 64, 256):
            sql, params = _grid_sql(layer, cell)
            out.append((f"grid:{cell}", sql, params))
        return out
    out = []
    for factor in (0.5, 2, 8):
        sql, params = _features_sql(layer, simplify=_tolerance(z, factor),
                                    props=_prop_sql(layer))
        out.append((f"features tol={factor}", sql, params))
    key = (layer.properties[0].name,)
    sql, params = _features_sql(layer, simplify=_tolerance(z, 8), props=_prop_sql(layer, key))
    out.append(("features key-only", sql, params))
    return out


def tile(conn: Connection, layer: Layer | str, z: int, x: int, y: int,
         election_id: int | None, role: str | None = None, *, check_role: bool | None = None,
         max_bytes: int = MAX_TILE_BYTES) -> bytes:
    """The MVT bytes of ``layer`` for tile z/x/y of the election (b'' for an empty tile).

    ``role`` must be allowed to see the layer (NotFound otherwise, as for an unknown layer).
    Without a role (trusted callers: the benchmark, the CLI) nothing is checked; the web
    route always passes the user's role. The MVT layer inside the tile is named after the map
    layer's id.
    """
    check_tile(z, x, y)
    layer = _resolve(layer, role, role is not None if check_role is None else check_role)
    attempts = _attempts(layer, z)
    if _dense(conn, layer, z, x, y, election_id):
        attempts = [(f"agg:{lvl}", _agg_sql(lvl), {}) for lvl in LEVELS]
    last = b""
    for i, (label, sql, extra) in enumerate(attempts):
        params = {**_params(z, x, y, election_id, layer.id), **extra}
        data = bytes(conn.execute(text(sql), params).scalar() or b"")
        if len(data) <= max_bytes:
            if i:
                LOGGER.info("tile %s %d/%d/%d made coarser to fit: %s (%d bytes)", layer.id,
                            z, x, y, label, len(data))
            return data
        last = data
    if last:
        # every representation was too big: say so loudly rather than cut features silently
        raise RuntimeError(f"tile {layer.id} {z}/{x}/{y} stays over {max_bytes} bytes")
    return b""


def _dense(conn: Connection, layer: Layer, z: int, x: int, y: int,
           election_id: int | None) -> bool:
    """A TPS tile between TPS_POINT_MIN_ZOOM and TPS_DENSE_ZOOM with too many TPS to draw
    one by one (a dense city seen whole): it gets per-kelurahan points instead."""
    if plan(layer, z) != "features" or layer.source != "tps" or layer.where \
            or z >= TPS_DENSE_ZOOM:
        return False
    n = conn.execute(text(
        _bounds_cte() + " SELECT count(*) FROM (SELECT 1 FROM b, tps t WHERE "
        "t.election_id = :e AND t.geom && b.q LIMIT :lim) s"),
        {**_params(z, x, y, election_id, layer.id), "lim": MAX_TILE_POINTS + 1}).scalar_one()
    return n > MAX_TILE_POINTS


# --- the floor for the benchmark ----------------------------------------------------------

def raw_tile_sql(layer: Layer | str) -> str:
    """Bare ``ST_AsMVT`` of the layer's own features in a tile: no aggregation, no simplifying,
    no cap. Parameters: z, x, y, margin, extent, buffer, name, election_id (+ the layer's fixed
    filters f0...: use ``raw_tile`` to get them bound)."""
    return _raw(_resolve(layer, None, False))[0]


def _raw(layer: Layer) -> tuple[str, dict]:
    if layer.geometry == "Point":
        return _point_features(layer)
    return _features_sql(layer, simplify=None, props=_prop_sql(layer))


def raw_tile(conn: Connection, layer: Layer | str, z: int, x: int, y: int,
             election_id: int | None) -> bytes:
    check_tile(z, x, y)
    sql, params = _raw(_resolve(layer, None, False))
    params = {**_params(z, x, y, election_id, layer.id), **params}
    return bytes(conn.execute(text(sql), params).scalar() or b"")


# --- what the data looks like now (for ETags and caches) -----------------------------------

def data_version(conn: Connection, election_id: int | None) -> str:
    """Changes whenever anything a tile (or an API page) shows may have changed: the
    analysis results' version, incidents, readiness updates, and any import or edit (all of
    which are in the audit log)."""
    row = conn.execute(text("""
        SELECT (SELECT version FROM analysis_run WHERE election_id = :e),
               (SELECT max(reported_at) FROM incident WHERE election_id = :e),
               (SELECT max(reviewed_at) FROM incident WHERE election_id = :e),
               (SELECT max(id) FROM tps_readiness_history),
               (SELECT max(id) FROM audit_log)"""), {"e": election_id}).one()
    return f"e{election_id}|" + "|".join("" if v is None else str(v) for v in row)


def tile_key(layer: Layer, z: int, x: int, y: int) -> tuple[Any, ...]:
    return (layer.id, layer.source, plan(layer, z), z, x, y)
