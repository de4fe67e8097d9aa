"""`gisdesk worker`: the background worker alone (analysis queue and clock)."""
from __future__ import annotations

import logging

import click


@click.command()
@click.option("--exit-with-parent", is_flag=True, hidden=True,
              help="Berhenti bila proses yang memulainya sudah tidak ada (dipakai `gisdesk serve`).")
@click.pass_obj
def worker(obj, exit_with_parent):
    """Jalankan pekerja latar: menjaga hasil analisis tetap baru setelah setiap penulisan
    dan seiring waktu. Satu per instalasi; sambungkan langsung ke basis data utama."""
    from gisdesk.worker import run
    logging.getLogger("gisdesk").setLevel(logging.INFO)
    click.echo("gisdesk worker: analysis queue + clock (Ctrl-C to stop)", err=True)
    run(obj.settings, exit_with_parent=exit_with_parent)
