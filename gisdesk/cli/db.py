"""`gisdesk db ...`: the database's life cycle."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.db import backup as backups
from gisdesk.db import cluster as embedded
from gisdesk.db.engine import database_url
from gisdesk.db.migrate import current_revision, head_revision, upgrade
from gisdesk.indonesian import angka


@click.group()
def db():
    """Membuat, menyalakan, menghentikan, memigrasi, mencadangkan dan memulihkan basis data."""


@db.command()
@click.pass_obj
def up(obj):
    """Buat (pertama kali) dan nyalakan klaster bawaan; periksa server yang dikonfigurasi."""
    url = database_url(obj.settings)
    from sqlalchemy import text
    with obj.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    where = "GISDESK_DATABASE_URL" if obj.settings.database_url else "klaster bawaan"
    click.echo(f"basis data menyala ({where}): {_safe(url)}")


@db.command()
@click.pass_obj
def down(obj):
    """Hentikan klaster bawaan (server yang dikonfigurasi dibiarkan)."""
    if obj.settings.database_url:
        click.echo("GISDESK_DATABASE_URL diisi: server luar tidak dihentikan.")
        return
    embedded.stop(embedded.locate(obj.settings.home))
    click.echo("klaster bawaan dihentikan")


@db.command()
@click.pass_obj
def status(obj):
    """Di mana basis data, apakah berjalan, dan revisi skemanya."""
    if not obj.settings.database_url:
        cl = embedded.locate(obj.settings.home)
        click.echo(f"klaster bawaan: {cl.data} "
                   f"({'berjalan' if embedded.is_running(cl) else 'berhenti'})")
        if not embedded.is_running(cl):
            return
    click.echo(f"url: {_safe(database_url(obj.settings))}")
    current, head = current_revision(obj.engine), head_revision()
    click.echo(f"skema: {current or 'kosong'} (terbaru {head})"
               + ("" if current == head else "  -> jalankan `gisdesk db migrate`"))


@db.command()
@click.pass_obj
def migrate(obj):
    """Naikkan skema ke revisi terbaru (Alembic)."""
    upgrade(obj.engine)
    click.echo(f"skema pada {current_revision(obj.engine)}")


@db.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def backup(obj, output):
    """Tulis pg_dump (format custom) seluruh basis data."""
    from gisdesk import audit_anchor
    # the head taken first is surely in the backup; it is kept outside the database
    taken = audit_anchor.take(obj.engine, obj.settings.var)
    backups.backup(database_url(obj.settings), output)
    click.echo(f"cadangan ditulis: {output} ({angka(output.stat().st_size)} bita)")
    if taken:
        click.echo(taken.line())


@db.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Ganti isi basis data dengan cadangan ini?",
                          help="Setujui tanpa ditanya.")
@click.pass_obj
def restore(obj, source):
    """Ganti isi basis data dengan cadangan buatan `gisdesk db backup`."""
    obj.engine.dispose()
    backups.restore(database_url(obj.settings), source)
    click.echo(f"dipulihkan dari {source}")


def _safe(url: str) -> str:
    from sqlalchemy import make_url
    return make_url(url).render_as_string(hide_password=True)
