"""GeoJSON export of the demo's 1,248 TPS next to ogr2ogr reading the same database (the raw
floor). Figures are printed and recorded, not asserted: speed is judged by `make bench`."""
from __future__ import annotations

import json
import os
import subprocess
import time

from gisdesk import layers as registry
from gisdesk.layers import exports
from gisdesk.config import load_settings
from gisdesk.db.backup import libpq_env


def _timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def test_geojson_export_time_next_to_ogr2ogr(engine, demo, as_role, tmp_path, capsys,
                                             record_property):
    layer = registry.load(load_settings().layers_dir)["tps"]
    election_id = _election(engine)
    ours, web, raw = tmp_path / "ours.geojson", tmp_path / "web.geojson", tmp_path / "raw.geojson"

    def export_file():
        exports.write_file(engine, [layer], ours, "geojson", exports.Selection(),
                           election_id=election_id, actor="bench",
                           via="bench")

    def download():
        web.write_bytes(as_role("planner").get("/export/tps.geojson").data)

    env = {**os.environ, **libpq_env(demo["url"])}

    def ogr2ogr():
        raw.unlink(missing_ok=True)
        proc = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(raw), "PG:", "tps"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr

    figures = {"export_file_s": _timed(export_file), "web_download_s": _timed(download),
               "ogr2ogr_s": _timed(ogr2ogr)}
    for path in (ours, web, raw):
        assert len(json.loads(path.read_text())["features"]) == 1248
    figures["ratio_file_vs_ogr2ogr"] = figures["export_file_s"] / figures["ogr2ogr_s"]
    for key, value in figures.items():
        record_property(key, round(value, 4))
    with capsys.disabled():
        print("\nGeoJSON export, 1,248 TPS: " + ", ".join(
            f"{k}={v:.3f}" for k, v in figures.items()))


def _election(engine) -> int:
    from gisdesk.analysis.catchup import for_command
    return for_command(engine)
