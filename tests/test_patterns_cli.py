"""`gisdesk patterns list|add`: pattern sets per election, validated, versioned, audited,
followed by a whole refresh; a bad file names the file and the field and writes nothing."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk.cli import main

GOOD = """
[[patterns]]
name = "Pola Pilkada ketat"
effective_from = 2024-02-10T00:00:00+08:00

[patterns.pola]
kurang_rawan = "2-2-4"
rawan = "2-1-2"
sangat_rawan = "3-1-2"
khusus = "2-1-2"
"""


@pytest.fixture(scope="module")
def gisdesk(engine):
    runner = CliRunner()
    env = {"GISDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False)}

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    assert run("election", "add", "pilkada-uji", "--name", "Pilkada Uji", "--kind", "pilkada",
               "--date", "2024-11-27").exit_code == 0
    return run


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_adding_a_pattern_file_stores_it_audits_it_and_refreshes_the_election(gisdesk, engine,
                                                                               tmp_path):
    path = tmp_path / "pola.toml"
    path.write_text(GOOD, encoding="utf-8")
    result = gisdesk("patterns", "add", path, "--election", "pilkada-uji")
    assert result.exit_code == 0, result.output
    assert "Pola Pilkada ketat" in result.output
    with engine.connect() as conn:
        stored = conn.execute(text("""
            SELECT s.nama, p.polri, p.per_tps, p.linmas FROM security_pattern_set s
            JOIN security_pattern p ON p.set_id = s.id JOIN election e ON e.id = s.election_id
            WHERE e.kode = 'pilkada-uji' AND p.kelas = 'sangat_rawan'""")).one()
        assert tuple(stored) == ("Pola Pilkada ketat", 3, 1, 2)
        audit = conn.execute(text("SELECT target, checksum, detail FROM audit_log "
                                  "WHERE action = 'patterns.add'")).one()
        assert audit.target == "pilkada-uji" and len(audit.checksum) == 64
        assert audit.detail["sets"][0]["pola"]["sangat_rawan"] == "3-1-2"
        run = conn.execute(text("""
            SELECT s.nama FROM analysis_run a JOIN election e ON e.id = a.election_id
            JOIN security_pattern_set s ON s.id = a.pattern_set_id
            WHERE e.kode = 'pilkada-uji'""")).scalar_one()
        assert run == "Pola Pilkada ketat"
    listed = gisdesk("patterns", "list").output
    assert "pilkada-uji" in listed and "sejak 10-02-2024 00:00 WITA" in listed
    # the same effective time again: a version is never overwritten
    again = gisdesk("patterns", "add", path, "--election", "pilkada-uji")
    assert again.exit_code == 1
    assert "pola.toml" in again.output and "sudah punya pola 'Pola Pilkada ketat'" in again.output
    assert _count(engine, "SELECT count(*) FROM security_pattern_set s JOIN election e "
                          "ON e.id = s.election_id WHERE e.kode = 'pilkada-uji'") == 1


@pytest.mark.parametrize("body, field", [
    (GOOD.replace('rawan = "2-1-2"', 'rawan = "2-x-2"'), "patterns[0].pola.rawan"),
    (GOOD.replace('khusus = "2-1-2"\n', ""), "patterns[0].pola.khusus"),
    (GOOD.replace("+08:00", ""), "patterns[0].effective_from"),
    (GOOD.replace("name =", "nama ="), "patterns[0].nama"),
    ("[aturan]\nx = 1\n", "aturan"),
], ids=["bad-pola", "missing-class", "no-offset", "unknown-key", "no-patterns"])
def test_a_bad_pattern_file_is_rejected_naming_file_and_field(gisdesk, engine, tmp_path,
                                                              body, field):
    path = tmp_path / "salah.toml"
    path.write_text(body, encoding="utf-8")
    before = _count(engine, "SELECT count(*) FROM security_pattern_set")
    result = gisdesk("patterns", "add", path, "--election", "pilkada-uji")
    assert result.exit_code == 1
    assert "salah.toml" in result.output and field in result.output
    assert _count(engine, "SELECT count(*) FROM security_pattern_set") == before


def test_an_unknown_election_is_refused(gisdesk, tmp_path):
    path = tmp_path / "pola.toml"
    path.write_text(GOOD.replace("2024-02-10", "2024-03-01"), encoding="utf-8")
    result = gisdesk("patterns", "add", path, "--election", "tidak-ada")
    assert result.exit_code == 1 and "tidak-ada" in result.output
