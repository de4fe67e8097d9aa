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
                     help="Tulis juga setiap masalah yang ditemukan sebagai CSV (baris, kolom, tingkat, alasan).")(f)
    f = click.option("--dry-run", is_flag=True, help="Periksa dan hitung, tanpa menulis apa pun.")(f)
    return f


def _taxonomy(obj):
    from gisdesk.entry.taxonomy import load_taxonomy
    return load_taxonomy(obj.settings.extra.get("incident_types_file"))


@import_.command("ratings")
@click.argument("file", type=FILE)
@click.option("--source", type=click.Choice(["polri", "kpu", "bawaslu"]),
              help="Siapa yang menilai (bila tidak, kolom 'sumber' di setiap baris).")
@_options
@click.pass_obj
def ratings(obj, file, source, dry_run, report_file):
    """Penilaian kerawanan per TPS atau kelurahan (kata kelas atau indikator Bawaslu, tanggal)."""
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
    """Penugasan personel: instansi, sasaran (TPS, kelurahan atau cadangan), jumlah, satuan."""
    from gisdesk.ingest.write_personnel import import_personnel
    _guarded(lambda: import_personnel(obj.engine, file, actor=obj.actor, dry_run=dry_run,
                                      progress=_progress), report_file)


@import_.command("incidents")
@click.argument("file", type=FILE)
@click.option("--layer", help="Lapisan yang dibaca (GeoPackage yang berisi beberapa).")
@click.option("--src-crs", help="CRS untuk berkas yang tidak menyebutnya, mis. EPSG:32750.")
@click.option("--confirm-warnings", is_flag=True,
              help="Terima baris yang jauh dari TPS atau tepat di luar wilayah (dianggap dikonfirmasi).")
@_options
@click.pass_obj
def incidents(obj, file, layer, src_crs, confirm_warnings, dry_run, report_file):
    """Laporan kejadian (CSV dengan lon/lat atau koordinat, GeoJSON, GeoPackage)."""
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
    """Daftar periksa kesiapan TPS: kode TPS dan satu kolom 1/0 (ya/tidak) per butir."""
    from gisdesk.ingest.write_bulk_entry import import_readiness
    _guarded(lambda: import_readiness(obj.engine, file, actor=obj.actor, tax=_taxonomy(obj),
                                      dry_run=dry_run, progress=_progress), report_file)
