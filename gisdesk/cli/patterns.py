"""`gisdesk patterns list|add`: the security pattern sets, per election, versioned."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import text

from gisdesk import audit


@click.group()
def patterns():
    """Set pola pengamanan per pemilu."""


@patterns.command("list")
@click.pass_obj
def list_(obj):
    """Daftar set pola yang tersimpan (yang umum dulu, terbaru dulu per pemilu)."""
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
@click.option("--election", "election_kode", required=True, help="Kode pemilu (KODE).")
@click.pass_obj
def add(obj, file, election_kode):
    """Tambahkan set [[patterns]] dari FILE.toml ke pemilu KODE dan segarkan analisisnya."""
    from gisdesk.analysis import changes
    from gisdesk.analysis.catchup import drain
    from gisdesk.analysis.patterns import add_sets, read_file
    from gisdesk.analysis.rules import load_rules
    sets = read_file(file, load_rules(obj.settings.rules_file))
    with obj.engine.begin() as conn:
        eid, ids = add_sets(conn, election_kode, sets, actor=obj.actor, source=str(file),
                            checksum=audit.file_sha256(file))
        changes.full(conn, eid, "patterns.add")     # a pattern set change: a whole refresh
    # the worker may not run: bring the election's results up to date here
    drain(obj.engine, [eid], obj.settings.rules_file)
    with obj.engine.connect() as conn:
        in_force = conn.execute(text("""
            SELECT s.nama FROM analysis_run a JOIN security_pattern_set s
              ON s.id = a.pattern_set_id WHERE a.election_id = :e"""), {"e": eid}).scalar()
    click.echo(f"{len(ids)} pola ditambahkan untuk {election_kode}"
               + (f"; pola yang berlaku sekarang: {in_force}" if in_force else ""))
