"""`gisdesk map -o FILE.html`: a standalone briefing map (data and scripts inside the file)."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.roles import ROLES


@click.command("map")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the standalone HTML map (data and scripts inside the file).")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the briefing print (A4 landscape PDF: map, legend, totals, gaps, "
                   "suggestions).")
@click.option("--kecamatan", metavar="KODE", help="Briefing for one kecamatan (e.g. 52.71.01).")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="Show only the layers this role may see.")
@click.pass_obj
def map_(obj, output, pdf_path, kecamatan, role):
    """Write a standalone HTML map and/or a PDF briefing (works offline, no CDN)."""
    from gisdesk import audit
    from gisdesk.analysis.catchup import for_command
    if not output and not pdf_path:
        raise click.UsageError("Sebutkan -o FILE.html dan/atau --pdf FILE.pdf.")
    if kecamatan and not pdf_path:
        raise click.UsageError("--kecamatan hanya untuk briefing PDF (--pdf).")
    election_id = for_command(obj.engine, obj.settings.rules_file)
    if output:
        from gisdesk.maps import build_standalone_map
        with obj.engine.connect() as conn:  # the builder streams results on its connection
            html = build_standalone_map(conn, election_id, role=role)
        output.write_text(html, encoding="utf-8")
        _record(obj, audit, "export.map", output, {"role": role})
        click.echo(f"map written: {output} ({len(html.encode()):,} bytes, layers for role {role})")
    if pdf_path:
        from gisdesk import layers as registry
        from gisdesk.maps import briefing
        with obj.engine.connect() as conn:
            ctx = briefing.context(conn, election_id, role=role, kecamatan_kode=kecamatan,
                                   layers=registry.load(obj.settings.layers_dir),
                                   printed_by=obj.actor)
        body = briefing.pdf(ctx)
        pdf_path.write_bytes(body)
        _record(obj, audit, "export.briefing", pdf_path, {"role": role, "kecamatan": kecamatan})
        click.echo(f"briefing written: {pdf_path} ({len(body):,} bytes, {ctx['scope_name']}, "
                   f"keadaan per {ctx['as_of']})")


def _record(obj, audit, action: str, path: Path, detail: dict) -> None:
    with obj.engine.begin() as conn:
        audit.record(conn, obj.actor, action, str(path), detail)


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
