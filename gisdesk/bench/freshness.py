"""`analysis_freshness`: seconds from the commit of a write until the OGC API on the primary
shows the new results version with the change (target <= 2 s).

A real deployment: `gisdesk serve --workers 2` (gunicorn) with its one analysis worker
beside it. Two kinds of write, each a few times: one readiness change (the TPS's kelurahan
gains a not-ready TPS) and one incident verification that raises a class (a heavy incident
next to a kurang-rawan TPS; the kelurahan's ``incidents_recent`` grows). The clock starts
right after the write's commit and stops when a GET of the kelurahan shows both a higher
``analysis.version`` and the change (after one uncounted write that warms the web and
worker processes). Writes go through the product's functions
(gisdesk.entry.readiness.update, gisdesk.entry.review.review); the bench data is put back
afterwards (gisdesk.bench.live_data).
"""
from __future__ import annotations

import time
import uuid

import requests

from gisdesk.bench import Context, live_data, percentile, row
from gisdesk.bench.server import serve

TARGET_S = 2.0
TIMEOUT_S = 60.0


def _kelurahan(session, base: str, kode: str) -> tuple[int, dict]:
    body = session.get(f"{base}/api/collections/kelurahan/items",
                       params={"kelurahan_kode": kode, "limit": 1}, timeout=30).json()
    return body["analysis"]["version"] or 0, body["features"][0]["properties"]


def _wait(session, base: str, kode: str, version: int, changed) -> float:
    """Seconds until the kelurahan shows a newer version with the change (polled every
    20 ms); the caller starts the clock at the commit."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < TIMEOUT_S:
        got, props = _kelurahan(session, base, kode)
        if got > version and changed(props):
            return time.perf_counter() - t0
        time.sleep(0.02)
    raise TimeoutError(f"kelurahan {kode}: no new results within {TIMEOUT_S:.0f} s")


def measure(ctx: Context) -> list[dict]:
    n = 2 if ctx.quick else 5
    samples: dict[str, list[float]] = {"readiness": [], "verification": []}
    with live_data.restored(ctx.engine, ctx.election_id) as data, \
            serve(ctx.url, ctx.work / "freshness-home", workers=2, log=ctx.log) as base:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {ctx.extra['token']}"
        live_data.settle(ctx.engine)
        warm, *picked = data.ready_tps(n + 1)
        data.readiness(warm[0], ready=False)          # not counted: warms both processes
        live_data.settle(ctx.engine)
        for tps, kode in picked:
            version, before = _kelurahan(session, base, kode)
            data.readiness(tps, ready=False)                    # commits
            t_commit = time.perf_counter()
            _wait(session, base, kode, version,
                  lambda p: p["not_ready"] == before["not_ready"] + 1)
            samples["readiness"].append(time.perf_counter() - t_commit)
        for tps, kode in data.calm_tps(n):
            incident = data.report_near(tps, str(uuid.uuid4()))
            live_data.settle(ctx.engine)                        # the report itself is queued too
            version, before = _kelurahan(session, base, kode)
            data.verify(incident)                               # commits
            t_commit = time.perf_counter()
            _wait(session, base, kode, version,
                  lambda p: p["incidents_recent"] == before["incidents_recent"] + 1)
            samples["verification"].append(time.perf_counter() - t_commit)
        raised = data.escalated()
    rows = []
    for kind, runs in samples.items():
        rows.append(row(
            "analysis_freshness", ctx.scale, figure=max(runs), unit="s",
            target=f"<= {TARGET_S:.0f} s (slowest of {len(runs)})", target_abs=TARGET_S,
            note=f"{kind}: commit -> /api/collections/kelurahan/items shows the new version",
            details={"write": kind, "runs_s": [round(r, 3) for r in runs],
                     "median_s": round(percentile(runs, 0.5), 3),
                     "tps_escalated_by_the_verifications": raised if kind != "readiness"
                     else None}))
    return rows
