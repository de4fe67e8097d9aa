"""Read replicas: is a streaming replica fit to serve reads, how far behind is it, and a
throw-away hot standby of the embedded cluster (tests, trying the layout on one machine).

Routing (which request reads where) lives in ``gisdesk.web.dbs``; this module only knows
databases. A replica is used while it answers and its replay lag stays under a bound;
otherwise reads fall back to the primary, so a stuck or broken replica makes the maps
slower, never stale by more than the bound, and never down.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from gisdesk.db import cluster as embedded
from gisdesk.errors import DatabaseUnavailable

LOGGER = logging.getLogger(__name__)

# Replay lag in seconds: 0 when everything received has been replayed (an idle primary is
# not "lag"), else the age of the last replayed commit. A standby whose WAL receiver is not
# streaming (disconnected, restarting) cannot say how far behind it is: infinite lag. On a
# primary (a read URL pointing at a normal server) it is 0. Roles without pg_read_all_stats
# (or pg_monitor) see the receiver's row without its status: then only the LSNs count.
LAG_SQL = """
SELECT pg_is_in_recovery() AS in_recovery,
       CASE WHEN NOT pg_is_in_recovery() THEN 0.0
            WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
                 OR (SELECT status FROM pg_stat_wal_receiver) <> 'streaming'
                THEN 'Infinity'::float8
            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
                THEN 0.0
            ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp()
                                           - pg_last_xact_replay_timestamp()), 0.0)
       END::float8 AS lag_seconds,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused
"""


def status(engine: Engine) -> dict:
    """``{"in_recovery", "lag_seconds", "paused"}`` of the server behind ``engine``."""
    with engine.connect() as conn:
        row = conn.execute(text(LAG_SQL)).mappings().one()
    return {"in_recovery": bool(row["in_recovery"]), "lag_seconds": float(row["lag_seconds"]),
            "paused": bool(row["paused"])}


class ReplicaMonitor:
    """Per-process answer to "may reads go to the replica now?", re-checked at most every
    ``interval`` seconds (one tiny query), so routing costs nothing per request."""

    def __init__(self, engine: Engine, *, max_lag: float = 30.0, interval: float = 5.0):
        self.engine = engine
        self.max_lag = max_lag
        self.interval = interval
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._usable = True
        self.last: dict | None = None

    def usable(self) -> bool:
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self._usable
        with self._lock:
            if now - self._checked < self.interval:   # another thread just checked
                return self._usable
            usable, why = self._probe()
            if usable != self._usable:
                (LOGGER.info if usable else LOGGER.warning)(
                    "read replica %s: %s", "back in use" if usable else "not used", why)
            self._usable, self._checked = usable, time.monotonic()
        return self._usable

    def _probe(self) -> tuple[bool, str]:
        try:
            self.last = status(self.engine)
        except Exception as exc:  # an unreachable replica means: read from the primary
            self.last = None
            return False, f"unreachable ({type(exc).__name__})"
        if self.last["lag_seconds"] > self.max_lag:
            return False, (f"replay lag {self.last['lag_seconds']:.1f} s > "
                           f"{self.max_lag:g} s")
        return True, f"lag {self.last['lag_seconds']:.1f} s"

    def forget(self) -> None:
        """Check again on the next request (tests, after a failover)."""
        self._checked = float("-inf")


def current_lsn(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()


def wait_for_replay(primary: Engine, replica: Engine, timeout: float = 30.0) -> None:
    """Block until the replica has replayed everything the primary has written so far."""
    target = current_lsn(primary)
    deadline = time.monotonic() + timeout
    while True:
        with replica.connect() as conn:
            done = conn.execute(text(
                "SELECT pg_last_wal_replay_lsn() >= CAST(:t AS pg_lsn)"), {"t": target}).scalar()
        if done:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"replica did not replay up to {target} in {timeout:.0f} s")
        time.sleep(0.05)


# --- a hot standby of the embedded cluster ---------------------------------------------------

@dataclass
class Standby:
    """A streaming replica of an embedded cluster, in a directory of its own.

    It listens only on a Unix socket in ``<base>/run`` (no TCP port), runs as the cluster's
    OS user, and copies the primary's databases, roles and settings (``pg_basebackup -R``).
    """
    primary: embedded.Cluster
    base: Path
    slot: str
    port: int = 5433

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "run"

    @property
    def log_file(self) -> Path:
        return self.base / "postgresql.log"

    def url(self, dbname: str = embedded.DB_NAME) -> str:
        return (f"postgresql+psycopg://{embedded.SUPERUSER}@/{dbname}"
                f"?host={self.socket_dir}&port={self.port}")

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(embedded._as_user(self.primary.os_user, argv),
                              capture_output=True, text=True, cwd="/")
        if check and proc.returncode != 0:
            raise DatabaseUnavailable(f"{Path(argv[0]).name} failed: "
                                      f"{(proc.stderr or proc.stdout).strip()[-800:]}")
        return proc

    def create(self) -> "Standby":
        """Base backup of the running primary with WAL streamed, configured as a standby."""
        for path in (self.base, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)
            embedded._chown(path, self.primary.os_user)
        # a physical slot keeps the primary's WAL until the standby has it: the embedded
        # cluster checkpoints often (CREATE/DROP DATABASE) and would otherwise recycle WAL
        # a briefly disconnected or paused standby still needs
        self._run([str(self.primary.bindir / "pg_basebackup"), "-D", str(self.data),
                   "-R", "-X", "stream", "-C", "-S", self.slot, "-c", "fast", "--no-sync",
                   "-h", str(self.primary.socket_dir), "-p", str(embedded.PORT),
                   "-U", embedded.SUPERUSER])
        # appended settings win over the primary's copied ones
        conf = (f"\n# gisdesk standby of {self.primary.data}\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                f"port = {self.port}\n"
                "hot_standby = on\n"
                "hot_standby_feedback = on\n"
                "shared_buffers = 32MB\n"
                "wal_receiver_status_interval = 1s\n")
        _append_as(self.primary.os_user, self.data / "postgresql.conf", conf)
        return self

    def start(self) -> "Standby":
        self._run([str(self.primary.bindir / "pg_ctl"), "start", "-w", "-t", "120",
                   "-D", str(self.data), "-l", str(self.log_file)])
        return self

    def stop(self) -> None:
        if (self.data / "PG_VERSION").exists():
            self._run([str(self.primary.bindir / "pg_ctl"), "stop", "-m", "immediate", "-w",
                       "-D", str(self.data)], check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        _drop_slot(self.primary, self.slot)


SLOT_PREFIX = "gisdesk_standby_"


def _primary_conn(primary: embedded.Cluster):
    import psycopg

    return psycopg.connect(host=str(primary.socket_dir), port=embedded.PORT,
                           user=embedded.SUPERUSER, dbname="postgres", autocommit=True)


def _drop_slot(primary: embedded.Cluster, slot: str, timeout: float = 10.0) -> None:
    """Drop the standby's slot (it turns inactive a moment after the standby stops)."""
    deadline = time.monotonic() + timeout
    with _primary_conn(primary) as conn:
        while True:
            row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                               (slot,)).fetchone()
            if row is None:
                return
            if not row[0]:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                return
            if time.monotonic() > deadline:
                LOGGER.warning("replication slot %s still active; not dropped", slot)
                return
            time.sleep(0.1)


def drop_stale_slots(primary: embedded.Cluster) -> list[str]:
    """Drop inactive slots of standbys whose directory is gone (a test run killed hard):
    a forgotten slot would keep WAL on the primary for ever."""
    dropped = []
    with _primary_conn(primary) as conn:
        rows = conn.execute("SELECT slot_name FROM pg_replication_slots WHERE NOT active "
                            "AND slot_name LIKE %s", (SLOT_PREFIX + "%",)).fetchall()
        for (slot,) in rows:
            if not (Path("/tmp") / _dir_name(slot)).exists():
                conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                dropped.append(slot)
    return dropped


def _dir_name(slot: str) -> str:
    return "gisdesk-standby-" + slot[len(SLOT_PREFIX):]


def _append_as(os_user: str | None, path: Path, content: str) -> None:
    """Append to a file of the cluster's OS user (as root: write it, keep its owner)."""
    with open(path, "a") as fh:
        fh.write(content)
    embedded._chown(path, os_user)


def make_standby(primary: embedded.Cluster, port: int = 5433) -> Standby:
    """Create and start a hot standby of ``primary`` in a fresh directory under /tmp (short
    enough for the socket path, reachable by the cluster's OS user), streaming through a
    replication slot of its own. Always ``destroy()`` it: that also drops the slot."""
    drop_stale_slots(primary)
    slot = SLOT_PREFIX + secrets.token_hex(6)
    base = Path("/tmp") / _dir_name(slot)
    base.mkdir(mode=0o700)
    standby = Standby(primary=primary, base=base, slot=slot, port=port)
    try:
        return standby.create().start()
    except BaseException:
        standby.destroy()
        raise
