"""`gisdesk users ...`: accounts from the command line."""
from __future__ import annotations

import click

from gisdesk import accounts
from gisdesk.roles import ROLES


@click.group()
def users():
    """Manage user accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--agency", help="Agency (kpu, polri, bawaslu, pemkot, tni, ...); operators need one.")
@click.option("--kelurahan", "kelurahan_kode", help="Kelurahan code this user is scoped to.")
@click.option("--full-name")
@click.password_option(envvar="GISDESK_NEW_PASSWORD")
@click.pass_obj
def add(obj, name, role, agency, kelurahan_kode, full_name, password):
    """Add user NAME with ROLE (password asked twice, or GISDESK_NEW_PASSWORD).

    Weak passwords are refused (zxcvbn score below 3 of 4, or containing the user name)."""
    with obj.engine.begin() as conn:
        accounts.create_user(conn, name, password, role, agency=agency,
                             kelurahan_kode=kelurahan_kode, full_name=full_name, actor=obj.actor)
    click.echo(f"user {name.lower()} added as {role}")


@users.command("token")
@click.argument("name")
@click.option("--label", default="api", help="What the token is for (e.g. 'QGIS laptop').")
@click.pass_obj
def token(obj, name, label):
    """Create a personal API token for NAME (shown once; stored only as a SHA-256)."""
    from sqlalchemy import text
    with obj.engine.begin() as conn:
        row = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                           {"u": name.lower()}).first()
        if row is None:
            raise click.UsageError(f"no user {name}")
        click.echo(accounts.create_token(conn, row[0], label, obj.actor))


def _ended(name: str, what: str, ended: dict) -> None:
    click.echo(f"user {name.lower()}: {what}; {ended.get('sessions_ended', 0)} session(s) "
               f"ended, {ended.get('tokens_revoked', 0)} token(s) revoked")


@users.command("passwd")
@click.argument("name")
@click.password_option(envvar="GISDESK_NEW_PASSWORD")
@click.pass_obj
def passwd(obj, name, password):
    """Set a new password for NAME; ends all their sessions and revokes their API tokens."""
    with obj.engine.begin() as conn:
        _ended(name, "password changed",
               accounts.change_password(conn, name, password, actor=obj.actor))


def _switch(active: bool, help_text: str):
    @click.argument("name")
    @click.pass_obj
    def command(obj, name):
        with obj.engine.begin() as conn:
            _ended(name, "enabled" if active else "disabled",
                   accounts.set_active(conn, name, active, actor=obj.actor))
    return users.command("enable" if active else "disable", help=help_text)(command)


disable = _switch(False, "Disable NAME: no login; their sessions end and their API tokens "
                         "are revoked.")
enable = _switch(True, "Enable NAME again (their old sessions and tokens stay ended).")
