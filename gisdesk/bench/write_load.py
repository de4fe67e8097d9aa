"""Write-path load, shared by ``incident_post`` and ``readiness_post``: each in its own process.

- The floor: the same SQL statements the product sends per write (token lookup, then the
  write statements), over ``CLIENTS`` connections with raw psycopg, no HTTP, no app layers.
- The product: ``CLIENTS`` HTTP/1.1 keep-alive clients against ``gisdesk serve --workers 2``,
  plus one sequential client for the median of a single write.
Both run in a child process (:func:`gisdesk.bench.run_child`), so the load generator never
shares its interpreter with the server or the benchmark harness. Targets (issue 15): rate
>= 0.5x the floor's and >= 300/s, p99 <= 4x the floor's, sequential median <= 3 ms.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import time
from typing import Callable

from gisdesk.bench import percentile, row, run_child

CLIENTS = 20
RATE_RATIO, P99_RATIO, SEQUENTIAL_MS, RATE_ABS = 0.5, 4.0, 3.0, 300.0



def psycopg_sql(sql: str) -> str:
    """A SQLAlchemy ``text()`` statement (``:name`` parameters) as psycopg sends it."""
    from gisdesk.db.hot import psycopg_sql as compiled
    return compiled(sql)


def token_check(token_sha256: str) -> tuple[str, dict]:
    """The token lookup as the product sends it (``gisdesk.accounts.user_for_token``, with
    the address's failure count of the web path) and its parameters."""
    from gisdesk.accounts import TOKEN_CHECK
    return TOKEN_CHECK.driver_sql, {"h": token_sha256, "u": None,
                                    "b": "token:addr:127.0.0.1", "s": 900}


def conninfo(url: str) -> dict:
    from sqlalchemy import make_url
    u = make_url(url)
    info = {"dbname": u.database, "user": u.username, "password": u.password,
            "host": u.query.get("host") or u.host, "port": u.query.get("port") or u.port}
    return {k: v for k, v in info.items() if v}


def _clients(work: Callable[[int, int], None], per_client: int, n: int = CLIENTS) -> dict:
    """n threads each calling work(client, k) per_client times: latencies, rate, errors."""
    lat: list[list[float]] = [[] for _ in range(n)]
    errors: list[str] = []
    barrier = threading.Barrier(n + 1)

    def client(c):
        barrier.wait()
        for k in range(per_client):
            t0 = time.perf_counter()
            try:
                work(c, k)
            except Exception as exc:  # recorded, the run goes on
                errors.append(repr(exc)[:200])
            lat[c].append(time.perf_counter() - t0)
    threads = [threading.Thread(target=client, args=(c,)) for c in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    flat = [x for per in lat for x in per]
    return {"p50_ms": percentile(flat, 0.5) * 1000, "p99_ms": percentile(flat, 0.99) * 1000,
            "per_s": len(flat) / wall, "n": len(flat), "errors": len(errors),
            "first_errors": errors[:5]}


def floor_child(payload: dict) -> dict:
    """(child process) The product's statements for each prepared write, on raw psycopg
    connections in autocommit, as the product sends them: CLIENTS at once, then the writes
    left over one after another on one connection."""
    import psycopg
    from psycopg.types.json import Jsonb
    info, per_client = payload["conninfo"], payload["per_client"]
    conns = [psycopg.connect(**info, autocommit=True) for _ in range(CLIENTS)]
    writes = payload["writes"]

    datetimes = set(payload.get("datetimes", ()))

    def value(key, v):
        if isinstance(v, list):
            return [value(key, x) for x in v]
        if isinstance(v, dict):
            return Jsonb(v)
        return dt.datetime.fromisoformat(v) if key in datetimes and v else v

    def params(p):
        return {k: value(k, v) for k, v in p.items()}

    token_sql, token_params = token_check(payload["token_sha256"])

    def work(c, k):
        conn = conns[c]
        conn.execute(token_sql, token_params).fetchone()
        for sql, p in writes[c * per_client + k]:
            conn.execute(sql, params(p)).fetchall()
    out = _clients(work, per_client)
    rest = writes[CLIENTS * per_client:]
    out["sequential"] = _clients(lambda c, k: work(0, CLIENTS * per_client + k), len(rest), n=1)
    for conn in conns:
        conn.close()
    return out


def http_child(payload: dict) -> dict:
    """(child process) CLIENTS keep-alive HTTP clients POSTing the prepared bodies, then one
    sequential client; statuses counted."""
    host, port, token = payload["host"], payload["port"], payload["token"]
    bodies, per_client = payload["bodies"], payload["per_client"]
    statuses: dict[str, int] = {}
    local = threading.local()
    lock = threading.Lock()

    def post(path, body):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json",
                              "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        if resp.will_close:
            conn.close()
            local.conn = None
        with lock:
            statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
        if resp.status not in (200, 201):
            raise RuntimeError(f"HTTP {resp.status}")

    concurrent = _clients(lambda c, k: post(*bodies[c * per_client + k]), per_client)
    local.conn = None
    sequential = _clients(lambda c, k: post(*payload["sequential"][k]),
                          len(payload["sequential"]), n=1)
    return {"concurrent": concurrent, "sequential": sequential, "statuses": statuses}


def measure(ctx, name: str, *, floor_payload: dict, http_payload: dict, serve_ctx,
            settle: Callable[[], dict]) -> list[dict]:
    """Floor and product for one kind of write, in the same run; rows for the table.
    ``settle()`` runs while the server (and its audit sequencer) is still up: it checks
    counts and the audit chain and returns what it found."""
    floor = run_child("gisdesk.bench.write_load:floor_child", floor_payload, timeout=900)
    with serve_ctx as base:
        host, port = base.split("//")[1].split(":")
        got = run_child("gisdesk.bench.write_load:http_child",
                        {**http_payload, "host": host, "port": int(port)}, timeout=900)
        checks = settle()
    conc, seq = got["concurrent"], got["sequential"]
    floor_errors = floor["errors"] + floor["sequential"]["errors"]
    ok = (not conc["errors"] and not seq["errors"] and not floor_errors
          and checks.get("ok", False))
    status = "ok" if ok else "error"
    note = "" if ok else (f"{conc['errors'] + seq['errors']} failed requests, {floor_errors} "
                          f"failed floor writes; checks {checks}")
    details = {"floor": floor, "product": conc, "sequential": seq, "statuses": got["statuses"],
               "checks": checks, "clients": CLIENTS, "server": "gunicorn --workers 2",
               "floor_kind": "same statements, raw psycopg, 20 connections, own process"}
    rate = row(f"{name}_rate", ctx.scale, figure=conc["per_s"], floor=floor["per_s"],
               unit="req/s", target=f">= {RATE_RATIO}x floor and >= {RATE_ABS:.0f}/s",
               details=details, status=status, note=note, floor_name="same SQL, 20 conns",
               higher_is_better=True)
    if status == "ok":
        rate["met"] = bool(conc["per_s"] >= RATE_RATIO * floor["per_s"]
                           and conc["per_s"] >= RATE_ABS)
    return [
        rate,
        row(f"{name}_p99", ctx.scale, figure=conc["p99_ms"], floor=floor["p99_ms"], unit="ms",
            target=f"<= {P99_RATIO:g}x floor", target_ratio=P99_RATIO, status=status,
            note=note or f"p50 {conc['p50_ms']:.1f} ms (floor {floor['p50_ms']:.2f} ms)",
            floor_name="same SQL, 20 conns"),
        row(f"{name}_sequential_p50", ctx.scale, figure=seq["p50_ms"],
            floor=floor["sequential"]["p50_ms"], unit="ms", target=f"<= {SEQUENTIAL_MS:g} ms",
            target_abs=SEQUENTIAL_MS, status=status, floor_name="same SQL, 1 conn",
            note=note or f"one client, {seq['n']} requests"),
    ]
