"""`gisdesk patterns list|add`: the security pattern sets, per election, versioned."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk import audit


@click.group()
def patterns():
    """Security pattern sets (pola pengamanan) per election."""


@patterns.command("list")
@click.pass_obj
def list_(obj):
    """List the stored pattern sets (global ones first, newest first per election)."""
    from gisdesk.analysis.patterns import stored_sets
    from gisdesk.analysis.risk import clock_time
    from gisdesk.analysis.rules import load_rules
    rules = load_rules(obj.settings.rules_file)
    with obj.engine.connect() as conn:
        rows = stored_sets(conn)
    if not rows:
        click.echo("Belum ada pola di basis data: berlaku pola dari berkas aturan.")
    for r in rows:
        click.echo(f"{r['id']:>4} {r['election'] or '(semua pemilu)':<28} "
                   f"sejak {clock_time(r['effective_from'], rules)}  {r['nama']}: {r['pola']}")


@patterns.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--election", "election_kode", required=True, help="Election code (KODE).")
@click.pass_obj
def add(obj, file, election_kode):
    """Add the [[patterns]] sets of FILE.toml to election KODE and refresh its analysis."""
    from gisdesk.analysis.patterns import add_sets, read_file
    from gisdesk.analysis.rules import load_rules
    from gisdesk.analysis.store import recompute
    rules = load_rules(obj.settings.rules_file)
    sets = read_file(file, rules)
    with obj.engine.begin() as conn:
        eid, ids = add_sets(conn, election_kode, sets, actor=obj.actor, source=str(file),
                            checksum=audit.file_sha256(file))
        # A pattern set change needs a whole refresh. TODO(live-worker): enqueue it on the
        # analysis queue in this transaction instead, once the queue is in main.
        result = recompute(conn, eid, rules=rules)
    click.echo(f"{len(ids)} pola ditambahkan untuk {election_kode}; "
               f"pola yang berlaku sekarang: {result.pattern_set}")
