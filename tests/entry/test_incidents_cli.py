"""`gisdesk incidents list|verify|reject|merge` in-process (CliRunner) on real PostGIS, and the
merge candidates the review page offers."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from entry import seed as S
from entry.test_review_readiness import audit_actions, create
from gisdesk.cli import main


@pytest.fixture
def gisdesk(engine):
    url = engine.url.render_as_string(hide_password=False)

    def run(*args):
        return CliRunner().invoke(main, ["incidents", *args], env={"GISDESK_DATABASE_URL": url})
    return run


def status(engine, ident):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM incident WHERE id = :i"), {"i": ident}
                            ).scalar_one()


def test_cli_lists_reports_with_short_ids_and_verifies_one_by_its_prefix(as_role, engine,
                                                                         gisdesk):
    ident = create(as_role("desk_staff"), S.IN_A, "intimidasi", "2024-02-14T08:15")
    listed = gisdesk("list", "--status", "reported")
    assert listed.exit_code == 0, listed.output
    assert f"{ident[:8]}  14-02-2024 08:15 WITA  dilaporkan" in listed.output
    assert "Kelurahan A" in listed.output
    done = gisdesk("verify", ident[:8])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Terverifikasi: " + ident[:8])
    assert status(engine, ident) == "verified"
    assert audit_actions(engine, ident)[-1] == "incident.verify"
    with engine.connect() as conn:
        actor = conn.execute(text("SELECT actor FROM audit_log WHERE target = :t "
                                  "ORDER BY id DESC LIMIT 1"), {"t": ident}).scalar_one()
    assert actor.startswith("cli")


def test_cli_reject_needs_a_reason_and_an_unknown_id_is_refused(as_role, engine, gisdesk):
    ident = create(as_role("desk_staff"))
    assert gisdesk("reject", ident).exit_code == 2            # --reason is required
    assert status(engine, ident) == "reported"
    assert gisdesk("reject", ident, "--reason", "Laporan ganda").exit_code == 0
    assert status(engine, ident) == "rejected"
    unknown = gisdesk("verify", "ffffffff")
    assert unknown.exit_code == 1 and "Tidak ada laporan berawalan ffffffff" in unknown.output


def test_cli_merge_lists_candidates_then_merges_into_the_chosen_one(as_role, engine, gisdesk):
    staff = as_role("desk_staff")
    first = create(staff, S.IN_B, "perusakan_logistik", "2024-02-14T10:00")
    again = create(staff, (S.IN_B[0] + 0.001, S.IN_B[1]), "perusakan_logistik",
                   "2024-02-14T10:40")
    shown = gisdesk("merge", again[:8])
    assert shown.exit_code == 0, shown.output
    assert first[:8] in shown.output and "mungkin duplikat" in shown.output
    assert status(engine, again) == "reported"                # listing changes nothing
    merged = gisdesk("merge", again[:8], "--into", first[:8])
    assert merged.exit_code == 0, merged.output
    assert merged.output.startswith(f"Digabung ke {first[:8]}")
    assert status(engine, again) == "merged"


def test_merge_candidates_put_likely_duplicates_first_then_nearby_reports(as_role):
    staff = as_role("desk_staff")
    base = create(staff, S.IN_B, "politik_uang", "2024-02-14T15:00")
    twin = create(staff, (S.IN_B[0] + 0.0005, S.IN_B[1]), "politik_uang", "2024-02-14T15:20")
    other = create(staff, (S.IN_B[0] + 0.002, S.IN_B[1]), "banjir", "2024-02-14T16:00")
    got = as_role("supervisor").get(f"/api/incidents/{base}/candidates").get_json()["items"]
    ids = [c["id"] for c in got]
    assert ids[0] == twin and got[0]["likely"] is True
    assert other in ids and next(c for c in got if c["id"] == other)["likely"] is False
    assert base not in ids
    assert as_role("desk_staff").get(f"/api/incidents/{base}/candidates").status_code == 403
