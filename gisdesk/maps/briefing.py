"""The morning briefing for the city or one kecamatan: map, legend, totals, gap table,
suggestions, the time of the results and the sources, on A4 landscape. One page context
for the print view (/map/cetak) and the PDF (`gisdesk map --pdf`).

A big election (more TPS in the scope than the map draws one by one, the tiled map's
threshold) prints from the stored aggregates: totals as always, kelurahan shaded by their
gap (kecamatan outlines only when the scope holds too many kelurahan for one page), no TPS
points, and the largest gaps with the count of all.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Connection, text

from gisdesk import layers as registry
from gisdesk.analysis import report
from gisdesk.errors import NotFound
from gisdesk.layers.registry import Layer
from gisdesk.maps import data, svgmap
from gisdesk.maps.builder import TILES_MIN_TPS
from gisdesk.maps.labels import VOCABULARIES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "briefing.html"
TIMED_HOURS = 24       # timed layers (incidents) show the day before the results' time
SUGGESTIONS_MAX = 25
GAPS_MAX_BIG = 40          # a big election lists its largest gaps, not thousands of rows
KELURAHAN_DRAWN_MAX = 3000 # more polygons than this make an unreadable page and a huge PDF


def _area(conn: Connection, kecamatan_kode: str | None) -> svgmap.Frame:
    row = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e "
        "FROM kelurahan WHERE CAST(:k AS text) IS NULL OR kecamatan_kode = :k) x"),
        {"k": kecamatan_kode}).one()
    if row[0] is None:
        raise NotFound("Belum ada batas kelurahan untuk dicetak.", field="kecamatan")
    return svgmap.Frame(*row)


def suggestions(conn: Connection, election_id: int, kecamatan_kode: str | None) -> list[dict]:
    """The stored suggestions for kelurahan in the scope, in their rank order."""
    return [dict(r) for r in conn.execute(text(
        "SELECT s.rank, s.agency, s.count, s.move_text, s.reasons, k.nama AS kelurahan_nama "
        "FROM suggestion s JOIN kelurahan k ON k.kode = s.kelurahan_kode "
        "WHERE s.election_id = :e AND (CAST(:k AS text) IS NULL OR k.kecamatan_kode = :k) "
        "ORDER BY s.rank, s.id LIMIT :n"),
        {"e": election_id, "k": kecamatan_kode, "n": SUGGESTIONS_MAX}).mappings()]


def context(conn: Connection, election_id: int, *, role: str, layers: dict[str, Layer],
            kecamatan_kode: str | None = None, printed_by: str | None = None,
            now: dt.datetime | None = None, big_from: int = TILES_MIN_TPS) -> dict:
    """Everything briefing.html shows, from ``layers`` (the registry) as ``role`` may see them;
    a scope of more than ``big_from`` TPS is printed from the aggregates (module docstring)."""
    election = data.election(conn, election_id)
    if election is None:
        raise NotFound(f"Pemilihan {election_id} tidak ada.", field="election_id")
    if election.get("version") is None:
        raise NotFound(data.NO_RESULTS, field="election_id")
    summary = data.summary(conn, election_id, kecamatan_kode=kecamatan_kode)
    kecamatan_kode = summary["scope"]["kecamatan_kode"]          # checked by summary()
    big = summary["tps"] > big_from
    skipped = set()
    if big:
        skipped.add("tps")
        if _kelurahan_count(conn, election_id, kecamatan_kode) > KELURAHAN_DRAWN_MAX:
            skipped.add("kelurahan_gap")
    drawn = [layer for layer in registry.visible_layers(role, layers).values()
             if layer.default_visible and layer.source not in skipped]
    frame = _area(conn, kecamatan_kode)
    until = election["as_of"] or dt.datetime.now(dt.timezone.utc)
    svg = svgmap.draw(conn, drawn, election_id=election_id, frame=frame,
                      kecamatan_kode=kecamatan_kode, since=until - dt.timedelta(hours=TIMED_HOURS),
                      until=until)
    gaps = [g for g in data.gap_rows(conn, election_id, kecamatan_kode=kecamatan_kode,
                                     limit=GAPS_MAX_BIG if big else None)
            if g["polri_gap"] > 0 or g["linmas_gap"] > 0]
    return {
        "election": election, "summary": summary, "as_of": data.wita(election["as_of"]),
        "kelas_labels": VOCABULARIES["kelas"], "svg": svg,
        "legend": [(layer.title, svgmap.legend(layer)) for layer in
                   sorted(drawn, key=lambda layer: layer.order)
                   if layer.style.get("kind") not in svgmap.SKIPPED_KINDS],
        "timed_hours": TIMED_HOURS, "gaps": gaps,
        "gaps_total": max(summary["kelurahan_short"], len(gaps)) if big else len(gaps),
        "tps_not_drawn": summary["tps"] if big else None,
        "suggestions": suggestions(conn, election_id, kecamatan_kode),
        "scope_name": ("Kecamatan " + summary["scope"]["kecamatan_nama"]) if kecamatan_kode
        else "Seluruh kota",
        "printed": data.wita(now or dt.datetime.now(dt.timezone.utc)), "printed_by": printed_by,
        "sources": _sources(conn, election_id),
    }


def _kelurahan_count(conn: Connection, election_id: int, kecamatan_kode: str | None) -> int:
    return conn.execute(text(
        "SELECT count(*) FROM kelurahan_gap WHERE election_id = :e "
        "AND (CAST(:k AS text) IS NULL OR kecamatan_kode = :k)"),
        {"e": election_id, "k": kecamatan_kode}).scalar_one()


def _sources(conn: Connection, election_id: int) -> list[str]:
    """Where the numbers come from: the pattern in force and the rating sources loaded."""
    rows = conn.execute(text(
        "SELECT DISTINCT upper(source) FROM rating WHERE election_id = :e ORDER BY 1"),
        {"e": election_id}).scalars().all()
    pattern = report.run_header(conn, election_id)[1]
    out = []
    if rows:
        out.append("penilaian kerawanan: " + ", ".join(
            r.replace("POLRI", "Polri").replace("BAWASLU", "Bawaslu") for r in rows))
    if pattern and pattern != "-":
        out.append(f"kebutuhan personel: {pattern}")
    out.append("penugasan personel, laporan kejadian dan kesiapan TPS: gisdesk (Desk Pemilu)")
    return out


def render(ctx: dict) -> str:
    """The briefing as one HTML page with its styles inline (for the PDF and for files)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader(str(ROOT / "templates")),
                      autoescape=select_autoescape(["html"]))
    return env.get_template(TEMPLATE).render(**ctx, standalone=True)


def pdf(ctx: dict) -> bytes:
    """The briefing as a PDF (WeasyPrint: HTML + CSS to PDF, no browser)."""
    from weasyprint import HTML
    return HTML(string=render(ctx), base_url=str(ROOT)).write_pdf()
