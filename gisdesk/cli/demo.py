"""`gisdesk demo`: the Mataram demo (real boundaries, generated and labelled TPS and events)."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import text

DEMO_BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "mataram_kelurahan.geojson"


@click.command()
@click.option("--scale", type=click.Choice(["city", "national"]), default="city", show_default=True)
@click.option("--seed", type=int, default=2024, show_default=True)
@click.option("--if-empty", is_flag=True, help="Tidak berbuat apa pun bila sudah ada pemilu.")
@click.option("--activate", is_flag=True,
              help="(nasional) jadikan pemilu nasional yang aktif.")
@click.pass_obj
def demo(obj, scale, seed, if_empty, activate):
    """Muat data demo: Kota Mataram, Pemilu 2024 (DATA DEMO), 1.248 TPS buatan.

    `--scale national`: batas dan TPS sintetis untuk seluruh Indonesia (38 provinsi,
    514 kab/kota, 7.277 kecamatan, 83.731 kelurahan/desa, 820.161 TPS) sebagai pemilu
    tersendiri `pemilu-2024-nasional`, tidak aktif kecuali dengan --activate. Makan waktu
    satu-dua menit.
    """
    if scale == "national":
        _national(obj, seed, if_empty, activate)
        return
    from gisdesk.analysis.store import recompute
    from gisdesk.demo.generate import DEFAULT_AS_OF
    from gisdesk.demo.load import load_demo
    from gisdesk.ingest.write_boundaries import import_boundaries

    with obj.engine.connect() as conn:
        if if_empty and conn.execute(text("SELECT 1 FROM election LIMIT 1")).first():
            click.echo("basis data sudah berisi: demo tidak dimuat")
            return
    result = import_boundaries(obj.engine, DEMO_BOUNDARIES, actor=obj.actor)
    click.echo(result.summary())
    with obj.engine.begin() as conn:
        counts = load_demo(conn, seed=seed, as_of=DEFAULT_AS_OF, actor=obj.actor)
        # the demo is a fixed moment (voting morning) so its numbers are reproducible
        conn.execute(text("UPDATE election SET pinned_as_of = :a WHERE is_demo "
                          "AND pinned_as_of IS NULL"), {"a": DEFAULT_AS_OF})
        analysis = recompute(conn)
    shown = {k: v for k, v in counts.items() if k not in ("seconds",)}
    click.echo("demo: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    click.echo(f"analisis: {analysis.n_tps} TPS, {analysis.n_suggestions} saran "
               f"({analysis.pattern_set})")


def _national(obj, seed, if_empty, activate):
    import time

    from gisdesk.demo.national import load_national

    with obj.engine.connect() as conn:
        if if_empty and conn.execute(text("SELECT 1 FROM election LIMIT 1")).first():
            click.echo("basis data sudah berisi: demo tidak dimuat")
            return
    started = time.perf_counter()
    with obj.engine.begin() as conn:
        counts = load_national(conn, seed=seed, activate=activate, actor=obj.actor,
                               progress=lambda m: click.echo(
                                   f"[{time.perf_counter() - started:6.1f} s] {m}"))
    timings = counts.pop("timings", None)
    click.echo("national demo: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    if timings:
        click.echo("timings: " + ", ".join(f"{k}={v}" for k, v in timings.items()))
    if not counts.get("created"):
        click.echo("(pemilu nasional sudah ada: tidak ada yang dibuat)")
    click.echo("pemilu aktif: " + ("pemilu-2024-nasional" if activate else "tidak berubah "
               "(pakai --activate untuk beralih ke pemilu nasional)"))
