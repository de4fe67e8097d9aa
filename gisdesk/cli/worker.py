"""`gisdesk worker`: the background worker alone (analysis queue and clock)."""
from __future__ import annotations

import logging

import click


@click.command()
@click.option("--exit-with-parent", is_flag=True, hidden=True,
              help="Stop when the process that started it is gone (used by `gisdesk serve`).")
@click.pass_obj
def worker(obj, exit_with_parent):
    """Run the background worker: keeps the analysis results up to date after every write
    and as time passes. One per deployment; connect it to the primary directly."""
    from gisdesk.worker import run
    logging.getLogger("gisdesk").setLevel(logging.INFO)
    click.echo("gisdesk worker: analysis queue + clock (Ctrl-C to stop)", err=True)
    run(obj.settings, exit_with_parent=exit_with_parent)
