"""Incident entry under load: 20 client threads POST /api/incidents (bearer token, new
client UUID each) to `gisdesk serve --workers 2` (gunicorn), p50/p99 latency and reports/s;
next to the floor: the same 20 threads running the bare SQL (insert + kelurahan by
ST_Contains + nearest TPS by KNN) on their own connections. Targets: p99 < 25 ms,
>= 300 reports/s."""
from __future__ import annotations

import http.client
import json
import threading
import time
import uuid

import numpy as np
from sqlalchemy import text

from gisdesk.bench import Context, not_available, percentile, row
from gisdesk.bench.server import serve

CLIENTS = 20
REPORTER = "bench_pelapor"

FLOOR_SQL = """
    INSERT INTO incident (id, election_id, category, severity, description, occurred_at,
                          reporter_name, geom, kelurahan_kode, tps_id, tps_distance_m,
                          content_hash)
    SELECT %(id)s, %(e)s, 'intimidasi', 'ringan', 'bench', '2024-02-14T01:30:00Z', %(who)s,
           p.geom, kel.kode, near.id, near.d, md5(%(id)s::text)
    FROM (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom) p
    LEFT JOIN LATERAL (SELECT k.kode FROM kelurahan k WHERE ST_Contains(k.geom, p.geom)
                       ORDER BY k.kode LIMIT 1) kel ON true
    LEFT JOIN LATERAL (
        SELECT c.id, ST_Distance(c.geom::geography, p.geom::geography) AS d
        FROM (SELECT t.id, t.geom FROM tps t WHERE t.election_id = %(e)s
              ORDER BY t.geom <-> p.geom LIMIT 8) c ORDER BY d, c.id LIMIT 1) near ON true"""


def _has_route(url: str) -> bool:
    from gisdesk.web import create_app
    import tempfile
    with tempfile.TemporaryDirectory() as home:
        app = create_app({"database_url": url, "home": home, "secret_key": "x"})
        return any(r.rule == "/api/incidents" and "POST" in (r.methods or ())
                   for r in app.url_map.iter_rules())


def _token(ctx: Context) -> str:
    from gisdesk import accounts
    with ctx.engine.begin() as conn:
        uid = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                           {"u": REPORTER}).scalar()
        if uid is None:
            uid = accounts.create_user(conn, REPORTER, "bench-password-1", "desk_staff",
                                       actor="bench", full_name="Bench reporter")
        return accounts.create_token(conn, uid, "bench", actor="bench")


def _points(ctx: Context, n: int) -> list[tuple[float, float]]:
    """Points ~15 m from randomly chosen TPS (inside the area, near a TPS: no warnings)."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM tps WHERE election_id = :e "
            "ORDER BY md5(kode) LIMIT :n"), {"e": ctx.election_id, "n": n}).all()
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        x, y = rows[i % len(rows)]
        a = rng.uniform(0, 2 * np.pi)
        out.append((round(x + 1.4e-4 * np.cos(a), 7), round(y + 1.4e-4 * np.sin(a), 7)))
    return out


def _cleanup(ctx: Context) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM incident WHERE election_id = :e AND "
                          "(reporter_name = :w OR description = 'bench' OR "
                          "description LIKE 'Uji beban%')"), {"e": ctx.election_id, "w": "bench"})


def _run_clients(work, per_client: int) -> tuple[list[float], float, list]:
    """CLIENTS threads each calling work(i) per_client times; latencies and wall time."""
    lat: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors: list = []
    barrier = threading.Barrier(CLIENTS + 1)

    def client(c):
        barrier.wait()
        for k in range(per_client):
            t0 = time.perf_counter()
            try:
                work(c, k)
            except Exception as exc:  # recorded, the run goes on
                errors.append(repr(exc)[:200])
            lat[c].append(time.perf_counter() - t0)
    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return [x for l in lat for x in l], wall, errors


def measure(ctx: Context) -> list[dict]:
    per_client = 10 if ctx.quick else 40
    total = CLIENTS * per_client
    points = _points(ctx, total + CLIENTS)
    target = "p99 < 25 ms, >= 300/s"
    # floor: bare SQL on 20 connections
    import psycopg
    from sqlalchemy import make_url
    u = make_url(ctx.url)
    conninfo = {"dbname": u.database, "user": u.username, "password": u.password,
                "host": u.query.get("host") or u.host, "port": u.query.get("port") or u.port}
    conns = [psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True)
             for _ in range(CLIENTS)]

    def floor_work(c, k):
        lon, lat = points[c * per_client + k]
        conns[c].execute(FLOOR_SQL, {"id": uuid.uuid4(), "e": ctx.election_id, "who": "bench",
                                     "lon": lon, "lat": lat})
    for c in range(CLIENTS):        # warm-up
        floor_work(c, 0)
    f_lat, f_wall, f_err = _run_clients(floor_work, per_client)
    for c in conns:
        c.close()
    _cleanup(ctx)
    floor_p50, floor_p99 = percentile(f_lat, 0.5) * 1000, percentile(f_lat, 0.99) * 1000
    floor_rate = len(f_lat) / f_wall
    floor_info = {"p50_ms": round(floor_p50, 3), "p99_ms": round(floor_p99, 3),
                  "per_s": round(floor_rate, 1), "errors": len(f_err)}
    if not _has_route(ctx.url):
        return [not_available("incident_post_p99", ctx.scale,
                              "POST /api/incidents not in the app yet; floor measured",
                              floor=floor_p99, unit="ms", details=floor_info, target=target)]
    token = _token(ctx)
    statuses: dict[int, int] = {}
    with serve(ctx.url, ctx.work / f"home_api_{ctx.scale}", workers=2) as base:
        host, port = base.split("//")[1].split(":")

        def post(c, k, warm=False):
            lon, lat = points[total + c] if warm else points[c * per_client + k]
            body = json.dumps({"id": str(uuid.uuid4()), "category": "intimidasi",
                               "severity": "ringan", "occurred_at": "2024-02-14T09:30",
                               "description": "Uji beban (bench)", "lon": lon, "lat": lat})
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("POST", "/api/incidents", body=body,
                         headers={"Content-Type": "application/json",
                                  "Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if not warm:
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            if resp.status not in (200, 201):
                raise RuntimeError(f"HTTP {resp.status}")
        for c in range(CLIENTS):
            try:
                post(c, 0, warm=True)
            except Exception:
                pass
        p_lat, p_wall, p_err = _run_clients(post, per_client)
    _cleanup(ctx)
    p50, p99 = percentile(p_lat, 0.5) * 1000, percentile(p_lat, 0.99) * 1000
    rate = len(p_lat) / p_wall
    details = {"requests": len(p_lat), "clients": CLIENTS, "statuses": statuses,
               "errors": p_err[:5], "n_errors": len(p_err), "p50_ms": round(p50, 3),
               "floor": floor_info, "server": "gunicorn --workers 2"}
    status = "ok" if not p_err else "error"
    note = "" if not p_err else f"{len(p_err)} failed requests"
    return [
        row("incident_post_p99", ctx.scale, figure=p99, floor=floor_p99, unit="ms",
            target="p99 < 25 ms", target_abs=25.0, details=details, status=status,
            note=note or f"p50 {p50:.1f} ms (floor {floor_p50:.2f} ms)",
            floor_name="bare SQL, 20 conns"),
        row("incident_post_rate", ctx.scale, figure=rate, floor=floor_rate, unit="req/s",
            target=">= 300/s", target_abs=300.0, details={}, status=status,
            floor_name="bare SQL, 20 conns", higher_is_better=True),
    ]
