"""`gisdesk import KIND FILE`: boundary, TPS and facility files (more kinds register here)."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.cli.report import print_notes, write_report
from gisdesk.errors import InputRejected

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _common(f):
    f = click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Tulis juga setiap masalah yang ditemukan sebagai CSV (baris, kolom, tingkat, alasan).")(f)
    f = click.option("--dry-run", is_flag=True, help="Periksa dan hitung, tanpa menulis apa pun.")(f)
    f = click.option("--src-crs", help="CRS untuk berkas yang tidak menyebutnya, mis. EPSG:32750.")(f)
    f = click.option("--layer", help="Lapisan yang dibaca (GeoPackage atau zip yang berisi beberapa).")(f)
    return f


def _finish(result_or_exc, report_file):
    problems = getattr(result_or_exc, "problems", [])
    if report_file:
        write_report(report_file, problems)
    if isinstance(result_or_exc, InputRejected):
        raise result_or_exc
    print_notes(problems)
    click.echo(result_or_exc.summary())


def _progress(message: str) -> None:
    """Phases of a long import, on a terminal only (scripts and CI get just the result)."""
    import sys
    if sys.stderr.isatty():
        click.echo(f"... {message}", err=True)


def _guarded(run, report_file):
    try:
        result = run()
    except InputRejected as exc:
        _finish(exc, report_file)
    else:
        _finish(result, report_file)


@click.group("import")
def import_():
    """Impor berkas (GeoJSON, GeoPackage, Shapefile/zip, CSV). Exit 1: ditolak, tidak ada yang ditulis."""


@import_.command("boundaries")
@click.argument("file", type=FILE)
@click.option("--level", type=click.Choice(["kecamatan", "kelurahan"]),
              help="Isi berkas (dikenali dari kolomnya bila tidak disebut).")
@click.option("--code-field", help="Kolom berisi kode Kemendagri.")
@click.option("--name-field", help="Kolom berisi nama.")
@click.option("--parent-field", help="Kolom berisi kode (atau nama) kecamatan sebuah kelurahan.")
@_common
@click.pass_obj
def boundaries(obj, file, level, code_field, name_field, parent_field, layer, src_crs, dry_run,
               report_file):
    """Batas kelurahan/desa atau kecamatan (BIG RBI, GADM, HDX, geoBoundaries, biasa)."""
    from gisdesk.ingest.write_boundaries import import_boundaries
    _guarded(lambda: import_boundaries(
        obj.engine, file, actor=obj.actor, level=level, layer=layer, code_field=code_field,
        name_field=name_field, parent_field=parent_field, src_crs=src_crs, dry_run=dry_run,
        progress=_progress), report_file)


@import_.command("tps")
@click.argument("file", type=FILE)
@_common
@click.pass_obj
def tps(obj, file, layer, src_crs, dry_run, report_file):
    """Titik TPS pemilu aktif (kode atau nama kelurahan, nomor TPS, DPT)."""
    from gisdesk.ingest.write_points import import_tps
    _guarded(lambda: import_tps(obj.engine, file, actor=obj.actor, layer=layer,
                                src_crs=src_crs, dry_run=dry_run, progress=_progress), report_file)


@import_.command("facilities")
@click.argument("file", type=FILE)
@_common
@click.pass_obj
def facilities(obj, file, layer, src_crs, dry_run, report_file):
    """Fasilitas: sekretariat PPS/PPK, puskesmas, Polsek, pos..."""
    from gisdesk.ingest.write_points import import_facilities
    _guarded(lambda: import_facilities(obj.engine, file, actor=obj.actor, layer=layer,
                                       src_crs=src_crs, dry_run=dry_run, progress=_progress), report_file)
from gisdesk.cli import imports_more  # noqa: E402,F401
