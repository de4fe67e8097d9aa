"""The audit sequencer: links committed audit entries into the hash chain, off the write path.

Writers append entries without any lock; this loop (one per deployment, with its own
connection) calls ``audit_chain_step()`` every ``interval`` seconds, which links the entries
committed since the last step, in entry order, into ``audit_chain`` and removes their markers,
in one transaction. A crash between a write and its chaining loses nothing: the marker
stays until a step commits. It runs as the "audit" loop of the worker process (`gisdesk
worker`, started by `gisdesk serve`), or alone with ``gisdesk audit sequencer``.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Connection, Engine, text

LOGGER = logging.getLogger(__name__)
INTERVAL_S = 0.2      # entries are chained well within a second of their commit
BATCH = 5000          # links per transaction, so a long backlog commits in steps


def step(conn: Connection, batch: int = BATCH) -> int:
    """Link the waiting committed entries (at most ``batch``); returns how many. The caller
    commits (the chain lock is held until then)."""
    return conn.execute(text("SELECT audit_chain_step(:n)"), {"n": batch}).scalar_one()


def drain(engine: Engine, batch: int = BATCH) -> int:
    """Chain everything waiting now, one committed transaction per batch."""
    total = 0
    while True:
        with engine.begin() as conn:
            done = step(conn, batch)
        total += done
        if done < batch:
            return total


def loop(engine: Engine, stop: threading.Event, *, interval: float = INTERVAL_S,
         batch: int = BATCH) -> None:
    """Chain until ``stop`` is set; a database error is logged and retried next round."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            linked = drain(engine, batch)
            if linked:
                LOGGER.debug("audit sequencer linked %d entries", linked)
        except Exception:  # the loop must outlive a restarted database
            LOGGER.exception("audit sequencer step failed; retrying")
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def worker_loop(ctx) -> None:
    """The loop as one of the worker process's loops (``gisdesk.worker.registry``): its own
    engine, never stalled by a recompute in another loop."""
    ctx.ready.set()
    loop(ctx.engine, ctx.stop)

