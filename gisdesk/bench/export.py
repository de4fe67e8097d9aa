"""GeoJSON export of all TPS: the product's writer (``gisdesk.layers.exports.write_file``, as
`gisdesk export tps -o FILE` runs it; else ``layer_sources.geojson_feature_collection``)
in a child process (its peak RSS is the memory figure), next to the floor: the same rows
as one ``ST_AsGeoJSON(record)`` per row from a server-side cursor, streamed to a file; and
``ogr2ogr -f GeoJSON`` from the same query. Targets: <= 1.5x floor, peak RSS < 300 MB."""
from __future__ import annotations

import os
import subprocess
import time

from gisdesk.bench import Context, row, run_child, timed
from gisdesk.db.backup import libpq_env


def _layer(name: str = "tps"):
    from gisdesk import layers as registry
    from gisdesk.config import load_settings
    return registry.load(load_settings().layers_dir)[name]


def source_sql(election_id: int) -> str:
    """The tps layer's own source query with the election filled in (floor = same rows)."""
    from gisdesk.layers.sources import SOURCES
    layer = _layer()
    src = SOURCES[layer.source]
    cols = ", ".join(f's."{p.name}"' for p in layer.properties)
    return (f"SELECT {cols}, s.geom FROM ({src.sql.replace(':election_id', str(int(election_id)))}) s "
            f"ORDER BY s.{src.order_by}")


def child_export(payload: dict) -> dict:
    from gisdesk.db.engine import get_engine
    engine = get_engine(payload["url"])
    layer = _layer()
    path = payload["path"]
    with engine.connect() as conn:   # connection set up outside the timing
        conn.exec_driver_sql("SELECT 1")
    t0 = time.perf_counter()
    try:
        from gisdesk.layers import exports
        how = "gisdesk.layers.exports.write_file"
        counts = exports.write_file(engine, [layer], path, "geojson", exports.Selection(),
                                    election_id=payload["election_id"], actor="bench",
                                    via="bench")
        n = counts[layer.id]
    except ImportError:
        from gisdesk.layers.sources import geojson_feature_collection
        how = "layer_sources.geojson_feature_collection"
        n = 0
        with engine.connect() as conn, open(path, "w", encoding="utf-8") as fh:
            for chunk in geojson_feature_collection(conn, layer,
                                                    election_id=payload["election_id"]):
                fh.write(chunk)
                n += 1
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "features": n, "bytes": os.path.getsize(path), "how": how}


def floor_stream(ctx: Context, path) -> dict:
    sql = f"SELECT ST_AsGeoJSON(q.*, 'geom', 6) FROM ({source_sql(ctx.election_id)}) q"
    engine = ctx.engine
    n = 0
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor(name="bench_export") as cur, open(path, "w", encoding="utf-8") as fh:
            cur.itersize = 5000
            cur.execute(sql)
            fh.write('{"type": "FeatureCollection", "features": [\n')
            for (feature,) in cur:
                if n:
                    fh.write(",\n")
                fh.write(feature)
                n += 1
            fh.write("\n]}\n")
        raw.rollback()
    return {"features": n, "bytes": os.path.getsize(path)}


def ogr(ctx: Context, path) -> dict:
    if os.path.exists(path):
        os.unlink(path)
    env = {**os.environ, **libpq_env(ctx.url)}
    proc = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(path), "PG:", "-sql",
                           source_sql(ctx.election_id), "-lco", "COORDINATE_PRECISION=6"],
                          env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-500:])
    return {"bytes": os.path.getsize(path)}


def measure(ctx: Context) -> list[dict]:
    reps = 1 if ctx.scale == "national" else ctx.reps
    floor_path = ctx.work / f"floor_{ctx.scale}.geojson"
    floor = timed(lambda: floor_stream(ctx, floor_path), reps)
    ogr_path = ctx.work / f"ogr_{ctx.scale}.geojson"
    try:
        ogr_t = timed(lambda: ogr(ctx, ogr_path), reps)
        ogr_s, ogr_bytes = ogr_t["median_s"], ogr_t["result"]["bytes"]
    except Exception as exc:  # GDAL missing or failing: say so, keep the rest
        ogr_s, ogr_bytes = None, str(exc)[-200:]
    details = {"floor_runs": floor["runs_s"], "floor_bytes": floor["result"]["bytes"],
               "features": floor["result"]["features"], "ogr2ogr_s": ogr_s,
               "ogr2ogr_bytes": ogr_bytes}
    out_path = ctx.work / f"product_{ctx.scale}.geojson"
    try:
        runs = [run_child("gisdesk.bench.export:child_export",
                          {"url": ctx.url, "election_id": ctx.election_id,
                           "path": str(out_path)},
                          timeout=3600 if ctx.scale == "national" else 600)
                for _ in range(reps)]
    except Exception as exc:
        return [row("geojson_export", ctx.scale, floor=floor["median_s"], status="error",
                    note=str(exc)[-300:], target="<= 1.5x floor", details=details,
                    floor_name="streaming ST_AsGeoJSON")]
    figure = sorted(r["seconds"] for r in runs)[len(runs) // 2]
    rss = max(r.get("peak_rss_mb") or 0 for r in runs)
    details.update(product_runs=[round(r["seconds"], 4) for r in runs],
                   product_bytes=runs[-1]["bytes"], product_features=runs[-1]["features"],
                   how=runs[-1]["how"])
    for p in (floor_path, ogr_path, out_path):
        if p.exists() and not ctx.extra.get("keep_files"):
            p.unlink()
    return [
        row("geojson_export", ctx.scale, figure=figure, floor=floor["median_s"],
            target="<= 1.5x floor", target_ratio=1.5, details=details,
            floor_name="streaming ST_AsGeoJSON",
            note=f"ogr2ogr {ogr_s:.2f} s" if isinstance(ogr_s, float) else "ogr2ogr failed"),
        row("geojson_export_rss", ctx.scale, figure=rss, unit="MB", target="< 300 MB",
            target_abs=300.0, details={"peak_rss_mb_runs": [r.get("peak_rss_mb") for r in runs]},
            floor_name="-"),
    ]
