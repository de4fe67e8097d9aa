"""Backups with pg_dump/pg_restore, for the embedded cluster or any configured server."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy import make_url

from gisdesk.db.cluster import find_bindir
from gisdesk.errors import GisdeskError


def libpq_env(url: str) -> dict[str, str]:
    """PG* environment variables that point libpq tools (pg_dump, psql, ogr2ogr) at ``url``."""
    u = make_url(url)
    env = {"PGDATABASE": u.database or "", "PGUSER": u.username or "",
           "PGHOST": str(u.query.get("host") or u.host or ""),
           "PGPORT": str(u.query.get("port") or u.port or "")}
    if u.password:
        env["PGPASSWORD"] = u.password
    return {k: v for k, v in env.items() if v}


def _tool(name: str) -> str:
    try:
        return str(find_bindir() / name)
    except GisdeskError:
        return name


def backup(url: str, out: Path) -> None:
    """pg_dump into ``out``, readable by its owner only (0600: it holds password hashes and
    the quick count). Written beside it first and renamed, so a failed dump leaves no file."""
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)          # an old partial file may have had other bits
    os.close(fd)
    try:
        proc = subprocess.run([_tool("pg_dump"), "--format=custom", "--file", str(partial)],
                              env={**os.environ, **libpq_env(url)}, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise GisdeskError(f"pg_dump failed: {proc.stderr.strip()[-500:]}")
        os.chmod(partial, 0o600)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def restore(url: str, src: Path) -> None:
    if not src.exists():
        raise GisdeskError(f"No such backup file: {src}")
    proc = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                           "--single-transaction", "--dbname", make_url(url).database, str(src)],
                          env={**os.environ, **libpq_env(url)}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GisdeskError(f"pg_restore failed: {proc.stderr.strip()[-500:]}")
