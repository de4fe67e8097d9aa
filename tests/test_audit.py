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
