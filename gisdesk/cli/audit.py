"""`gisdesk audit ...`: read and check the append-only audit log."""
from __future__ import annotations

import click
from sqlalchemy import text

from gisdesk import audit as audit_log
from gisdesk import audit_anchor as anchors


@click.group()
def audit():
    """Membaca dan memeriksa log audit."""


@audit.command()
@click.option("--grace", type=float, default=audit_log.UNCHAINED_GRACE_S, show_default=True,
              help="Detik sebuah entri boleh menunggu pengurut sebelum ditandai.")
@click.option("--anchor", "given", multiple=True, metavar="SEQ:HASH",
              help="Jangkar yang disimpan di tempat lain (seperti dicetak `gisdesk audit anchor`).")
@click.pass_obj
def verify(obj, grace, given):
    """Periksa rantai hash dan jangkarnya: setiap entri yang diubah, dihapus atau disisipkan,
    ekor yang dihapus, atau entri yang belum dirantai lebih dari --grace detik disebut (exit 1)."""
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
            click.echo(f"entri {b['id']}: {b['reason']}", err=True)
        click.echo(f"log audit DIUBAH: {len(bad)} masalah dalam {state['entries']} entri",
                   err=True)
        raise SystemExit(1)
    click.echo(f"log audit utuh: {state['entries']} entri, rantai hash terperiksa "
               f"({state['head']['seq']} terangkai, {state['waiting']} menunggu pengurut), "
               f"{len(kept)} jangkar ditemukan di dalamnya")


@audit.command()
@click.option("--once", is_flag=True, help="Rantai yang sedang menunggu, lalu berhenti.")
@click.option("--interval", type=float, default=None,
              help="Detik antarlangkah (bawaan 0,2).")
@click.pass_obj
def sequencer(obj, once, interval):
    """Rangkai entri audit yang sudah tersimpan ke rantai hash (satu per instalasi)."""
    import signal
    import threading

    from gisdesk import audit_sequencer
    if once:
        click.echo(f"{audit_sequencer.drain(obj.engine)} entri dirangkai")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    audit_sequencer.loop(obj.engine, stop, interval=interval or audit_sequencer.INTERVAL_S)


@audit.command()
@click.pass_obj
def anchor(obj):
    """Rangkai yang menunggu, lalu ambil kepala rantai (urutan, hash, waktu) sebagai jangkar:
    disimpan di $GISDESK_HOME dan dicetak; simpan juga baris cetakan itu di tempat lain
    (`audit verify --anchor SEQ:HASH`)."""
    taken = anchors.take(obj.engine, obj.settings.var)
    if taken is None:
        click.echo("log audit kosong: tidak ada yang dijangkarkan")
        return
    click.echo(f"{taken.line()} (disimpan di {anchors.path_in(obj.settings.var)})")


@audit.command("list")
@click.option("-n", "--limit", type=int, default=20, show_default=True)
@click.pass_obj
def list_(obj, limit):
    """Entri terbaru."""
    with obj.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, at, actor, action, target FROM audit_log "
                                 "ORDER BY id DESC LIMIT :n"), {"n": limit}).all()
    for r in rows:
        click.echo(f"{r.id:>6} {r.at:%Y-%m-%d %H:%M:%S}Z {r.actor:<20} {r.action:<24} {r.target or ''}")
