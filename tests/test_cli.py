"""The `gisdesk` command in-process (click's CliRunner) against a real PostGIS.

The group builds its settings from the environment when invoked, so every call passes
GISDESK_DATABASE_URL of the test database. Imports, elections, users and `db status` use the
module database; the demo and `suggest` get a database of their own (the demo only loads
into a database without an election).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re

import pyogrio
import pytest
from click.testing import CliRunner
from sqlalchemy import make_url, text

from gisdesk import accounts
from gisdesk.cli import main
from gisdesk.db import testing as dbtesting
from gisdesk.db.engine import get_engine
from gisdesk.db.migrate import head_revision
from ingest.ingest_helpers import SHIPPED, write


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def gisdesk(engine):
    """Run `gisdesk ARGS...` against the module database."""
    runner = CliRunner()
    env = {"GISDESK_DATABASE_URL": url_of(engine)}

    def run(*args, extra_env=None, input=None):
        return runner.invoke(main, [str(a) for a in args], env={**env, **(extra_env or {})},
                             input=input)
    return run


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    return pyogrio.read_dataframe(SHIPPED)


@pytest.fixture(scope="module")
def duplicate_codes_file(shipped, tmp_path_factory):
    frame = shipped.copy()
    frame.loc[8, "kode"] = frame.loc[2, "kode"]
    return write(frame, tmp_path_factory.mktemp("bad") / "kode_ganda.geojson")


def counts(engine) -> dict:
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("kecamatan", "kelurahan", "tps", "election", "users", "audit_log")}


def test_the_settings_are_read_from_the_environment_at_invoke_time(gisdesk, engine):
    result = gisdesk("db", "status")
    assert result.exit_code == 0, result.output
    assert f"/{engine.url.database}" in result.output
    assert f"skema: {head_revision()} (terbaru {head_revision()})" in result.output
    assert "migrate" not in result.output


def test_suggest_without_an_active_election_says_what_to_do(gisdesk):
    result = gisdesk("suggest")
    assert result.exit_code == 1
    assert result.stderr.startswith("Gagal: Belum ada pemilu aktif") and "gisdesk demo" in \
        result.stderr


def test_import_boundaries_exits_0_and_prints_the_summary(gisdesk, engine):
    result = gisdesk("import", "boundaries", SHIPPED)
    assert result.exit_code == 0, result.output
    assert ("mataram_kelurahan.geojson (boundaries): kecamatan: 6 baru, 0 diperbarui; "
            "kelurahan: 50 baru, 0 diperbarui") in result.stdout
    # overlaps and gaps are said, not edited
    assert "[peringatan] berkas, kolom 'geometry': 60 pasang kelurahan bertetangga tumpang tindih" \
        in result.stdout
    assert counts(engine)["kelurahan"] == 50


def test_a_rejected_file_exits_1_names_row_and_field_and_writes_nothing(gisdesk, engine,
                                                                        duplicate_codes_file):
    before = counts(engine)
    result = gisdesk("import", "boundaries", duplicate_codes_file)
    assert result.exit_code == 1
    assert result.stderr.startswith("DITOLAK: Berkas batas wilayah kode_ganda.geojson")
    assert "Tidak ada yang ditulis ke basis data." in result.stderr
    assert "[SALAH] baris 9, kolom 'kode': kode kelurahan 52.71.01.1006 ganda: muncul " \
           "di baris 3 dan 9" in result.stderr
    assert counts(engine) == before


def test_report_writes_every_problem_as_csv(gisdesk, duplicate_codes_file, tmp_path):
    report = tmp_path / "laporan.csv"
    result = gisdesk("import", "boundaries", duplicate_codes_file, "--report", report)
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [(r["baris"], r["kolom"], r["tingkat"], r["nilai"]) for r in rows] == \
        [("9", "kode", "salah", "52.71.01.1006")]
    assert "baris 3 dan 9" in rows[0]["masalah"]


def test_report_of_an_accepted_file_lists_its_warnings(gisdesk, tmp_path):
    report = tmp_path / "laporan_ok.csv"
    result = gisdesk("import", "boundaries", SHIPPED, "--report", report)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert {r["tingkat"] for r in rows} == {"peringatan"} and len(rows) == 2


def test_dry_run_counts_the_change_and_writes_nothing(gisdesk, engine, shipped, tmp_path):
    frame = shipped.copy()
    frame.loc[0, "nama"] = "Ampenan Selatan Baru"
    path = write(frame, tmp_path / "nama_baru.geojson")
    before = counts(engine)
    result = gisdesk("import", "boundaries", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "kelurahan: 0 baru, 1 diperbarui" in result.stdout
    assert "uji coba, tidak ada yang ditulis" in result.stdout
    assert counts(engine) == before
    with engine.connect() as c:
        assert c.execute(text("SELECT nama FROM kelurahan WHERE kode = '52.71.01.1004'")
                         ).scalar() == "Ampenan Selatan"


@pytest.mark.parametrize("args", [
    ["import", "boundaries"],                                   # no FILE
    ["import", "boundaries", "/nonexistent/batas.geojson"],     # no such file
    ["import", "boundaries", str(SHIPPED), "--level", "desa"],  # not a choice
    ["import", "kelurahan", str(SHIPPED)],                      # no such kind
    ["suggest", "--format", "xlsx"],
], ids=["missing-file-argument", "missing-file", "bad-level", "bad-kind", "bad-format"])
def test_usage_errors_exit_2(gisdesk, args):
    result = gisdesk(*args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr


def test_election_add_activates_it_and_list_marks_the_active_one(gisdesk, engine):
    result = gisdesk("election", "add", "pilkada-2024-mataram", "--name",
                     "Pilkada 2024 Kota Mataram", "--kind", "pilkada", "--date", "2024-11-27",
                     "--max-voters", "600")
    assert result.exit_code == 0, result.output
    assert result.stdout == "pemilu pilkada-2024-mataram ditambahkan dan aktif\n"
    result = gisdesk("election", "add", "pemilu-2029", "--name", "Pemilu 2029", "--kind",
                     "pemilu", "--date", "2029-02-14", "--no-activate")
    assert result.exit_code == 0, result.output
    listed = gisdesk("election", "list").stdout.splitlines()
    assert listed[0].startswith("* pilkada-2024-mataram") and "2024-11-27" in listed[0]
    assert listed[1].startswith("  pemilu-2029")
    with engine.connect() as c:
        assert c.execute(text("SELECT max_voters_per_tps FROM election WHERE active")
                         ).scalar() == 600
    again = gisdesk("election", "add", "pemilu-2029", "--name", "Lagi", "--kind", "pemilu",
                    "--date", "2029-02-14")
    assert again.exit_code == 1 and "Pemilu pemilu-2029 sudah ada" in again.stderr
    assert counts(engine)["election"] == 2


def test_import_tps_into_the_active_election(gisdesk, engine, shipped, tmp_path):
    lines = ["kode_kelurahan;nomor_tps;jumlah_dpt;lintang;bujur"]
    for kode, geom in zip(shipped["kode"], shipped.geometry):
        p = geom.representative_point()
        lat, lon = (f"{v:.7f}".replace(".", ",") for v in (p.y, p.x))   # decimal commas
        lines.append(f"{kode};1;450;{lat};{lon}")
    path = tmp_path / "tps.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = gisdesk("import", "tps", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(
        "tps.csv (tps): tps: 50 baru, 0 diperbarui, 0 tidak berubah; "
        "ditandai di luar kelurahannya: 0")
    with engine.connect() as c:  # DPT 450 is fine for this election (max 600)
        assert c.execute(text("SELECT count(*) FROM tps t JOIN election e ON "
                              "e.id = t.election_id WHERE e.active")).scalar() == 50


def test_users_add_takes_the_password_from_the_environment(gisdesk, engine):
    result = gisdesk("users", "add", "Koordinator.Polres", "--role", "viewer",
                     extra_env={"GISDESK_NEW_PASSWORD": "rahasia-panjang-123"})
    assert result.exit_code == 0, result.output
    assert result.stdout == "pengguna koordinator.polres ditambahkan sebagai viewer\n"
    with engine.begin() as c:
        user = accounts.authenticate(c, "koordinator.polres", "rahasia-panjang-123")
        assert user is not None and user["role"] == "viewer"
        assert accounts.authenticate(c, "koordinator.polres", "salah") is None
    again = gisdesk("users", "add", "koordinator.polres", "--role", "viewer",
                    extra_env={"GISDESK_NEW_PASSWORD": "rahasia-panjang-123"})
    assert again.exit_code == 1 and "sudah ada" in again.stderr
    bad_role = gisdesk("users", "add", "x", "--role", "raja",
                       extra_env={"GISDESK_NEW_PASSWORD": "rahasia-panjang-123"})
    assert bad_role.exit_code == 2


# --------------------------------------------------------------------------- demo, suggest

@pytest.fixture(scope="module")
def demo_db(server_url, template_url):
    """A database of its own, with the demo loaded by `gisdesk demo`."""
    name = f"gt_{os.getpid()}_cli_demo"
    url = dbtesting.clone(server_url, make_url(template_url).database, name)
    engine = get_engine(url)
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], env={"GISDESK_DATABASE_URL": url})
    yield engine, url, first
    engine.dispose()
    dbtesting.drop_database(server_url, name)


def demo_run(demo_db, *args):
    _, url, _ = demo_db
    return CliRunner().invoke(main, [str(a) for a in args], env={"GISDESK_DATABASE_URL": url})


def kelurahan_gaps(engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as c:
        return {r[0]: (r[1], r[2]) for r in c.execute(text("""
            SELECT g.kelurahan_kode, g.polri_gap, g.linmas_gap FROM kelurahan_gap g
            JOIN election e ON e.id = g.election_id AND e.active"""))}


def test_demo_loads_mataram_and_its_analysis(demo_db):
    engine, _, first = demo_db
    assert first.exit_code == 0, first.output
    assert "kelurahan: 50 baru" in first.stdout
    assert "tps=1248" in first.stdout and "analisis: 1248 TPS" in first.stdout
    assert counts(engine)["tps"] == 1248


def test_demo_if_empty_does_nothing_the_second_time(demo_db):
    engine, _, _ = demo_db
    before = counts(engine)
    result = demo_run(demo_db, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert result.stdout == "basis data sudah berisi: demo tidak dimuat\n"
    assert counts(engine) == before


def test_suggest_csv_moves_add_up_to_the_kelurahan_gaps(demo_db):
    engine, _, _ = demo_db
    result = demo_run(demo_db, "suggest", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    gaps = kelurahan_gaps(engine)
    assert rows, "the demo has kelurahan short of personnel"
    moved: dict[tuple[str, str], int] = {}
    for r in rows:
        moved[(r["kelurahan_kode"], r["agency"])] = \
            moved.get((r["kelurahan_kode"], r["agency"]), 0) + int(r["count"])
        assert int(r["gap"]) == gaps[r["kelurahan_kode"]][0 if r["agency"] == "polri" else 1]
    short = {(k, agency): gap for k, (polri, linmas) in gaps.items()
             for agency, gap in (("polri", polri), ("linmas", linmas)) if gap > 0}
    assert moved == short     # every shortage is covered once, nothing else is suggested


def test_suggest_geojson_has_a_point_per_move(demo_db, tmp_path):
    csv_rows = list(csv.DictReader(io.StringIO(
        demo_run(demo_db, "suggest", "--format", "csv").stdout)))
    out = tmp_path / "saran.geojson"
    result = demo_run(demo_db, "suggest", "--format", "geojson", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{len(csv_rows)} baris saran ditulis ke {out}\n"
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == len(csv_rows)
    for feature, row in zip(data["features"], csv_rows):
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert 116.0 < lon < 116.2 and -8.7 < lat < -8.5
        props = feature["properties"]
        assert (props["kelurahan_kode"], props["agency"], str(props["count"])) == \
            (row["kelurahan_kode"], row["agency"], row["count"])


def test_suggest_table_names_every_short_kelurahan_with_its_gap(demo_db):
    engine, _, _ = demo_db
    result = demo_run(demo_db, "suggest")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Saran penambahan personel") and "14-02-2024 10:00 WITA" in lines[0]
    for kode, (polri, linmas) in kelurahan_gaps(engine).items():
        for agency, gap in (("Polri", polri), ("Linmas", linmas)):
            said = [ln for ln in lines if f"({kode}," in ln and f"kurang {gap} {agency}" in ln]
            assert len(said) == (1 if gap > 0 else 0), (kode, agency, gap)


def test_suggest_at_another_time_shows_it_without_storing_it(demo_db):
    engine, _, _ = demo_db

    def stored():
        with engine.connect() as c:
            return c.execute(text("SELECT as_of, computed_at FROM analysis_run")).one()

    demo_run(demo_db, "suggest")
    before = stored()
    result = demo_run(demo_db, "suggest", "--as-of", "2024-02-13T10:00+0800")
    assert result.exit_code == 0, result.output
    assert "per 13-02-2024 10:00 WITA" in result.stdout.splitlines()[0]
    assert stored() == before      # the map keeps showing the pinned moment


def test_every_help_text_is_in_bahasa_indonesia():
    """`gisdesk ... --help` speaks Indonesian (option names stay as they are); click's own
    "--help" line is click's."""
    import click
    english = re.compile(r"\b(the|and|with|from|only|when|which|is|are|of|to|or)\b")
    found = []

    def walk(cmd, path):
        texts = [cmd.help or ""] + [p.help or "" for p in cmd.params
                                    if isinstance(p, click.Option) and p.name != "help"]
        found.extend(f"{path}: {t}" for t in texts if english.search(t.replace("`", " ")))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")
    walk(main, "gisdesk")
    assert found == []
