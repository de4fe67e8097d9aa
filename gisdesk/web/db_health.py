"""Database down: every URL answers the same 503, and the app recovers by itself.

A request first asks ``DbHealth.check()``: the primary is pinged at most once every
``RECHECK_SECONDS`` per process (a pooled ``SELECT 1``), and while it is unreachable every
request, an unknown URL as much as a quick-count one, ends in ``DatabaseUnavailable``, which
``gisdesk.web.errors`` turns into one 503 (Indonesian page or JSON) without loading the user.
A database error met during a request (OperationalError, InterfaceError) is checked the same
way: 503 when the server is really gone, a plain 500 otherwise. ``/healthz`` keeps its own
answer. Nothing here is per-process state another process needs: each one finds out alone.
"""
from __future__ import annotations

import threading
import time

from flask import current_app, request
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from gisdesk.errors import DatabaseUnavailable

RECHECK_SECONDS = 1.0
MESSAGE = ("Basis data sedang tidak dapat dihubungi. Coba lagi sebentar lagi; "
           "halaman ini pulih sendiri.")
EXEMPT = {"pages.healthz"}


class DbHealth:
    def __init__(self, engine, recheck: float = RECHECK_SECONDS):
        self.engine, self.recheck = engine, recheck
        self.up, self.checked_at = True, 0.0
        self._lock = threading.Lock()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            ok = True
        except sa_exc.SQLAlchemyError:
            ok = False
        self.up, self.checked_at = ok, time.monotonic()
        return ok

    def check(self) -> None:
        """Raise DatabaseUnavailable while the database is down (pinged at most every
        ``recheck`` seconds; a failed ping is not cached longer than that either)."""
        if time.monotonic() - self.checked_at >= self.recheck:
            with self._lock:
                if time.monotonic() - self.checked_at >= self.recheck:
                    self.ping()
        if not self.up:
            raise DatabaseUnavailable(MESSAGE)

    def explains(self, exc: BaseException) -> bool:
        """Whether ``exc`` (met during a request) means the database is gone."""
        if isinstance(exc, DatabaseUnavailable):
            return True
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return not self.ping()
        return False


def health() -> DbHealth:
    return current_app.extensions["gisdesk.db_health"]


def before_request():
    """Registered by the app factory ahead of every other before_request function."""
    if request.endpoint not in EXEMPT:
        health().check()


def init_app(app) -> None:
    app.extensions["gisdesk.db_health"] = DbHealth(app.extensions["gisdesk.engine"])
