"""Readiness ticks under load: ``POST /api/tps/<kode>/readiness`` (bearer token, the whole
checklist, a new UUID and the device's check time each, random TPS) from 20 keep-alive
clients to ``gisdesk serve --workers 2``, and one sequential client; next to the floor: the
statements the product sends per tick (token lookup, the one-statement write, the answer's
read) on 20 raw connections. After the run: every tick stored once, the audit chain intact
with nothing left unchained."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import numpy as np
from sqlalchemy import text

from gisdesk.bench import Context, write_load
from gisdesk.bench.incident_post import REPORTER, settle, token
from gisdesk.bench.server import serve


def _tps(ctx: Context) -> list[str]:
    with ctx.engine.connect() as conn:
        return list(conn.execute(text("SELECT kode FROM tps WHERE election_id = :e "
                                      "ORDER BY kode"), {"e": ctx.election_id}).scalars())


def measure(ctx: Context) -> list[dict]:
    from gisdesk.accounts import token_digest
    from gisdesk.analysis.changes import CHANNEL
    from gisdesk.audit_sequencer import drain
    from gisdesk.entry.readiness import _READ, WRITE, derive_state
    from gisdesk.entry.taxonomy import load_taxonomy
    per_client = 10 if ctx.quick else 40
    total, sequential = write_load.CLIENTS * per_client, 25 if ctx.quick else 200
    tax, tok, kodes = load_taxonomy(), token(ctx), _tps(ctx)
    rng = np.random.default_rng(11)
    picks = [kodes[i] for i in rng.integers(0, len(kodes), 2 * total + sequential)]
    items = {key: True for key in tax.readiness_keys}
    write_sql, read_sql = write_load.psycopg_sql(WRITE), write_load.psycopg_sql(_READ)
    checked = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).isoformat()

    def statements(kode):
        return [(write_sql, {"uuids": [str(uuid.uuid4())], "kodes": [kode],
                             "states": [derive_state(items, tax)], "items": [items],
                             "notes": [None], "checked": [checked],
                             "missing": [json.dumps([])], "actor": "bench",
                             "scope": None, "channel": CHANNEL}),
                (read_sql, {"k": kode, "n": 50})]

    def body(kode):
        return [f"/api/tps/{kode}/readiness", {"client_uuid": str(uuid.uuid4()),
                                               "items": items, "checked_at": checked}]
    count_sql = ("SELECT count(*) FROM tps_readiness_history h JOIN tps t ON t.id = h.tps_id "
                 f"WHERE t.election_id = :e AND h.recorded_by = '{REPORTER}'")
    with ctx.engine.connect() as conn:
        before = conn.execute(text(count_sql), {"e": ctx.election_id}).scalar()
    floor_payload = {"conninfo": write_load.conninfo(ctx.url), "per_client": per_client,
                     "token_sha256": token_digest(tok), "datetimes": ["checked"],
                     "writes": [statements(k) for k in picks[:total]]
                     + [statements(k) for k in picks[2 * total:]]}
    http_payload = {"token": tok, "per_client": per_client,
                    "bodies": [body(k) for k in picks[total:2 * total]],
                    "sequential": [body(k) for k in picks[2 * total:]]}
    try:
        return write_load.measure(
            ctx, "readiness_post", floor_payload=floor_payload, http_payload=http_payload,
            serve_ctx=serve(ctx.url, ctx.work / f"home_ready_{ctx.scale}", workers=2),
            settle=lambda: settle(ctx, count_sql, before, {"created": total + sequential}))
    finally:
        drain(ctx.engine)
