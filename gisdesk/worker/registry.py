"""The loops of the worker process. Adding a loop: write ``def my_loop(ctx: LoopContext)``
(it returns when ``ctx.stop`` is set) and add one entry here."""
from __future__ import annotations

from gisdesk import audit_sequencer
from gisdesk.worker import analysis

LOOPS = {
    "analysis": analysis.queue_loop,   # LISTEN + queue -> refreshed results (debounced)
    "clock": analysis.clock_loop,      # advances as_of every GISDESK_WORKER_CLOCK_SECONDS
    "audit": audit_sequencer.worker_loop,   # links committed audit entries into the chain
}
