"""`gisdesk import ratings|personnel|incidents|readiness FILE`: bulk files on the import group.

Each file is checked whole; exit 1 with a report naming every bad row (row, field, reason)
and nothing written, or every row in one transaction. Re-importing a file changes nothing.
"""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.cli.imports import FILE, _guarded, _progress, import_


def _options(f):
    f = click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write every problem found as CSV (row, field, severity, reason).")(f)
    f = click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")(f)
    return f


def _taxonomy(obj):
    from gisdesk.entry.taxonomy import load_taxonomy
    return load_taxonomy(obj.settings.extra.get("incident_types_file"))


@import_.command("ratings")
@click.argument("file", type=FILE)
@click.option("--source", type=click.Choice(["polri", "kpu", "bawaslu"]),
              help="Who rated (else a 'sumber' column on every row).")
@_options
@click.pass_obj
def ratings(obj, file, source, dry_run, report_file):
    """Vulnerability ratings per TPS or kelurahan (class words or Bawaslu indicators, date)."""
    from gisdesk.analysis import load_rules
    from gisdesk.ingest.write_ratings import import_ratings
    _guarded(lambda: import_ratings(obj.engine, file, actor=obj.actor, source=source,
                                    rules=load_rules(obj.settings.rules_file), dry_run=dry_run,
                                    progress=_progress), report_file)


@import_.command("personnel")
@click.argument("file", type=FILE)
@_options
@click.pass_obj
def personnel(obj, file, dry_run, report_file):
    """Personnel assignments: instansi, sasaran (TPS, kelurahan or cadangan), jumlah, satuan."""
    from gisdesk.ingest.write_personnel import import_personnel
    _guarded(lambda: import_personnel(obj.engine, file, actor=obj.actor, dry_run=dry_run,
                                      progress=_progress), report_file)


@import_.command("incidents")
@click.argument("file", type=FILE)
@click.option("--layer", help="Layer to read (GeoPackage with several).")
@click.option("--src-crs", help="CRS of a file without one, e.g. EPSG:32750.")
@click.option("--confirm-warnings", is_flag=True,
              help="Accept rows far from any TPS or just outside the area (as confirmed).")
@_options
@click.pass_obj
def incidents(obj, file, layer, src_crs, confirm_warnings, dry_run, report_file):
    """Incident reports (CSV with lon/lat or koordinat, GeoJSON, GeoPackage)."""
    from gisdesk.ingest.write_bulk_entry import import_incidents
    _guarded(lambda: import_incidents(obj.engine, file, actor=obj.actor, tax=_taxonomy(obj),
                                      confirm_warnings=confirm_warnings, layer=layer,
                                      src_crs=src_crs, dry_run=dry_run, progress=_progress),
             report_file)


@import_.command("readiness")
@click.argument("file", type=FILE)
@_options
@click.pass_obj
def readiness(obj, file, dry_run, report_file):
    """TPS readiness checklists: a TPS code and one 1/0 (ya/tidak) column per item."""
    from gisdesk.ingest.write_bulk_entry import import_readiness
    _guarded(lambda: import_readiness(obj.engine, file, actor=obj.actor, tax=_taxonomy(obj),
                                      dry_run=dry_run, progress=_progress), report_file)
