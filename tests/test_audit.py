"""The audit log's integrity: writes append without a lock, the sequencer chains committed
entries, and `gisdesk audit verify` names edited, deleted, inserted and unchained entries."""
import threading
import time

from click.testing import CliRunner
from sqlalchemy import text

from gisdesk import audit, audit_sequencer
from gisdesk.cli import main


def _env(engine):
    # a home of its own: anchors kept by other runs in ./var must not be read here
    import tempfile
    return {"GISDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "GISDESK_HOME": tempfile.mkdtemp(prefix="gisdesk-audit-test-")}


def _tamper(engine, sql, trigger="audit_log_no_change", table="audit_log"):
    # a superuser can switch a trigger off; the hash chain still tells
    with engine.begin() as c:
        c.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        c.execute(text(sql))
        c.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))


def _append(engine, n, action="test.action"):
    with engine.begin() as c:
        for i in range(n):
            audit.record(c, "tester", action, f"t{i}", {"i": i})
        return c.execute(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT :n"),
                         {"n": n}).scalars().all()[::-1]


def _problems(engine, grace=audit.UNCHAINED_GRACE_S):
    with engine.connect() as c:
        return {b["id"]: b["problem"] for b in audit.verify_chain(c, unchained_grace_s=grace)}


def test_intact_log_verifies_and_edits_and_deletions_are_detected(engine):
    ids = _append(engine, 5)
    audit_sequencer.drain(engine)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"], env=_env(engine))
    assert ok.exit_code == 0, ok.output
    assert "utuh" in ok.output and "0 menunggu" in ok.output

    _tamper(engine, f"UPDATE audit_log SET detail = '{{\"i\": 99}}' WHERE id = {ids[1]}")
    edited = runner.invoke(main, ["audit", "verify"], env=_env(engine))
    assert edited.exit_code == 1
    assert f"entri {ids[1]}: entri diubah (entry edited" in edited.output

    _tamper(engine, f"DELETE FROM audit_log WHERE id = {ids[3]}")
    bad = _problems(engine)
    assert bad[ids[1]] == "edited" and bad[ids[3]] == "deleted"
    assert ids[4] not in bad and ids[2] not in bad


def test_writes_append_without_chaining_and_the_sequencer_links_them_in_order(engine):
    ids = _append(engine, 3)
    with engine.connect() as c:
        waiting = c.execute(text("SELECT entry_id FROM audit_unchained ORDER BY 1")).scalars()
        assert list(waiting) == ids
        assert c.execute(text("SELECT count(*) FROM audit_chain WHERE entry_id = ANY(:i)"),
                         {"i": ids}).scalar() == 0
    assert audit_sequencer.drain(engine) == 3
    with engine.connect() as c:
        links = c.execute(text("SELECT seq, entry_id, prev_hash, hash FROM audit_chain "
                               "ORDER BY seq DESC LIMIT 4")).all()[::-1]
    assert [l.entry_id for l in links[1:]] == ids
    assert all(b.prev_hash == a.hash for a, b in zip(links, links[1:]))
    assert all(b.seq == a.seq + 1 for a, b in zip(links, links[1:]))


def test_entries_are_chained_in_commit_order_not_id_order(engine):
    audit_sequencer.drain(engine)
    early = engine.connect()
    early_tx = early.begin()
    audit.record(early, "slow", "test.slow")          # takes the lower id, commits last
    first_id = early.execute(text("SELECT max(id) FROM audit_log")).scalar()
    late_id = _append(engine, 1, "test.fast")[0]
    assert late_id > first_id
    assert audit_sequencer.drain(engine) == 1          # the uncommitted one is not seen
    early_tx.commit()
    early.close()
    assert audit_sequencer.drain(engine) == 1
    with engine.connect() as c:
        order = c.execute(text("SELECT entry_id FROM audit_chain ORDER BY seq DESC LIMIT 2")
                          ).scalars().all()[::-1]
    assert order == [late_id, first_id]
    assert first_id not in _problems(engine) and late_id not in _problems(engine)


def test_a_sequencer_crash_between_append_and_chaining_loses_nothing(engine):
    audit_sequencer.drain(engine)
    ids = _append(engine, 4)
    crashed = engine.connect()
    crashed.begin()
    assert audit_sequencer.step(crashed) == 4          # linked, but never committed
    crashed.invalidate()                              # the process dies: PostgreSQL rolls back
    crashed.close()
    stale = _problems(engine, grace=0)
    assert all(stale.get(i) == "unchained" for i in ids)
    assert not any(i in _problems(engine) for i in ids)   # fresh entries are within the grace
    late = CliRunner().invoke(main, ["audit", "verify", "--grace", "0"], env=_env(engine))
    assert late.exit_code == 1 and "belum dirantai" in late.output
    assert audit_sequencer.drain(engine) == 4           # the restarted sequencer catches up
    after = _problems(engine, grace=0)
    assert not any(i in after for i in ids)


def test_entries_deleted_before_chaining_are_named(engine):
    audit_sequencer.drain(engine)
    ids = _append(engine, 3)
    _tamper(engine, f"DELETE FROM audit_log WHERE id = {ids[1]}")
    audit_sequencer.drain(engine)
    bad = _problems(engine)
    assert bad.get(ids[1]) == "deleted"
    assert ids[0] not in bad and ids[2] not in bad


def test_entries_inserted_around_the_log_are_named_at_once(engine):
    audit_sequencer.drain(engine)
    _tamper(engine, "INSERT INTO audit_log (actor, action) VALUES ('mallory', 'forged')",
            trigger="audit_log_mark_unchained")
    audit_sequencer.drain(engine)
    with engine.connect() as c:
        forged = c.execute(text("SELECT id FROM audit_log WHERE actor = 'mallory'")).scalar()
    assert _problems(engine).get(forged) == "inserted"


def test_a_removed_link_breaks_the_chain(engine):
    ids = _append(engine, 3)
    audit_sequencer.drain(engine)
    _tamper(engine, f"DELETE FROM audit_chain WHERE entry_id = {ids[1]}",
            trigger="audit_chain_no_change", table="audit_chain")
    bad = _problems(engine)
    assert bad.get(ids[2]) == "link_removed"
    assert bad.get(ids[1]) == "inserted"     # its entry now has neither link nor marker


def test_the_sequencer_loop_chains_new_entries_while_it_runs(engine):
    stop = threading.Event()
    thread = threading.Thread(target=audit_sequencer.loop, args=(engine, stop),
                              kwargs={"interval": 0.05})
    thread.start()
    try:
        ids = _append(engine, 2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as c:
                linked = c.execute(text("SELECT count(*) FROM audit_chain "
                                        "WHERE entry_id = ANY(:i)"), {"i": ids}).scalar()
            if linked == 2:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert linked == 2 and not thread.is_alive()


def _head(engine) -> tuple[int, str]:
    with engine.connect() as c:
        return tuple(c.execute(text("SELECT seq, hash FROM audit_chain ORDER BY seq DESC "
                                    "LIMIT 1")).one())


def test_deleting_the_newest_entries_is_detected_by_an_anchor_kept_outside_the_table(
        engine, tmp_path):
    env = {**_env(engine), "GISDESK_HOME": str(tmp_path)}
    ids = _append(engine, 4, "test.tail")                  # not chained yet: anchor links them
    runner = CliRunner()
    taken = runner.invoke(main, ["audit", "anchor"], env=env)
    assert taken.exit_code == 0, taken.output
    head_seq, head_hash = _head(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT entry_id FROM audit_chain WHERE seq = :s"),
                         {"s": head_seq}).scalar() == ids[-1]
    assert f"link {head_seq} hash {head_hash}" in taken.output
    anchors_file = tmp_path / "audit-anchors.jsonl"
    assert anchors_file.stat().st_mode & 0o777 == 0o600
    # (this module's other tests tampered with older entries: only the anchor is looked at)
    assert "anchored link" not in runner.invoke(main, ["audit", "verify"], env=env).output

    # cut the tail: the last two entries and their links, triggers switched off
    _tamper(engine, f"DELETE FROM audit_chain WHERE seq >= {head_seq - 1}",
            trigger="audit_chain_no_change", table="audit_chain")
    _tamper(engine, f"DELETE FROM audit_log WHERE id >= {ids[-2]}")
    assert not {i for i in _problems(engine) if i >= ids[-2]}   # the shorter chain is valid
    cut = runner.invoke(main, ["audit", "verify"], env=env)
    assert cut.exit_code == 1
    assert f"entri {head_seq}: anchored link {head_seq}" in cut.output
    assert "deleted" in cut.output
    # an anchor the operator kept on paper catches it too, without the file
    anchors_file.unlink()
    paper = runner.invoke(main, ["audit", "verify", "--anchor", f"{head_seq}:{head_hash}"],
                          env=env)
    assert paper.exit_code == 1 and "deleted" in paper.output


def test_every_backup_takes_an_anchor_of_the_head_it_holds(engine, tmp_path):
    env = {**_env(engine), "GISDESK_HOME": str(tmp_path)}
    _append(engine, 1, "test.backup")
    out = CliRunner().invoke(main, ["db", "backup", "-o", str(tmp_path / "b.dump")], env=env)
    assert out.exit_code == 0, out.output
    head_seq, _ = _head(engine)
    assert f"audit anchor: link {head_seq} hash" in out.output
    assert f'"seq": {head_seq}' in (tmp_path / "audit-anchors.jsonl").read_text()
