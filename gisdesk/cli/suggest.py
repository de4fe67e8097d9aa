"""`gisdesk suggest`: where extra personnel are needed, from where, and why."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import click

from gisdesk.analysis import report
from gisdesk.analysis.catchup import for_command
from gisdesk.analysis.store import recompute


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "geojson"]), default="table")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"]),
              help="Hitung pada waktu ini (ISO 8601 dengan zona); bawaan: sekarang, atau "
                   "waktu yang dipatok pemilu (demo).")
@click.pass_obj
def suggest(obj, fmt, output, as_of):
    """Saran untuk pemilu aktif (angka yang sama dengan peta)."""
    if as_of is None:   # what the map shows, brought up to date (no worker may run)
        election_id = for_command(obj.engine, obj.settings.rules_file)
        with obj.engine.connect() as conn:
            rows = report.suggestions(conn, election_id)
            as_of, pattern_set = report.run_header(conn, election_id)
    else:
        with obj.engine.connect() as conn:
            trans = conn.begin()
            result = recompute(conn, as_of=as_of)
            rows = report.suggestions(conn, result.election_id)
            as_of, pattern_set = result.as_of, result.pattern_set
            # a look at another moment: shown here, not stored as what the map shows
            trans.rollback()
    if fmt == "geojson":
        text = report.dumps_geojson(rows)
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=report.SUGGESTION_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "reasons": "; ".join(r["reasons"])})
        text = buf.getvalue()
    else:
        text = _table(rows, as_of, pattern_set)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} baris saran ditulis ke {output}")
    else:
        click.echo(text, nl=False)


def _table(rows: list[dict], as_of: dt.datetime, pattern_set: str) -> str:
    wita = as_of.astimezone(dt.timezone(dt.timedelta(hours=8)))
    lines = [f"Saran penambahan personel (pola: {pattern_set}; "
             f"per {wita:%d-%m-%Y %H:%M} WITA)", ""]
    last = None
    for r in rows:
        key = (r["rank"], r["kelurahan_kode"], r["agency"])
        if key != last:
            lines.append(f"{r['rank']:>3}. {r['kelurahan']} ({r['kelurahan_kode']}, "
                         f"{r['kecamatan']}): kurang {r['gap']} {r['agency'].capitalize()} "
                         f"(butuh {r['required']}, ada {r['assigned']})")
            lines.append(f"       alasan: {'; '.join(r['reasons'])}")
            last = key
        lines.append(f"       - {r['move']}")
    if not rows:
        lines.append("Tidak ada kekurangan personel.")
    return "\n".join(lines) + "\n"
