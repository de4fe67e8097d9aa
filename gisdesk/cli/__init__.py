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
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(1)


@click.group(cls=GisdeskGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
@click.pass_context
def main(ctx, verbose):
    """gisdesk: election-security map desk (Desk Pemilu)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = CliContext()


def _register():
    from gisdesk.cli import db, serve, users
    main.add_command(db.db)
    main.add_command(users.users)
    main.add_command(serve.serve)
    import importlib
    for name, attr in (("imports", "import_"), ("election", "election"), ("demo", "demo"), ("suggest", "suggest"),
                       ("export", "export"), ("maps", "map_"), ("maps", "layers"),
                       ("audit", "audit")):
        try:
            module = importlib.import_module(f"gisdesk.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gisdesk.cli.{name}":
                raise
            continue
        main.add_command(getattr(module, attr))


_register()
