"""The analysis loops of the worker: the queue (event-driven) and the clock.

``queue_loop`` LISTENs on ``gisdesk_analysis``; a notification (sent by a write's commit,
gisdesk.analysis.changes) names an election. It gathers the burst the notification belongs
to (until ``QUIET_SECONDS`` pass without another, at most ``GISDESK_WORKER_DEBOUNCE_MS``),
then catches each named election up in one transaction (gisdesk.analysis.catchup). The
debounce is also the least time between the starts of two catch-ups: a steady stream of
writes is still batched per debounce, while a lone write is not made to wait for it.
It also looks at the queue table itself when it starts and every ``POLL_SECONDS``, so a
notification lost while it was disconnected only delays a change, never drops it; when it
starts it also recomputes elections whose results were made with another rules file.

``clock_loop`` queues an empty change for every election that follows the clock (not
pinned) every ``GISDESK_WORKER_CLOCK_SECONDS``: the queue loop then advances its ``as_of``
and recomputes what crossed a time edge.
"""
from __future__ import annotations

import logging
import time

import psycopg
from sqlalchemy import text

from gisdesk.analysis import changes
from gisdesk.analysis.catchup import drain, queued_elections, rules_sha256
from gisdesk.db.engine import libpq_conninfo
from gisdesk.worker import LoopContext

LOGGER = logging.getLogger(__name__)
POLL_SECONDS = 5.0
# a burst of writes (one request's several commits, an import's batches) is over when no
# notification came for this long
QUIET_SECONDS = 0.03


def _waiting(ctx: LoopContext, *, rules_too: bool = False) -> set[int]:
    """Elections to catch up; at start also those computed with another rules file."""
    digest = rules_sha256(ctx.settings.rules_file) if rules_too else None
    with ctx.engine.connect() as conn:
        return queued_elections(conn, digest)


def catch_up_all(ctx: LoopContext, election_ids: set[int]) -> None:
    def failed(election_id, exc):   # logged; its queue rows stay for the next try
        LOGGER.error("analysis of election %s failed", election_id, exc_info=exc)
    for done in drain(ctx.engine, election_ids, ctx.settings.rules_file, on_error=failed):
        LOGGER.info("election %s: version %s as of %s (%s kelurahan, %s queued)",
                    done.election_id, done.version, done.as_of.isoformat(),
                    "all" if done.kelurahan is None else len(done.kelurahan), done.queue_rows)


def queue_loop(ctx: LoopContext) -> None:
    debounce = max(0, ctx.settings.worker_debounce_ms) / 1000
    with psycopg.connect(libpq_conninfo(ctx.url), autocommit=True) as listener:
        listener.execute(f"LISTEN {changes.CHANNEL}")
        catch_up_all(ctx, _waiting(ctx, rules_too=True))   # what happened while it was down
        ctx.ready.set()
        due: set[int] = set()
        started = float("-inf")             # when the last catch-up started
        while not ctx.stop.is_set():
            if not due:
                due = _notified(listener, POLL_SECONDS, stop_after=1)
                if not due:
                    due = _waiting(ctx)     # the slow path: nothing heard for a while
                    continue
            due |= _burst(listener, debounce, not_before=started + debounce)
            started = time.monotonic()
            catch_up_all(ctx, due)
            due = set()


def _burst(listener: psycopg.Connection, debounce: float, not_before: float) -> set[int]:
    """The rest of a burst of notifications: gathered until none came for QUIET_SECONDS, at
    most ``debounce`` seconds, and at least until ``not_before`` (monotonic clock)."""
    found: set[int] = set()
    cap = time.monotonic() + debounce
    while (now := time.monotonic()) < cap:
        wait = max(min(QUIET_SECONDS, cap - now), not_before - now)
        heard = _notified(listener, wait)
        found |= heard
        if not heard and time.monotonic() >= not_before:
            break
    return found


def _notified(listener: psycopg.Connection, timeout: float,
              stop_after: int | None = None) -> set[int]:
    found = set()
    for note in listener.notifies(timeout=timeout, stop_after=stop_after):
        try:
            found.add(int(note.payload))
        except ValueError:
            LOGGER.warning("ignored notification %r on %s", note.payload, note.channel)
    return found


def clock_loop(ctx: LoopContext) -> None:
    ctx.ready.set()
    while not ctx.stop.wait(max(0.05, ctx.settings.worker_clock_seconds)):
        with ctx.engine.begin() as conn:
            following = conn.execute(text("""
                SELECT e.id FROM election e JOIN analysis_run r ON r.election_id = e.id
                WHERE e.pinned_as_of IS NULL ORDER BY e.id""")).scalars().all()
            for election_id in following:
                changes.clock(conn, election_id)
