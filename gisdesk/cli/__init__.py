"""The `gisdesk` command: one click group per concern, collected here.

Exit status: 0 done; 1 input rejected (nothing written); 2 usage error.
"""
from __future__ import annotations

import logging
import sys

import click

from gisdesk.cli.context import CliContext
from gisdesk.errors import GisdeskError, InputRejected


class GisdeskGroup(click.Group):
    """Turns domain errors into a report and exit 1 (usage errors stay exit 2 via click)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputRejected as exc:
            from gisdesk.cli.report import print_rejection
            print_rejection(exc)
            ctx.exit(1)
        except GisdeskError as exc:
            click.echo(f"Gagal: {exc.message}", err=True)
            ctx.exit(1)


@click.group(cls=GisdeskGroup)
@click.option("-v", "--verbose", is_flag=True, help="Tampilkan rincian kemajuan.")
@click.pass_context
def main(ctx, verbose):
    """gisdesk: peta pengamanan TPS untuk Desk Pemilu."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = CliContext()


def _register() -> None:
    """Every command group, each from its own module (imported lazily inside commands)."""
    from gisdesk.cli import (audit, db, demo, election, export, imports, incidents, maps,
                             patterns, serve, suggest, users, worker)
    for command in (db.db, demo.demo, election.election, imports.import_, export.export,
                    suggest.suggest, maps.map_, maps.layers, users.users, audit.audit,
                    incidents.incidents, patterns.patterns, serve.serve, worker.worker):
        main.add_command(command)


_register()
