"""The audit log's integrity: `gisdesk audit verify` names edited and deleted entries."""
from click.testing import CliRunner
from sqlalchemy import text

from gisdesk import audit
from gisdesk.cli import main


def _env(engine):
    return {"GISDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False)}


def _tamper(engine, sql):
    # a superuser can switch the append-only trigger off; the hash chain still tells
    with engine.begin() as c:
        c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        c.execute(text(sql))
        c.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))


def test_intact_log_verifies_and_tampering_is_detected(engine):
    with engine.begin() as c:
        for i in range(5):
            audit.record(c, "tester", "test.action", f"t{i}", {"i": i})
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"], env=_env(engine))
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output

    with engine.connect() as c:
        ids = c.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()
    _tamper(engine, f"UPDATE audit_log SET detail = '{{\"i\": 99}}' WHERE id = {ids[1]}")
    edited = runner.invoke(main, ["audit", "verify"], env=_env(engine))
    assert edited.exit_code == 1
    assert f"entry {ids[1]}: entry edited" in edited.output

    _tamper(engine, f"DELETE FROM audit_log WHERE id = {ids[3]}")
    with engine.connect() as c:
        bad = {b["id"]: b["reason"] for b in audit.verify_chain(c)}
    assert ids[1] in bad and "edited" in bad[ids[1]]
    assert ids[4] in bad and "deleted" in bad[ids[4]]


def test_deleting_the_newest_entries_is_detected_by_an_anchor_kept_outside_the_table(
        engine, tmp_path):
    env = {**_env(engine), "GISDESK_HOME": str(tmp_path)}
    with engine.begin() as c:
        for i in range(4):
            audit.record(c, "tester", "test.tail", f"t{i}", {"i": i})
    runner = CliRunner()
    taken = runner.invoke(main, ["audit", "anchor"], env=env)
    assert taken.exit_code == 0, taken.output
    with engine.connect() as c:
        head_id, head_hash = c.execute(text("SELECT id, hash FROM audit_log "
                                            "ORDER BY id DESC LIMIT 1")).one()
    assert f"entry {head_id} hash {head_hash}" in taken.output
    anchors_file = tmp_path / "audit-anchors.jsonl"
    assert anchors_file.stat().st_mode & 0o777 == 0o600
    # (this module's first test tampered with older entries: only the anchor is looked at)
    assert "anchored entry" not in runner.invoke(main, ["audit", "verify"], env=env).output

    _tamper(engine, f"DELETE FROM audit_log WHERE id >= {head_id - 1}")   # cut the tail
    with engine.connect() as c:         # the shorter chain alone says nothing of its end
        assert not [b for b in audit.verify_chain(c) if b["id"] >= head_id - 2]
    cut = runner.invoke(main, ["audit", "verify"], env=env)
    assert cut.exit_code == 1
    assert f"entry {head_id}: anchored entry" in cut.output and "deleted" in cut.output
    # an anchor the operator kept on paper catches it too, without the file
    anchors_file.unlink()
    paper = runner.invoke(main, ["audit", "verify", "--anchor", f"{head_id}:{head_hash}"],
                          env=env)
    assert paper.exit_code == 1 and "deleted" in paper.output


def test_every_backup_takes_an_anchor_of_the_head_it_holds(engine, tmp_path):
    env = {**_env(engine), "GISDESK_HOME": str(tmp_path)}
    with engine.begin() as c:
        audit.record(c, "tester", "test.backup", "b", {})
        head_id = c.execute(text("SELECT max(id) FROM audit_log")).scalar_one()
    out = CliRunner().invoke(main, ["db", "backup", "-o", str(tmp_path / "b.dump")], env=env)
    assert out.exit_code == 0, out.output
    assert f"audit anchor: entry {head_id} hash" in out.output
    assert f'"seq": {head_id}' in (tmp_path / "audit-anchors.jsonl").read_text()
