"""`gisdesk map -o FILE.html`: a standalone briefing map (data and scripts inside the file)."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.roles import ROLES


@click.command("map")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="Show only the layers this role may see.")
@click.pass_obj
def map_(obj, output, role):
    """Write a standalone HTML map for briefings (works offline, no CDN)."""
    from gisdesk import audit
    from gisdesk.analysis.catchup import for_command
    from gisdesk.maps import build_standalone_map
    election_id = for_command(obj.engine, obj.settings.rules_file)
    with obj.engine.connect() as conn:  # the builder streams results on its connection
        html = build_standalone_map(conn, election_id, role=role)
    with obj.engine.begin() as conn:
        audit.record(conn, obj.actor, "export.map", str(output), {"role": role})
    output.write_text(html, encoding="utf-8")
    click.echo(f"map written: {output} ({len(html.encode()):,} bytes, layers for role {role})")


def _layers_group():
    @click.group("layers")
    def layers():
        """Map/export layer declarations (layers/*.toml)."""

    @layers.command("check")
    @click.pass_obj
    def check(obj):
        """Validate every layer file; errors name the file and field (exit 1)."""
        from gisdesk.layers import check as check_dir
        errors = check_dir(obj.settings.layers_dir)
        for e in errors:
            click.echo(e, err=True)
        if errors:
            raise SystemExit(1)
        n = len(list(Path(obj.settings.layers_dir).glob("*.toml")))
        click.echo(f"{n} layer files OK in {obj.settings.layers_dir}")

    return layers


layers = _layers_group()
