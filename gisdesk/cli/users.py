"""`gisdesk users ...`: accounts from the command line."""
from __future__ import annotations

import click

from gisdesk import accounts
from gisdesk.roles import ROLES


@click.group()
def users():
    """Mengelola akun pengguna."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--agency", help="Instansi (kpu, polri, bawaslu, pemkot, tni, ...); wajib untuk operator.")
@click.option("--kelurahan", "kelurahan_kode", help="Kode kelurahan tempat pengguna ini bertugas.")
@click.option("--full-name")
@click.password_option(envvar="GISDESK_NEW_PASSWORD")
@click.pass_obj
def add(obj, name, role, agency, kelurahan_kode, full_name, password):
    """Tambah pengguna NAME dengan peran ROLE (kata sandi ditanya dua kali, atau
    GISDESK_NEW_PASSWORD).

    Kata sandi lemah ditolak (skor zxcvbn di bawah 3 dari 4, atau memuat nama pengguna)."""
    with obj.engine.begin() as conn:
        accounts.create_user(conn, name, password, role, agency=agency,
                             kelurahan_kode=kelurahan_kode, full_name=full_name, actor=obj.actor)
    click.echo(f"pengguna {name.lower()} ditambahkan sebagai {role}")


@users.command("token")
@click.argument("name")
@click.option("--label", default="api", help="Untuk apa token ini (mis. 'QGIS laptop').")
@click.pass_obj
def token(obj, name, label):
    """Buat token API pribadi untuk NAME (ditampilkan sekali; disimpan hanya SHA-256-nya)."""
    from sqlalchemy import text
    with obj.engine.begin() as conn:
        row = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                           {"u": name.lower()}).first()
        if row is None:
            raise click.UsageError(f"pengguna {name} tidak ada")
        click.echo(accounts.create_token(conn, row[0], label, obj.actor))


def _ended(name: str, what: str, ended: dict) -> None:
    click.echo(f"pengguna {name.lower()}: {what}; {ended.get('sessions_ended', 0)} sesi "
               f"diakhiri, {ended.get('tokens_revoked', 0)} token dicabut")


@users.command("passwd")
@click.argument("name")
@click.password_option(envvar="GISDESK_NEW_PASSWORD")
@click.pass_obj
def passwd(obj, name, password):
    """Tetapkan kata sandi baru untuk NAME; semua sesinya diakhiri dan token API-nya dicabut."""
    with obj.engine.begin() as conn:
        _ended(name, "kata sandi diganti",
               accounts.change_password(conn, name, password, actor=obj.actor))


def _switch(active: bool, help_text: str):
    @click.argument("name")
    @click.pass_obj
    def command(obj, name):
        with obj.engine.begin() as conn:
            _ended(name, "diaktifkan" if active else "dinonaktifkan",
                   accounts.set_active(conn, name, active, actor=obj.actor))
    return users.command("enable" if active else "disable", help=help_text)(command)


disable = _switch(False, "Nonaktifkan NAME: tidak bisa masuk; sesinya diakhiri dan token "
                         "API-nya dicabut.")
enable = _switch(True, "Aktifkan NAME lagi (sesi dan token lamanya tetap berakhir).")
