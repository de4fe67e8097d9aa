"""One vector tile at z6, z10 and z14 over the densest kelurahan: the app's tile endpoint
(a ``/tiles/...`` route with z/x/y, if the app has one) next to the floor: raw
``ST_AsMVT`` SQL for the same tile (TPS points + kelurahan polygons). Targets: <= 1.5x the
floor, and no tile over 500 KB (the raw floor tile size is reported too)."""
from __future__ import annotations

import math
import time

from sqlalchemy import text

from gisdesk.bench import Context, not_available, row, timed

ZOOMS = (6, 10, 14)
MAX_TILE_BYTES = 500 * 1024

FLOOR_SQL = """
    WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env),
    pts AS (
      SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.env, 4096, 64, true) AS geom,
             t.kode, t.dpt
      FROM tps t, b
      WHERE t.election_id = :e AND t.geom && ST_Transform(b.env, 4326)),
    kel AS (
      SELECT ST_AsMVTGeom(ST_Transform(k.geom, 3857), b.env, 4096, 64, true) AS geom,
             k.kode, k.nama
      FROM kelurahan k, b
      WHERE k.geom && ST_Transform(b.env, 4326))
    SELECT coalesce((SELECT ST_AsMVT(pts.*, 'tps') FROM pts), ''::bytea)
        || coalesce((SELECT ST_AsMVT(kel.*, 'kelurahan') FROM kel), ''::bytea)"""


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def densest_point(ctx: Context) -> tuple[float, float]:
    with ctx.engine.connect() as conn:
        r = conn.execute(text("""
            SELECT ST_X(c), ST_Y(c) FROM (
              SELECT ST_PointOnSurface(k.geom) AS c FROM kelurahan k
              JOIN (SELECT kelurahan_kode, count(*) n FROM tps WHERE election_id = :e
                    GROUP BY 1 ORDER BY n DESC LIMIT 1) d ON d.kelurahan_kode = k.kode) s"""),
            {"e": ctx.election_id}).one()
    return float(r[0]), float(r[1])


def _tile_route(app):
    for rule in app.url_map.iter_rules():
        if "tile" in rule.rule and {"z", "x", "y"} <= set(rule.arguments) \
                and "GET" in (rule.methods or ()):
            return rule
    return None


def measure(ctx: Context) -> list[dict]:
    lon, lat = densest_point(ctx)
    reps = 2 if ctx.quick else 5
    engine = ctx.engine
    floors = {}
    for z in ZOOMS:
        x, y = tile_of(lon, lat, z)

        def one(z=z, x=x, y=y):
            with engine.connect() as conn:
                return conn.execute(text(FLOOR_SQL), {"z": z, "x": x, "y": y,
                                                      "e": ctx.election_id}).scalar_one()
        one()   # warm the cache: both sides are measured warm
        res = timed(one, reps)
        floors[z] = {"x": x, "y": y, "median_s": res["median_s"],
                     "bytes": len(res["result"] or b"")}
    app, route = ctx.extra.get("app"), None
    if app is not None:
        route = _tile_route(app)
    rows = []
    for z in ZOOMS:
        f = floors[z]
        name = f"tile_z{z}"
        details = {"tile": [z, f["x"], f["y"]], "floor_bytes": f["bytes"],
                   "floor_over_500kb": f["bytes"] > MAX_TILE_BYTES}
        if route is None:
            rows.append(not_available(
                name, ctx.scale, "no /tiles/{z}/{x}/{y} route in the app yet; floor measured",
                floor=f["median_s"], details=details, target="<= 1.5x floor, <= 500 KB",
                floor_name="raw ST_AsMVT"))
            continue
        args = {a: "tps" for a in route.arguments if a not in ("z", "x", "y")}
        url = route.build({**args, "z": z, "x": f["x"], "y": f["y"]}, append_unknown=False)[1] \
            if hasattr(route, "build") else None
        client = app.test_client()
        headers = {"Authorization": f"Bearer {ctx.extra['token']}"}
        client.get(url, headers=headers)
        runs, body, status = [], b"", None
        for _ in range(reps):
            t0 = time.perf_counter()
            resp = client.get(url, headers=headers)
            body = resp.get_data()
            runs.append(time.perf_counter() - t0)
            status = resp.status_code
        runs.sort()
        details.update(url=url, status=status, bytes=len(body), runs_s=runs)
        if status != 200:
            rows.append(row(name, ctx.scale, floor=f["median_s"], status="error",
                            note=f"HTTP {status} from {url}", details=details,
                            floor_name="raw ST_AsMVT", target="<= 1.5x floor, <= 500 KB"))
            continue
        r = row(name, ctx.scale, figure=runs[len(runs) // 2], floor=f["median_s"],
                target="<= 1.5x floor, <= 500 KB", target_ratio=1.5, details=details,
                floor_name="raw ST_AsMVT", note=f"{len(body) / 1024:.0f} KB")
        if len(body) > MAX_TILE_BYTES:
            r["met"] = False
        rows.append(r)
    return rows
