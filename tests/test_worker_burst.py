"""How the analysis worker gathers a burst of notifications before it catches up
(gisdesk.worker.analysis._burst), on a stepped clock: a lone write is taken after one quiet
window, not after the whole debounce; a steady stream is cut at the debounce; and a
catch-up never starts sooner than the debounce after the previous one began.

The clock and the notification stream are stand-ins (the database part, LISTEN/NOTIFY to the
API, is tests/api/test_worker.py); what is checked is which waits the loop asks for."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from gisdesk.worker import analysis


class _Stream:
    """Notifications at given times (seconds); ``notifies`` advances the clock like a
    blocking wait does and yields what arrived meanwhile."""

    def __init__(self, times: list[float]):
        self.now, self.times, self.waits = 0.0, sorted(times), []

    def monotonic(self) -> float:
        return self.now

    def notifies(self, timeout: float, stop_after=None):
        self.waits.append(round(timeout, 6))
        end = self.now + timeout
        while self.times and self.times[0] <= end:
            self.now = max(self.now, self.times.pop(0))
            yield SimpleNamespace(payload="1", channel=analysis.changes.CHANNEL)
        self.now = end


@pytest.fixture
def stream(monkeypatch):
    def make(times):
        s = _Stream(times)
        monkeypatch.setattr(analysis.time, "monotonic", s.monotonic)
        return s
    return make


def test_a_lone_write_waits_one_quiet_window_not_the_debounce(stream):
    s = stream([])
    assert analysis._burst(s, 0.25, not_before=float("-inf")) == set()
    assert s.waits == [analysis.QUIET_SECONDS] and s.now == analysis.QUIET_SECONDS


def test_a_burst_is_gathered_until_it_is_quiet(stream):
    s = stream([0.01, 0.02, 0.045])
    assert analysis._burst(s, 0.25, not_before=float("-inf")) == {1}
    assert s.times == [] and s.now == pytest.approx(3 * analysis.QUIET_SECONDS)
    assert s.now < 0.25


def test_a_steady_stream_is_cut_at_the_debounce(stream):
    s = stream([i * 0.01 for i in range(1, 100)])      # a write every 10 ms for 1 s
    assert analysis._burst(s, 0.25, not_before=float("-inf")) == {1}
    assert s.now == pytest.approx(0.25)
    assert s.times and s.times[0] > 0.25                 # the rest waits for the next round


def test_the_next_catch_up_starts_no_sooner_than_the_debounce_after_the_last(stream):
    s = stream([0.05])
    assert analysis._burst(s, 0.25, not_before=0.2) == {1}
    # one wait up to not_before (the write came in it), then a quiet window to end the burst
    assert s.waits == pytest.approx([0.2, analysis.QUIET_SECONDS])


def test_no_debounce_means_no_wait(stream):
    s = stream([0.001])
    assert analysis._burst(s, 0.0, not_before=0.0) == set()
    assert s.waits == []
