"""`gisdesk export`: layers to GeoJSON, CSV or GeoPackage (several layers in one .gpkg).

The command line acts as the machine's owner (it holds the database itself): a named layer
is exported whatever its permission; ``--all`` leaves out layers a planner may not export (the
internal quick count) unless they are named too. Each export is audited as ``export.<layer>``
by ``cli:<os user>``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from gisdesk import layers as registry
from gisdesk.layers import exports
from gisdesk.analysis.catchup import for_command
from gisdesk.errors import NotFound
from gisdesk.layers.writers import RENDERERS


@click.command()
@click.argument("layer_ids", metavar="LAYER...", nargs=-1)
@click.option("-o", "--output", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Berkas yang ditulis (format mengikuti ekstensinya, kecuali ada --format).")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)),
              help="geojson, csv (+ berkas pendamping .csvt dan .prj), zip (CSV+CSVT+PRJ) atau "
                   "gpkg (bawaan: dari ekstensi berkas).")
@click.option("--bbox", metavar="W,S,E,N", help="Hanya fitur di dalam kotak ini (bujur/"
                                                "lintang, atau dalam --bbox-crs).")
@click.option("--bbox-crs", metavar="CRS", help="CRS untuk --bbox, mis. EPSG:32750.")
@click.option("--kecamatan-kode", "--kecamatan", "kecamatan", metavar="KODE",
              help="Hanya satu kecamatan, mis. 52.71.01 (kecamatan_kode di web; "
                   "--kecamatan nama lamanya).")
@click.option("--filter", "cql", metavar="CQL2",
              help="Saringan CQL2-text, seperti filter= di API, mis. \"kelas = 'rawan'\".")
@click.option("--crs", metavar="CRS", help="CRS keluaran, mis. EPSG:32750 (UTM 50S), "
                                           "EPSG:4755 (DGN95), EPSG:23840 (TM-3); bawaan CRS84.")
@click.option("--all", "all_layers", is_flag=True,
              help="Setiap lapisan yang boleh diekspor perencana (hanya GeoPackage); lapisan "
                   "terbatas seperti hitung cepat hanya bila disebut juga.")
@click.pass_obj
def export(obj, layer_ids, output, fmt, bbox, bbox_crs, kecamatan, cql, crs, all_layers):
    """Ekspor LAYER pemilu aktif (contoh: `gisdesk export tps -o tps.csv`)."""
    known = registry.load(obj.settings.layers_dir)
    if all_layers:
        # a layer behind a stronger right than planner's (the internal quick count) goes into
        # a file only when named: a desk.gpkg handed on must not carry it by accident
        withheld = [i for i, layer in known.items() if not exports.may_export("planner", layer)]
        layer_ids = tuple(i for i in known if i not in withheld) + layer_ids
        for layer_id in withheld:
            if layer_id not in layer_ids:
                click.echo(f"{layer_id}: dilewati (hak '{known[layer_id].permission}'); "
                           "sebut namanya untuk mengekspornya", err=True)
    if not layer_ids:
        raise click.UsageError(f"Sebutkan lapisan (atau --all). Lapisan: {', '.join(known)}")
    unknown = [i for i in layer_ids if i not in known]
    if unknown:
        raise click.BadParameter(f"lapisan tidak dikenal: {', '.join(unknown)}; yang ada: "
                                 f"{', '.join(known)}", param_hint="LAYER")
    try:
        fmt = exports.format_for(output, fmt)
    except Exception as exc:
        raise click.BadParameter(str(getattr(exc, "message", exc)), param_hint="--format")
    if len(layer_ids) > 1 and RENDERERS[fmt].write is None:
        raise click.UsageError(f"{fmt} memuat satu lapisan per berkas; pakai .gpkg untuk beberapa")
    chosen = [known[i] for i in dict.fromkeys(layer_ids)]
    # the same parameters, names and checks as the web export and the API
    args = {k: [v] for k, v in (("bbox", bbox), ("bbox-crs", bbox_crs), ("crs", crs))
            if v is not None}
    selections = {layer.id: exports.parse_selection(
        layer, {**args, **({"filter": [cql]} if cql else {})}) for layer in chosen}
    selection = selections[chosen[0].id]
    engine = obj.engine
    try:
        election_id = for_command(engine, obj.settings.rules_file)
    except NotFound:
        election_id = None  # boundaries can be exported before any election exists
    if kecamatan:
        with engine.connect() as conn:
            for layer in chosen:
                selections[layer.id] = dataclasses.replace(selections[layer.id], filters={
                    **selections[layer.id].filters,
                    **exports.check_kecamatan(conn, layer, kecamatan)})
    counts = exports.write_file(engine, chosen, output, fmt, selection,
                                election_id=election_id, actor=obj.actor, via="cli",
                                per_layer=selections)
    for layer_id, n in counts.items():
        click.echo(f"{layer_id}: {n} fitur -> {output} ({fmt})")
