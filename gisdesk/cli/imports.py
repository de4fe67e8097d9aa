"""`gisdesk import KIND FILE`: boundary, TPS and facility files (more kinds register here)."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.cli.report import print_notes, write_report
from gisdesk.errors import InputRejected

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _common(f):
    f = click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write every problem found as CSV (row, field, severity, reason).")(f)
    f = click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")(f)
    f = click.option("--src-crs", help="CRS of a file without one, e.g. EPSG:32750.")(f)
    f = click.option("--layer", help="Layer to read (GeoPackage or zip with several).")(f)
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
    """Import a file (GeoJSON, GeoPackage, Shapefile/zip, CSV). Exit 1: rejected, nothing written."""


@import_.command("boundaries")
@click.argument("file", type=FILE)
@click.option("--level", type=click.Choice(["kecamatan", "kelurahan"]),
              help="What the file holds (detected from its fields when not given).")
@click.option("--code-field", help="Field with the Kemendagri code.")
@click.option("--name-field", help="Field with the name.")
@click.option("--parent-field", help="Field with the kecamatan code (or name) of a kelurahan.")
@_common
@click.pass_obj
def boundaries(obj, file, level, code_field, name_field, parent_field, layer, src_crs, dry_run,
               report_file):
    """Kelurahan/desa or kecamatan boundaries (BIG RBI, GADM, HDX, geoBoundaries, plain)."""
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
    """TPS points of the active election (kelurahan code or name, TPS number, DPT)."""
    from gisdesk.ingest.write_points import import_tps
    _guarded(lambda: import_tps(obj.engine, file, actor=obj.actor, layer=layer,
                                src_crs=src_crs, dry_run=dry_run, progress=_progress), report_file)


@import_.command("facilities")
@click.argument("file", type=FILE)
@_common
@click.pass_obj
def facilities(obj, file, layer, src_crs, dry_run, report_file):
    """Facilities: PPS/PPK secretariats, puskesmas, Polsek, posts..."""
    from gisdesk.ingest.write_points import import_facilities
    _guarded(lambda: import_facilities(obj.engine, file, actor=obj.actor, layer=layer,
                                       src_crs=src_crs, dry_run=dry_run, progress=_progress), report_file)
from gisdesk.cli import imports_more  # noqa: E402,F401
