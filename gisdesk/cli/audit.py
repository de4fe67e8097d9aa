"""`gisdesk audit ...`: read and check the append-only audit log."""
from __future__ import annotations

import click
from sqlalchemy import text

from gisdesk import audit as audit_log


@click.group()
def audit():
    """Read and verify the audit log."""


@audit.command()
@click.pass_obj
def verify(obj):
    """Check the hash chain: any edited, deleted or inserted entry is named (exit 1)."""
    with obj.engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        bad = audit_log.verify_chain(conn)
    if bad:
        for b in bad:
            click.echo(f"entry {b['id']}: {b['reason']}", err=True)
        click.echo(f"audit log TAMPERED: {len(bad)} problem(s) in {total} entries", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {total} entries, hash chain verified")


@audit.command("list")
@click.option("-n", "--limit", type=int, default=20, show_default=True)
@click.pass_obj
def list_(obj, limit):
    """The latest entries."""
    with obj.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, at, actor, action, target FROM audit_log "
                                 "ORDER BY id DESC LIMIT :n"), {"n": limit}).all()
    for r in rows:
        click.echo(f"{r.id:>6} {r.at:%Y-%m-%d %H:%M:%S}Z {r.actor:<20} {r.action:<24} {r.target or ''}")
