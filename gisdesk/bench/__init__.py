"""`make bench`: each product operation next to its floor (raw PostGIS/GDAL doing the same
work on the same data in the same run), at city and national scale.

Modules, one per measured operation: ``tps_import``, ``gap``, ``export``, ``tiles``,
``map_page``, ``incident_post``, ``readiness_post`` (the last two share ``write_load``),
``freshness`` (analysis_freshness) and ``read_under_writes`` (read_p99_under_writes). Each
exposes ``measure(ctx) -> list[dict]`` returning rows
in the shape of :func:`row`. ``databases`` builds the benchmark databases, ``report`` writes
``bench/results.json`` and prints the table. An operation whose product code is not there
yet is reported with status "not available" (its floor is still measured), never faked.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Context:
    """What every measurement gets: the scale, its database, repetitions and a work dir."""

    scale: str                      # city | national
    url: str                        # SQLAlchemy URL of the benchmark database
    election_id: int                # the election measured (city demo or national)
    work: Path                      # scratch directory (CSV, exports)
    reps: int = 3
    quick: bool = False
    log: Callable[[str], None] = print
    extra: dict = field(default_factory=dict)

    @property
    def engine(self):
        from gisdesk.db.engine import get_engine
        return get_engine(self.url)


def timed(fn, reps: int, *, setup=None, teardown=None) -> dict:
    """Run ``fn`` ``reps`` times (``setup``/``teardown`` around each, not timed); return the
    median, all runs and the last result."""
    runs, result = [], None
    for _ in range(max(1, reps)):
        if setup:
            setup()
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
        if teardown:
            teardown()
    return {"median_s": statistics.median(runs), "runs_s": [round(r, 4) for r in runs],
            "result": result}


def percentile(values, q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def row(operation: str, scale: str, *, figure=None, floor=None, unit: str = "s",
        target: str = "", target_ratio: float | None = None, target_abs: float | None = None,
        status: str = "ok", note: str = "", details: dict | None = None,
        floor_name: str = "", higher_is_better: bool = False) -> dict:
    """One line of the results table. ``met`` is judged from ``target_ratio`` (figure /
    floor) or ``target_abs`` (figure itself); None when it cannot be judged."""
    ratio = (figure / floor) if (figure is not None and floor) else None
    met = None
    if status == "ok" and figure is not None:
        if target_ratio is not None and ratio is not None:
            met = ratio >= target_ratio if higher_is_better else ratio <= target_ratio
        elif target_abs is not None:
            met = figure >= target_abs if higher_is_better else figure < target_abs
    return {"operation": operation, "scale": scale, "figure": _round(figure), "unit": unit,
            "floor": _round(floor), "floor_name": floor_name, "ratio": _round(ratio),
            "target": target, "met": met, "status": status, "note": note,
            "details": details or {}}


def _round(v):
    return None if v is None else round(float(v), 4)


def not_available(operation: str, scale: str, why: str, **kw) -> dict:
    return row(operation, scale, status="not available", note=why, **kw)


def run_child(target: str, payload: dict, *, timeout: float) -> dict:
    """Run ``module:function(payload)`` in a fresh Python process (peak memory of just that
    work, and a hard time limit); the function returns a JSON-able dict. Adds the child's
    peak RSS (VmHWM) in MB as ``peak_rss_mb``."""
    code = ("import json, sys, importlib\n"
            "mod, fn = sys.argv[1].split(':')\n"
            "payload = json.loads(sys.stdin.read())\n"
            "out = getattr(importlib.import_module(mod), fn)(payload)\n"
            "status = open('/proc/self/status').read()\n"
            "hwm = [l for l in status.splitlines() if l.startswith('VmHWM')]\n"
            "out['peak_rss_mb'] = int(hwm[0].split()[1]) / 1024 if hwm else None\n"
            "sys.stdout.write('\\n@@RESULT@@' + json.dumps(out, default=str))\n")
    proc = subprocess.run([sys.executable, "-c", code, target], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0 or "@@RESULT@@" not in proc.stdout:
        raise RuntimeError(f"{target} failed: {proc.stderr.strip()[-1500:]}")
    return json.loads(proc.stdout.rsplit("@@RESULT@@", 1)[1])


def machine() -> dict:
    """Where the figures come from: cores, memory, versions."""
    import platform
    info = {"nproc": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()
        info["ram_gb"] = round(int(mem[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        cpu = [l for l in Path("/proc/cpuinfo").read_text().splitlines()
               if l.startswith("model name")]
        info["cpu"] = cpu[0].split(":", 1)[1].strip() if cpu else None
    except OSError:
        pass
    try:
        out = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True)
        info["gdal"] = out.stdout.strip()
    except OSError:
        info["gdal"] = None
    import shapely
    info["geos"] = ".".join(map(str, shapely.geos_version))
    return info


# the live-analysis ones write (and put the data back): last
OPERATIONS = ("tps_import", "gap", "export", "tiles", "map_page", "incident_post",
              "readiness_post", "freshness", "read_under_writes")


def _versions(url: str) -> dict:
    from sqlalchemy import text
    from gisdesk.db.engine import get_engine
    with get_engine(url).connect() as conn:
        return {"postgresql": conn.execute(text("SHOW server_version")).scalar(),
                "postgis": conn.execute(text("SELECT postgis_lib_version()")).scalar()}


def measure_scale(ctx: Context, only=None) -> list[dict]:
    """Every operation for one prepared database; a crash in one is reported, not fatal."""
    import importlib
    import tempfile
    import traceback
    from sqlalchemy import text
    rows: list[dict] = []
    # an app instance and a planner token for in-process route checks (tiles)
    from gisdesk import accounts
    with ctx.engine.begin() as conn:
        uid = conn.execute(text("SELECT id FROM users WHERE role IN ('planner', 'admin') "
                                "ORDER BY role = 'planner' DESC, id LIMIT 1")).scalar()
        ctx.extra["token"] = accounts.create_token(conn, uid, "bench", actor="bench") \
            if uid else None
    from gisdesk.web import create_app
    ctx.extra["app"] = create_app({"database_url": ctx.url, "home": Path(tempfile.mkdtemp()),
                                   "secret_key": "bench"})
    for name in OPERATIONS:
        if only and name not in only:
            continue
        ctx.log(f"[{ctx.scale}] {name} ...")
        t0 = time.perf_counter()
        try:
            got = importlib.import_module(f"gisdesk.bench.{name}").measure(ctx)
        except Exception as exc:
            got = [row(name, ctx.scale, status="error", note=f"{type(exc).__name__}: {exc}"[:300],
                       details={"traceback": traceback.format_exc()[-2000:]})]
        for r in got:
            r["details"]["measured_in_s"] = round(time.perf_counter() - t0, 1)
        rows.extend(got)
        for r in got:
            ctx.log(f"    {r['operation']}: figure={r['figure']} floor={r['floor']} "
                    f"ratio={r['ratio']} {r['status']} {r['note']}")
    return rows


def run(scales, *, quick: bool = False, reuse: bool = False, only=None,
        output: Path | None = None, log=print, national_spec=None,
        db_names: dict | None = None) -> dict:
    """Prepare each scale's database, measure, write the JSON (if ``output``), print."""
    import tempfile
    from gisdesk.bench import databases, report
    rows: list[dict] = []
    prepared = {}
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="gisdesk-bench-"))
    for scale in scales:
        url, eid, prep = databases.prepare(scale, reuse=reuse, log=log, spec=national_spec,
                                           name=(db_names or {}).get(scale))
        prepared[scale] = prep
        info.update(_versions(url))
        ctx = Context(scale=scale, url=url, election_id=eid, work=work / scale,
                      reps=1 if quick else 3, quick=quick, log=log)
        ctx.work.mkdir(parents=True, exist_ok=True)
        rows.extend(measure_scale(ctx, only))
        from gisdesk.db.engine import get_engine
        get_engine(url).dispose()
    payload = {"machine": info, "quick": quick, "scales": list(scales), "prepared": prepared,
               "results": rows}
    if output is not None:
        report.write(output, payload)
    log("\n" + report.table(rows))
    return payload
