"""`gisdesk audit ...`: read and check the append-only audit log."""
from __future__ import annotations

import click
from sqlalchemy import text

from gisdesk import audit as audit_log
from gisdesk import audit_anchor as anchors


@click.group()
def audit():
    """Read and verify the audit log."""


@audit.command()
@click.option("--grace", type=float, default=audit_log.UNCHAINED_GRACE_S, show_default=True,
              help="Seconds an entry may wait for the sequencer before it is flagged.")
@click.option("--anchor", "given", multiple=True, metavar="SEQ:HASH",
              help="An anchor kept elsewhere (as printed by `gisdesk audit anchor`).")
@click.pass_obj
def verify(obj, grace, given):
    """Check the hash chain and its anchors: any edited, deleted or inserted entry, a deleted
    tail, or an entry left unchained longer than --grace seconds, is named (exit 1)."""
    try:
        extra = [anchors.Anchor.parse(g) for g in given]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    kept = anchors.load(obj.settings.var) + extra
    with obj.engine.connect() as conn:
        state = audit_log.chain_state(conn)
        bad = (audit_log.verify_chain(conn, unchained_grace_s=grace)
               + anchors.check(conn, kept))
    if bad:
        for b in bad:
            click.echo(f"entry {b['id']}: {b['reason']}", err=True)
        click.echo(f"audit log TAMPERED: {len(bad)} problem(s) in {state['entries']} entries",
                   err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {state['entries']} entries, hash chain verified "
               f"({state['head']['seq']} linked, {state['waiting']} waiting for the sequencer), "
               f"{len(kept)} anchor(s) found in it")


@audit.command()
@click.option("--once", is_flag=True, help="Chain what is waiting now, then exit.")
@click.option("--interval", type=float, default=None,
              help="Seconds between steps (default 0.2).")
@click.pass_obj
def sequencer(obj, once, interval):
    """Link committed audit entries into the hash chain (one per deployment)."""
    import signal
    import threading

    from gisdesk import audit_sequencer
    if once:
        click.echo(f"chained {audit_sequencer.drain(obj.engine)} entries")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    audit_sequencer.loop(obj.engine, stop, interval=interval or audit_sequencer.INTERVAL_S)


@audit.command()
@click.pass_obj
def anchor(obj):
    """Link what waits, then take the chain head (link, hash, time) as an anchor: kept in
    $GISDESK_HOME and printed; keep the printed line elsewhere too (`audit verify --anchor
    SEQ:HASH`)."""
    taken = anchors.take(obj.engine, obj.settings.var)
    if taken is None:
        click.echo("audit log is empty: nothing to anchor")
        return
    click.echo(f"{taken.line()} (kept in {anchors.path_in(obj.settings.var)})")


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
