"""The embedded, project-managed PostgreSQL cluster under $GISDESK_HOME.

Created with the system's PostgreSQL binaries on first use and started on demand. initdb
refuses to run as root, so as root the cluster belongs to an unprivileged OS user
(``postgres`` by default) and lives where that user can reach it. It listens only on a Unix
socket in its own directory: no TCP port to collide with another server or checkout.
"""
from __future__ import annotations

import fcntl
import glob
import hashlib
import logging
import os
import pwd
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gisdesk.errors import DatabaseUnavailable

LOGGER = logging.getLogger(__name__)
DB_NAME = "gisdesk"
SUPERUSER = "postgres"
PORT = 5432
# sockaddr_un.sun_path is 108 bytes; the socket file name adds ".s.PGSQL.5432".
_MAX_SOCKET_DIR = 90


@dataclass(frozen=True)
class Cluster:
    home: Path        # $GISDESK_HOME, resolved
    base: Path        # directory holding data/, run/, log/
    bindir: Path
    os_user: str | None  # None: run the server as the current user

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        run = self.base / "run"
        if len(str(run)) <= _MAX_SOCKET_DIR:
            return run
        return Path("/tmp") / f"gisdesk-{_digest(self.base)}"

    @property
    def log_file(self) -> Path:
        return self.base / "log" / "postgresql.log"

    def url(self, dbname: str = DB_NAME) -> str:
        return (f"postgresql+psycopg://{SUPERUSER}@/{dbname}"
                f"?host={self.socket_dir}&port={PORT}")

    def libpq_env(self, dbname: str = DB_NAME) -> dict[str, str]:
        """Environment for libpq clients (psql, pg_dump, ogr2ogr) to reach this cluster."""
        return {"PGHOST": str(self.socket_dir), "PGPORT": str(PORT),
                "PGUSER": SUPERUSER, "PGDATABASE": dbname}


def _digest(path: Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:10]


def find_bindir() -> Path:
    """The PostgreSQL server binaries: $GISDESK_PG_BIN, else the newest Debian install, else PATH."""
    explicit = os.environ.get("GISDESK_PG_BIN")
    candidates = [Path(explicit)] if explicit else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                      reverse=True)
    candidates += [Path(p) for p in versions]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    raise DatabaseUnavailable(
        "PostgreSQL server binaries not found (initdb, pg_ctl). On Debian/Ubuntu run "
        "`sudo apt-get install postgresql-15 postgresql-15-postgis-3` (or `make setup`), "
        "or set GISDESK_DATABASE_URL to an existing PostGIS server.")


def _os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    name = os.environ.get("GISDESK_PG_OS_USER", "postgres")
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise DatabaseUnavailable(
            f"Running as root, the embedded PostgreSQL needs an unprivileged OS user "
            f"'{name}' (initdb refuses root). Install PostgreSQL from the OS packages "
            f"(it creates 'postgres') or set GISDESK_PG_OS_USER.") from exc
    return name


def _as_user(os_user: str | None, argv: list[str]) -> list[str]:
    return ["runuser", "-u", os_user, "--", *argv] if os_user else argv


def _reachable_by(os_user: str | None, path: Path) -> bool:
    if os_user is None:
        return True
    probe = subprocess.run(_as_user(os_user, ["test", "-w", str(path)]), capture_output=True)
    return probe.returncode == 0


def _chown(path: Path, os_user: str | None) -> None:
    if os_user:
        entry = pwd.getpwnam(os_user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def locate(home: Path) -> Cluster:
    """Where the cluster for this $GISDESK_HOME lives (without creating or starting it)."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    os_user = _os_user()
    base = home / "pg"
    pointer = home / "pg.location"
    if pointer.exists():
        base = Path(pointer.read_text().strip())
    elif os_user:
        base.mkdir(exist_ok=True)
        _chown(base, os_user)
        if not _reachable_by(os_user, base):
            # e.g. a checkout under /root (mode 700): keep the cluster where its owner can reach it
            shutil.rmtree(base, ignore_errors=True)
            base = Path("/var/tmp") / f"gisdesk-{_digest(home)}"
            pointer.write_text(str(base) + "\n")
    return Cluster(home=home, base=base, bindir=find_bindir(), os_user=os_user)


@contextmanager
def _lock(home: Path):
    with open(home / ".pg.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cluster: Cluster, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    argv = _as_user(cluster.os_user, argv)
    proc = subprocess.run(argv, capture_output=True, text=True, cwd="/")
    if check and proc.returncode != 0:
        raise DatabaseUnavailable(
            f"{Path(argv[argv.index('--') + 1] if '--' in argv else argv[0]).name} failed: "
            f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc


def _mkdir_owned(path: Path, os_user: str | None, mode: int = 0o700) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    _chown(path, os_user)


def _init(cluster: Cluster) -> None:
    _mkdir_owned(cluster.base, cluster.os_user, 0o755)
    for sub in (cluster.base / "log", cluster.socket_dir):
        _mkdir_owned(sub, cluster.os_user, 0o755)
    if (cluster.data / "PG_VERSION").exists():
        return
    LOGGER.info("creating PostgreSQL cluster in %s", cluster.data)
    _mkdir_owned(cluster.data, cluster.os_user)
    _run(cluster, [str(cluster.bindir / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
    conf = cluster.data / "postgresql.conf"
    with open(conf, "a") as fh:
        fh.write(
            "\n# gisdesk embedded cluster: Unix socket only, in the cluster's own directory\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{cluster.socket_dir}'\n"
            f"port = {PORT}\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
            "work_mem = 32MB\n"
            "maintenance_work_mem = 256MB\n"
            "timezone = 'UTC'\n"
            "log_timezone = 'UTC'\n"
            "wal_level = replica\n"
            "max_wal_senders = 5\n")
    with open(cluster.data / "pg_hba.conf", "a") as fh:
        fh.write("local replication all trust\n")


def is_running(cluster: Cluster) -> bool:
    if not (cluster.data / "PG_VERSION").exists():
        return False
    proc = _run(cluster, [str(cluster.bindir / "pg_ctl"), "status", "-D", str(cluster.data)],
                check=False)
    return proc.returncode == 0


def start(cluster: Cluster) -> None:
    with _lock(cluster.home):
        _init(cluster)
        if is_running(cluster):
            return
        # a socket dir under /tmp may have been cleaned since the last start
        _mkdir_owned(cluster.socket_dir, cluster.os_user, 0o755)
        LOGGER.info("starting PostgreSQL (%s)", cluster.data)
        _run(cluster, [str(cluster.bindir / "pg_ctl"), "start", "-w", "-t", "120",
                       "-D", str(cluster.data), "-l", str(cluster.log_file)])


def stop(cluster: Cluster) -> None:
    with _lock(cluster.home):
        if is_running(cluster):
            _run(cluster, [str(cluster.bindir / "pg_ctl"), "stop", "-m", "fast", "-w",
                           "-D", str(cluster.data)])


def ensure_database(cluster: Cluster, dbname: str = DB_NAME) -> None:
    import psycopg

    with psycopg.connect(host=str(cluster.socket_dir), port=PORT, user=SUPERUSER,
                         dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def ensure(home: Path) -> Cluster:
    """Create (first time), start (if stopped) and return the embedded cluster."""
    cluster = locate(home)
    start(cluster)
    ensure_database(cluster)
    return cluster
