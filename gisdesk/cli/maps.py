"""`gisdesk map -o FILE.html`: a standalone briefing map (data and scripts inside the file)."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.indonesian import angka
from gisdesk.roles import ROLES


@click.command("map")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Tulis peta HTML mandiri (data dan skrip di dalam berkas).")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Tulis cetakan briefing (PDF A4 mendatar: peta, legenda, jumlah, "
                   "kekurangan, saran).")
@click.option("--kecamatan", metavar="KODE", help="Briefing untuk satu kecamatan (mis. 52.71.01).")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="Tampilkan hanya lapisan yang boleh dilihat peran ini.")
@click.pass_obj
def map_(obj, output, pdf_path, kecamatan, role):
    """Tulis peta HTML mandiri dan/atau briefing PDF (jalan tanpa internet, tanpa CDN)."""
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
        click.echo(f"peta ditulis: {output} ({angka(len(html.encode()))} bita, lapisan untuk peran "
                   f"{role})")
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
        click.echo(f"briefing ditulis: {pdf_path} ({angka(len(body))} bita, {ctx['scope_name']}, "
                   f"keadaan per {ctx['as_of']})")


def _record(obj, audit, action: str, path: Path, detail: dict) -> None:
    with obj.engine.begin() as conn:
        audit.record(conn, obj.actor, action, str(path), detail)


def _layers_group():
    @click.group("layers")
    def layers():
        """Deklarasi lapisan peta/ekspor (layers/*.toml)."""

    @layers.command("check")
    @click.pass_obj
    def check(obj):
        """Periksa setiap berkas lapisan; galat menyebut berkas dan kolomnya (exit 1)."""
        from gisdesk.layers import check as check_dir
        errors = check_dir(obj.settings.layers_dir)
        for e in errors:
            click.echo(e, err=True)
        if errors:
            raise SystemExit(1)
        n = len(list(Path(obj.settings.layers_dir).glob("*.toml")))
        click.echo(f"{n} berkas lapisan baik di {obj.settings.layers_dir}")

    return layers


layers = _layers_group()
