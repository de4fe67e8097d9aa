"""Incident entry under load: ``POST /api/incidents`` (bearer token, new UUID each, a point
15 m from a TPS) from 20 keep-alive clients to ``gisdesk serve --workers 2``, and one
sequential client; next to the floor: the statements the product sends per report (token
lookup, the one-statement placement + insert + audit append) on 20 raw connections. Both
load generators run in their own process (``write_load``). After the run: every 201 is
exactly one stored report, and the audit chain is intact with nothing left unchained."""
from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
from sqlalchemy import text

from gisdesk.bench import Context, write_load
from gisdesk.bench.server import serve

REPORTER = "bench_pelapor"
OCCURRED = "2024-02-14T01:30:00+00:00"


def token(ctx: Context) -> str:
    """A fresh API token of the bench desk user (created once per database)."""
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
                          "(reporter_name = 'bench' OR description LIKE 'Uji beban%')"),
                     {"e": ctx.election_id})


def settle(ctx: Context, counter_sql: str, before: int, expected: dict) -> dict:
    """Counts after a run (every 201 stored once, nothing else) and the audit chain: wait
    for the sequencer beside the server to chain everything, then verify it strictly."""
    import time
    from gisdesk import audit
    deadline = time.monotonic() + 30
    with ctx.engine.connect() as conn:
        while True:
            waiting = conn.execute(text("SELECT count(*) FROM audit_unchained")).scalar()
            conn.rollback()
            if waiting == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        stored = conn.execute(text(counter_sql), {"e": ctx.election_id}).scalar() - before
        problems = audit.verify_chain(conn, unchained_grace_s=0)
    out = {"stored": stored, "expected": expected["created"], "waiting": waiting,
           "audit_problems": len(problems)}
    out["ok"] = stored == expected["created"] and waiting == 0 and not problems
    return out


def measure(ctx: Context) -> list[dict]:
    from gisdesk.accounts import token_digest
    from gisdesk.analysis.changes import CHANNEL
    from gisdesk.audit_sequencer import drain
    from gisdesk.entry.incidents import FAST_INSERT
    from gisdesk.entry.taxonomy import load_taxonomy
    per_client = 10 if ctx.quick else 40
    total, sequential = write_load.CLIENTS * per_client, 25 if ctx.quick else 200
    points = _points(ctx, total * 2 + sequential)
    tok, tax = token(ctx), load_taxonomy()
    sql = write_load.psycopg_sql(FAST_INSERT)
    latest = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()

    def statement(lon, lat):
        return [(sql, {"id": str(uuid.uuid4()), "category": "intimidasi", "severity": "ringan",
                       "description": "bench", "occurred_at": OCCURRED, "reporter_id": None,
                       "reporter_name": "bench", "lon": lon, "lat": lat, "hash": "0" * 64,
                       "actor": "bench", "far": tax.far_from_tps_m, "latest": latest,
                       "scope": None, "channel": CHANNEL})]

    def body(lon, lat):
        return ["/api/incidents", {"id": str(uuid.uuid4()), "category": "intimidasi",
                                   "severity": "ringan", "occurred_at": "2024-02-14T09:30",
                                   "description": "Uji beban (bench)", "lon": lon, "lat": lat}]
    count_sql = ("SELECT count(*) FROM incident WHERE election_id = :e "
                 "AND description LIKE 'Uji beban%'")
    with ctx.engine.connect() as conn:
        before = conn.execute(text(count_sql), {"e": ctx.election_id}).scalar()
    floor_payload = {"conninfo": write_load.conninfo(ctx.url), "per_client": per_client,
                     "token_sha256": token_digest(tok), "datetimes": ["occurred_at", "latest"],
                     "writes": [statement(*p) for p in points[:total]]
                     + [statement(*p) for p in points[2 * total:]]}
    http_payload = {"token": tok, "per_client": per_client,
                    "bodies": [body(*p) for p in points[total:2 * total]],
                    "sequential": [body(*p) for p in points[2 * total:]]}
    try:
        rows = write_load.measure(
            ctx, "incident_post", floor_payload=floor_payload, http_payload=http_payload,
            serve_ctx=serve(ctx.url, ctx.work / f"home_api_{ctx.scale}", workers=2),
            settle=lambda: settle(ctx, count_sql, before,
                                  {"created": total + sequential}))
    finally:
        drain(ctx.engine)
        _cleanup(ctx)
    return rows
