"""The background worker: one process per deployment, a few independent loops inside it.

``gisdesk worker`` runs it alone; ``gisdesk serve`` starts it beside the web workers (one
worker process, never one per gunicorn worker). Each loop (``gisdesk.worker.registry``)
runs in its own thread with its own database engine, so a long full recompute in one loop
never stalls another. Only one worker process works at a time per database: it holds a
session advisory lock, and a second one waits as a standby until the first is gone.

The worker connects to the primary directly: ``LISTEN`` needs a session of its own, which
a read replica or PgBouncer in transaction mode cannot give.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from gisdesk.config import Settings

LOGGER = logging.getLogger(__name__)
SINGLETON_LOCK = "SELECT pg_try_advisory_lock(hashtext('gisdesk.worker'))"


@dataclass
class LoopContext:
    """What a loop gets: its name, the settings, its own engine and the stop signal.
    A loop returns when ``stop`` is set (wait on it instead of sleeping)."""
    name: str
    settings: Settings
    engine: Engine
    url: str
    stop: threading.Event
    ready: threading.Event = field(default_factory=threading.Event)


Loop = Callable[[LoopContext], None]


def _supervise(ctx: LoopContext, loop: Loop) -> None:
    """Run a loop until stop; a loop that fails is logged and restarted after a pause
    (doubling up to a minute) so one bad input cannot end the worker."""
    pause = 1.0
    while not ctx.stop.is_set():
        try:
            loop(ctx)
            pause = 1.0
        except Exception:   # noqa: BLE001 - the worker must outlive any one failure
            LOGGER.exception("worker loop %s failed; restarting in %.0f s", ctx.name, pause)
            ctx.stop.wait(pause)
            pause = min(60.0, pause * 2)
    ctx.engine.dispose()


class Worker:
    """The loops of one worker process, started and stopped together."""

    def __init__(self, settings: Settings, loops: Mapping[str, Loop] | None = None):
        from gisdesk.db.engine import database_url
        from gisdesk.worker.registry import LOOPS
        self.settings = settings
        self.url = database_url(settings)
        self.loops = dict(LOOPS if loops is None else loops)
        self.stop = threading.Event()
        self.contexts: dict[str, LoopContext] = {}
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        from gisdesk.db.engine import new_engine
        for name, loop in self.loops.items():
            ctx = LoopContext(name, self.settings, new_engine(self.url, pool_size=2,
                                                              max_overflow=2),
                              self.url, self.stop)
            thread = threading.Thread(target=_supervise, args=(ctx, loop),
                                      name=f"gisdesk-{name}", daemon=True)
            self.contexts[name] = ctx
            self.threads.append(thread)
            thread.start()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """True when every loop has said it is listening (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        return all(c.ready.wait(max(0.0, deadline - time.monotonic()))
                   for c in self.contexts.values())

    def close(self, timeout: float = 30.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)


def run(settings: Settings, *, exit_with_parent: bool = False) -> None:
    """`gisdesk worker`: wait to be the one worker of this database, run the loops until
    SIGTERM/SIGINT (or, started by `gisdesk serve`, until that process is gone)."""
    from gisdesk.db.engine import database_url, new_engine
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()
    gone = lambda: exit_with_parent and os.getppid() != parent   # noqa: E731
    holder = new_engine(database_url(settings), pool_size=1, max_overflow=0)
    with holder.connect() as lock_conn:
        waited = False
        while not lock_conn.execute(text(SINGLETON_LOCK)).scalar():
            if not waited:
                LOGGER.warning("another gisdesk worker runs on this database; standing by")
                waited = True
            lock_conn.rollback()
            if stop.wait(5.0) or gone():
                return
        lock_conn.commit()
        worker = Worker(settings)
        worker.start()
        LOGGER.warning("gisdesk worker: loops %s running", ", ".join(worker.loops))
        while not stop.wait(1.0):
            if gone() or not any(t.is_alive() for t in worker.threads):
                break
        worker.close()
    holder.dispose()

