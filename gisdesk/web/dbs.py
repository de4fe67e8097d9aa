"""Which database a request reads from: the primary, or the streaming replica.

Read-only views (map layers and tables, the OGC API, exports, tiles) call ``read_engine()``;
everything that writes keeps ``current_app.extensions["gisdesk.engine"]`` (the primary).

- No replica configured (GISDESK_READ_DATABASE_URL unset): always the primary.
- A user who wrote within the last ``READ_STICKY_SECONDS`` (default 30) reads from the
  primary, so their own report is on their map at once ("read your writes"). The time of the
  last successful non-GET request is kept in the (signed) session, so it holds across
  gunicorn workers and app servers.
- Everyone else reads from the replica and sees a new report within the replica lag,
  unless the replica is unreachable or lags more than ``READ_MAX_LAG_SECONDS`` (default 30):
  then from the primary until it recovers (checked every few seconds per process).

Settings: app config keys above, or the environment variables GISDESK_READ_STICKY_SECONDS /
GISDESK_READ_MAX_LAG_SECONDS. Each response of a routed view says where it read from in
``X-Gisdesk-Read: primary|replica`` (for operators and tests).
"""
from __future__ import annotations

import os
import time

from flask import current_app, g, request, session
from sqlalchemy import Connection, Engine

from gisdesk.db.replica import ReplicaMonitor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# POSTs that are not the user's data (a login writes only the audit log)
NOT_WRITES = frozenset({"auth.login", "auth.logout"})
SESSION_KEY = "last_write_at"


def _setting(app, key: str, env: str, default: float) -> float:
    raw = app.config.get(key, os.environ.get(env))
    return float(default if raw in (None, "") else raw)


def init_app(app) -> None:
    primary = app.extensions["gisdesk.engine"]
    replica = app.extensions.get("gisdesk.read_engine", primary)
    app.config["READ_STICKY_SECONDS"] = _setting(app, "READ_STICKY_SECONDS",
                                                 "GISDESK_READ_STICKY_SECONDS", 30)
    app.config["READ_MAX_LAG_SECONDS"] = _setting(app, "READ_MAX_LAG_SECONDS",
                                                  "GISDESK_READ_MAX_LAG_SECONDS", 30)
    if replica is not primary:
        app.extensions["gisdesk.replica_monitor"] = ReplicaMonitor(
            replica, max_lag=app.config["READ_MAX_LAG_SECONDS"],
            interval=_setting(app, "READ_CHECK_SECONDS", "GISDESK_READ_CHECK_SECONDS", 5))
    app.after_request(_after_request)
    app.teardown_request(_close_write_connection)


def has_replica() -> bool:
    return "gisdesk.replica_monitor" in current_app.extensions


def wrote_recently() -> bool:
    at = session.get(SESSION_KEY)
    if not isinstance(at, (int, float)):
        return False
    return time.time() - at < current_app.config["READ_STICKY_SECONDS"]


def write_connection() -> Connection:
    """The request's connection to the primary, in autocommit mode: the API token check and
    the write share it (one pool checkout per request), and a write whose common case is one
    statement needs no BEGIN/COMMIT round trips; several statements take
    ``gisdesk.db.engine.transaction(conn)``. Returned to the pool when the request ends."""
    conn = g.get("gisdesk_write_conn")
    if conn is None:
        conn = current_app.extensions["gisdesk.engine"].connect()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        g.gisdesk_write_conn = conn
    return conn


def _close_write_connection(_exc=None) -> None:
    conn = g.pop("gisdesk_write_conn", None)
    if conn is not None:
        conn.close()


def read_engine() -> Engine:
    """The engine a read-only view should use for this request (see the module doc)."""
    primary = current_app.extensions["gisdesk.engine"]
    if not has_replica():
        return primary
    if wrote_recently() or not current_app.extensions["gisdesk.replica_monitor"].usable():
        g.gisdesk_read_from = "primary"
        return primary
    g.gisdesk_read_from = "replica"
    return current_app.extensions["gisdesk.read_engine"]


class _ReadWrite:
    """An engine-shaped pair for helpers that read with ``connect()`` and then record
    (audit) with ``begin()``, e.g. ``exports.write_file``: reads from ``read_engine()``,
    writes always to the primary."""

    def __init__(self, read: Engine, write: Engine):
        self._read, self._write = read, write

    def connect(self):
        return self._read.connect()

    def begin(self):
        return self._write.begin()


def read_write_engine():
    return _ReadWrite(read_engine(), current_app.extensions["gisdesk.engine"])


def _after_request(response):
    where = g.get("gisdesk_read_from")
    if where:
        response.headers["X-Gisdesk-Read"] = where
    if (has_replica() and request.method not in SAFE_METHODS
            and response.status_code < 400 and request.endpoint not in NOT_WRITES):
        session[SESSION_KEY] = round(time.time(), 3)
    return response
