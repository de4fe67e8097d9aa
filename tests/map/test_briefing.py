"""The briefing print: /map/cetak (HTML for the browser's print), /map/cetak.pdf and
`gisdesk map --pdf`, for the city and one kecamatan, on the hand-made map seed."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk.cli import main
from map.conftest import login

MOVE = "6 Polri dari kelurahan Pagesangan (2 km) ke Ampenan Selatan"


@pytest.fixture(scope="module", autouse=True)
def a_suggestion(engine, seeded):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO suggestion (election_id, rank, kelurahan_kode, agency, count, from_kind, "
            "from_kelurahan_kode, required, assigned, gap, move_text, reasons, kabkota_kode) VALUES "
            "(:e, 1, '52.71.01.1004', 'polri', 2, 'kelurahan', '52.71.02.1001', 10, 4, 6, :m, "
            "'[\"3 TPS sangat rawan\"]', '52.71')"), {"e": seeded["election_id"], "m": MOVE})


def test_print_view_of_a_kecamatan_has_map_legend_totals_gaps_suggestions_time_and_source(app):
    client = login(app.test_client(), "viewer")
    html = client.get("/map/cetak?kecamatan=52.71.01").get_data(as_text=True)
    assert "Briefing pengamanan TPS · Kecamatan Ampenan" in html
    assert "size: A4 landscape" in html
    svg = re.search(r'<svg class="briefing-map".*?</svg>', html, re.S).group(0)
    kelurahan = re.search(r'<g class="layer-kelurahan">(.*?)</g>', svg, re.S).group(1)
    assert kelurahan.count("<path") == 2            # Ampenan's two, not Pagesangan
    tps = re.search(r'<g class="layer-tps">(.*?)</g>', svg, re.S).group(1)
    assert tps.count("<circle") == 20
    assert "Ampenan Selatan −6" in svg               # the short kelurahan are named on the map
    assert "Kekurangan personel Polri per kelurahan" in html and "Kurang 6 atau lebih" in html
    assert "Kelurahan yang kekurangan personel (2)" in html
    assert MOVE in html                              # its kelurahan is in Ampenan
    assert "keadaan per 14 Feb 2024 13:00 WITA" in html and "oleh viewer" in html
    assert "Sumber:" in html and "Kembali ke peta" in html


def test_print_view_of_another_kecamatan_leaves_out_what_is_not_there(app):
    client = login(app.test_client(), "viewer")
    html = client.get("/map/cetak?kecamatan=52.71.02").get_data(as_text=True)
    assert "Kecamatan Mataram" in html and MOVE not in html
    assert "Tidak ada kelurahan yang kekurangan personel." in html
    assert client.get("/map/cetak?kecamatan=salah").status_code == 422


def test_pdf_of_the_city_is_a4_landscape(app):
    client = login(app.test_client(), "viewer")
    response = client.get("/map/cetak.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert 'filename="briefing-kota.pdf"' in response.headers["Content-Disposition"]
    from weasyprint import HTML

    from gisdesk.maps import briefing
    with app.extensions["gisdesk.engine"].connect() as conn:
        ctx = briefing.context(conn, _election(conn), role="viewer",
                               layers=app.extensions["gisdesk.layers"])
    assert ctx["scope_name"] == "Seluruh kota"
    pages = HTML(string=briefing.render(ctx)).render().pages
    assert len(pages) == 2                      # map page, then gaps and suggestions
    assert pages[0].width > pages[0].height     # landscape
    assert round(pages[0].width * 0.75) == 842  # A4 long side in points (CSS px * 0.75)


def _election(conn) -> int:
    return conn.execute(text("SELECT id FROM election WHERE active")).scalar_one()


def test_cli_writes_the_briefing_pdf_for_a_kecamatan(engine, tmp_path):
    out = tmp_path / "briefing.pdf"
    env = {"GISDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(main, ["map", "--pdf", str(out), "--kecamatan", "52.71.01"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "Kecamatan Ampenan" in result.output and out.read_bytes().startswith(b"%PDF")
    with engine.connect() as conn:
        action = conn.execute(text("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")).scalar()
    assert action == "export.briefing"
    bad = CliRunner().invoke(main, ["map", "--pdf", str(tmp_path / "x.pdf"), "--kecamatan",
                                    "52.71.99"], env=env)
    assert bad.exit_code == 1 and "52.71.99" in bad.output
    assert not (tmp_path / "x.pdf").exists()
    usage = CliRunner().invoke(main, ["map"], env=env)
    assert usage.exit_code == 2
