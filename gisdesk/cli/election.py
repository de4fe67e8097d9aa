"""`gisdesk election ...`: the elections the desk works on (one is active)."""
from __future__ import annotations

import click
from sqlalchemy import text

from gisdesk import audit
from gisdesk.errors import Conflict


@click.group()
def election():
    """Membuat dan mengaktifkan pemilu."""


@election.command("add")
@click.argument("kode")
@click.option("--name", required=True, help="mis. 'Pilkada 2024 Kota Mataram'")
@click.option("--kind", type=click.Choice(["pemilu", "pilkada"]), required=True)
@click.option("--date", "voting_date", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--campaign-start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--max-voters", type=click.IntRange(1, 5000), default=300, show_default=True)
@click.option("--wilayah", help="Kode kab/kota, mis. 52.71")
@click.option("--activate/--no-activate", default=True, show_default=True)
@click.pass_obj
def add(obj, kode, name, kind, voting_date, campaign_start, max_voters, wilayah, activate):
    """Tambah pemilu KODE (dan jadikan yang aktif)."""
    with obj.engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM election WHERE kode = :k"), {"k": kode}).first():
            raise Conflict(f"Pemilu {kode} sudah ada (lihat `gisdesk election list`).",
                           field="kode")
        if activate:
            conn.execute(text("UPDATE election SET active = false WHERE active"))
        conn.execute(text("""
            INSERT INTO election (kode, nama, kind, voting_date, campaign_start,
                                  max_voters_per_tps, wilayah_kode, active)
            VALUES (:k, :n, :kind, :d, :c, :m, :w, :a)"""),
            {"k": kode, "n": name, "kind": kind, "d": voting_date.date(),
             "c": campaign_start.date() if campaign_start else None, "m": max_voters,
             "w": wilayah, "a": activate})
        audit.record(conn, obj.actor, "election.add", kode, {"kind": kind, "active": activate})
    click.echo(f"pemilu {kode} ditambahkan" + (" dan aktif" if activate else ""))


@election.command("list")
@click.pass_obj
def list_(obj):
    """Daftar pemilu; * menandai yang aktif."""
    with obj.engine.connect() as conn:
        for r in conn.execute(text("SELECT kode, nama, voting_date, active FROM election ORDER BY id")):
            click.echo(f"{'*' if r.active else ' '} {r.kode:<28} {r.voting_date}  {r.nama}")
