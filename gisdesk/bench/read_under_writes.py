"""`read_p99_under_writes`: p99 of `GET /api/collections/kelurahan/items?limit=100` from 8
reader threads while a separate process writes 50 times a second (80 % readiness changes,
20 % incident verifications), next to the same reads with no writes; `gisdesk serve
--workers 2` (gunicorn) with its analysis worker. Target: <= 3x.

60 s per phase (10 s with --quick). The writer is a child process (its own interpreter and
connections), pacing itself to the rate; what it managed is reported.
"""
from __future__ import annotations

import threading
import time
import uuid

import requests

from gisdesk.bench import Context, live_data, percentile, row, run_child
from gisdesk.bench.server import serve

READERS = 8
RATE = 50                     # writes per second
WRITERS = 4                   # threads of the writer process
TARGET_RATIO = 3.0


def _read(base: str, token: str, seconds: float) -> list[float]:
    """Latencies of the readers' GETs over ``seconds``."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def reader():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            response = session.get(f"{base}/api/collections/kelurahan/items",
                                   params={"limit": 100}, timeout=120)
            response.raise_for_status()
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def writer(payload: dict) -> dict:
    """In a child process: RATE writes a second for ``seconds``, 1 in 5 a verification, from
    WRITERS threads (one write waits for its commit; several keep the rate)."""
    from gisdesk.db.engine import get_engine
    data = live_data.LiveData(get_engine(payload["url"]), payload["election_id"])
    tps = [t for t, _ in payload["tps"]]
    incidents = list(payload["incidents"])
    done = {"readiness": 0, "verification": 0, "late": 0}
    lock = threading.Lock()
    start = time.perf_counter()
    n = int(payload["seconds"] * RATE)

    def work(k: int) -> None:
        for i in range(k, n, WRITERS):
            pause = start + i / RATE - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            with lock:
                incident = incidents.pop() if i % 5 == 4 and incidents else None
                done["late"] += pause < -0.5
            if incident:
                data.verify(incident)
            else:
                data.readiness(tps[i % len(tps)], ready=(i // len(tps)) % 2 == 1)
            with lock:
                done["verification" if incident else "readiness"] += 1
    threads = [threading.Thread(target=work, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {**done, "seconds": elapsed, "rate": (done["readiness"] + done["verification"])
            / elapsed, "touched": sorted(data.touched)}


def measure(ctx: Context) -> list[dict]:
    seconds = 10.0 if ctx.quick else 60.0
    token = ctx.extra["token"]
    with live_data.restored(ctx.engine, ctx.election_id) as data, \
            serve(ctx.url, ctx.work / "read-home", workers=2, log=ctx.log) as base:
        tps = data.ready_tps(200)
        incidents = [data.report_near(t, str(uuid.uuid4()))
                     for t, _ in data.calm_tps(int(seconds * RATE / 5) + 5)]
        live_data.settle(ctx.engine)
        _read(base, token, 3.0)                                 # warm up
        quiet = _read(base, token, seconds)
        result: dict = {}

        def write() -> None:
            try:
                result.update(run_child("gisdesk.bench.read_under_writes:writer",
                                        {"url": ctx.url, "election_id": ctx.election_id,
                                         "tps": tps, "incidents": incidents,
                                         "seconds": seconds}, timeout=seconds * 5))
            except Exception as exc:   # reported in the row, not lost in the thread
                result["error"] = f"{type(exc).__name__}: {exc}"[:300]
        child = threading.Thread(target=write)
        child.start()
        busy = _read(base, token, seconds)
        child.join()
        data.touched.update(result.get("touched", ()))
        live_data.settle(ctx.engine)
    p99_quiet, p99_busy = percentile(quiet, 0.99), percentile(busy, 0.99)
    if "error" in result:
        return [row("read_p99_under_writes", ctx.scale, status="error",
                    note=f"writer failed: {result['error']}")]
    return [row("read_p99_under_writes", ctx.scale, figure=p99_busy, floor=p99_quiet,
                floor_name="the same reads, no writes", unit="s",
                target=f"<= {TARGET_RATIO:.0f}x", target_ratio=TARGET_RATIO,
                note=f"{READERS} readers, limit=100; writer {result.get('rate', 0):.0f}/s "
                     f"for {seconds:.0f} s ({result.get('readiness')} readiness, "
                     f"{result.get('verification')} verifications); gunicorn 2 workers",
                details={"reads_quiet": len(quiet), "reads_busy": len(busy),
                         "p50_quiet_s": round(percentile(quiet, 0.5), 4),
                         "p50_busy_s": round(percentile(busy, 0.5), 4),
                         "writer": {k: v for k, v in result.items() if k != "touched"}})]
