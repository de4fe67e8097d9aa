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
    proc = subprocess.run([_tool("pg_dump"), "--format=custom", "--file", str(out)],
                          env={**os.environ, **libpq_env(url)}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GisdeskError(f"pg_dump failed: {proc.stderr.strip()[-500:]}")


def restore(url: str, src: Path) -> None:
    if not src.exists():
        raise GisdeskError(f"No such backup file: {src}")
    proc = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                           "--single-transaction", "--dbname", make_url(url).database, str(src)],
                          env={**os.environ, **libpq_env(url)}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GisdeskError(f"pg_restore failed: {proc.stderr.strip()[-500:]}")
