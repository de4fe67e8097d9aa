"""`gisdesk incidents ...`: the supervisor's review of incident reports from the command line.

Reports are named by their UUID or its first characters (as `list` prints them). The same
rules as the web page apply (entry/review.py); every change is audited as ``cli:<os user>``.
"""
from __future__ import annotations

import datetime as dt

import click

from gisdesk.entry import WITA, active_election
from gisdesk.entry.incidents import STATUSES, list_incidents
from gisdesk.entry.review import LABELS, merge_candidates, resolve_id, review
from gisdesk.entry.taxonomy import load_taxonomy


def _tax(obj):
    return load_taxonomy(obj.settings.extra.get("incident_types_file"))


def _line(item: dict) -> str:
    when = dt.datetime.fromisoformat(item["occurred_at"]).astimezone(WITA)
    tps = f" · TPS {item['tps_kode'][-3:]}" if item.get("tps_kode") else ""
    return (f"{item['id'][:8]}  {when:%d-%m-%Y %H:%M} WITA  {LABELS[item['status']]:<13} "
            f"{item.get('category_label') or item['category']} ({item['severity']}) · "
            f"{item.get('kelurahan_nama') or '-'}{tps}")


@click.group()
def incidents():
    """Daftar, verifikasi, tolak dan gabungkan laporan kejadian (tinjauan kepala desk)."""


@incidents.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Hanya laporan dengan status ini.")
@click.option("--kelurahan", metavar="KODE", help="Hanya laporan di kelurahan ini.")
@click.option("-n", "--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.pass_obj
def list_(obj, status, kelurahan, limit):
    """Laporan pemilu aktif, terbaru dulu (id ditampilkan 8 karakter pertamanya)."""
    tax = _tax(obj)
    with obj.engine.connect() as conn:
        election = active_election(conn)
        page = list_incidents(conn, election_id=election["id"], status=status,
                              kelurahan=kelurahan, limit=limit, tax=tax,
                              with_duplicates=True)
    for item in page["items"]:
        dups = f"  (mungkin duplikat: {item['duplicates']})" if item.get("duplicates") else ""
        click.echo(_line(item) + dups)
    click.echo(f"{len(page['items'])} dari {page['total']} laporan.")


def _act(obj, ident: str, action: str, **kwargs) -> dict:
    tax = _tax(obj)
    with obj.engine.begin() as conn:
        full = resolve_id(conn, ident)
        into = kwargs.pop("into", None)
        return review(conn, full, action, actor=obj.actor, tax=tax,
                      into=resolve_id(conn, into, "into") if into else None, **kwargs)


@incidents.command()
@click.argument("ident", metavar="ID")
@click.option("--note", help="Catatan yang disimpan bersama keputusan.")
@click.pass_obj
def verify(obj, ident, note):
    """Tandai laporan terverifikasi (lalu menaikkan kelas TPS di sekitarnya)."""
    click.echo("Terverifikasi: " + _line(_act(obj, ident, "verify", note=note)))


@incidents.command()
@click.argument("ident", metavar="ID")
@click.option("--reason", required=True, help="Alasan laporan ditolak (wajib).")
@click.pass_obj
def reject(obj, ident, reason):
    """Tolak laporan, dengan alasannya."""
    click.echo("Ditolak: " + _line(_act(obj, ident, "reject", note=reason)))


@incidents.command()
@click.argument("ident", metavar="ID")
@click.option("--into", "into", metavar="ID", help="Laporan yang diduplikasinya. Tanpa opsi "
              "ini, calon (dekat tempat dan waktunya) didaftar.")
@click.pass_obj
def merge(obj, ident, into):
    """Gabungkan laporan duplikat ke laporan yang diulanginya."""
    if not into:
        with obj.engine.connect() as conn:
            found = merge_candidates(conn, resolve_id(conn, ident), _tax(obj))
        if not found:
            raise click.UsageError("Tidak ada laporan lain di sekitar waktu itu; "
                                   "tulis --into ID.")
        for c in found:
            mark = "mungkin duplikat" if c["likely"] else "di dekatnya"
            click.echo(f"{_line(c)}  [{mark}: {c['distance_m']:.0f} m, "
                       f"{c['minutes_apart']:.0f} menit]")
        click.echo("Gabungkan dengan: gisdesk incidents merge "
                   f"{ident} --into <ID dari daftar di atas>")
        return
    report = _act(obj, ident, "merge", into=into)
    click.echo(f"Digabung ke {report['merged_into'][:8]}: " + _line(report))
