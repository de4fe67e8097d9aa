"""Audit entries are chained by one sequencer, not under a lock on every write; readiness
checks carry the device's check time

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-02

Before: a BEFORE INSERT trigger took one global advisory lock per write to link each entry to
the previous one, so every writer of every kind queued on that lock until its commit.
Now a write only appends its entry (and, by trigger, a marker in ``audit_unchained``); the
sequencer (``gisdesk.audit_sequencer``) links committed entries in the order it sees them
into the append-only ``audit_chain`` (sequence, entry id, previous hash, hash) with
``audit_chain_step()``. The hash of a link is the same ``audit_row_hash`` as before, so the
existing chain moves over unchanged.

Readiness: ``checked_at`` (when the checklist was ticked on the device; NULL for rows that
came without one, whose ``recorded_at`` stands for it) on the history and the current state;
the current state is the latest check, not the latest arrival.
"""
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE audit_chain (
        seq bigint PRIMARY KEY,
        entry_id bigint NOT NULL,
        prev_hash varchar(64) NOT NULL,
        hash varchar(64) NOT NULL,
        chained_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_chain_entry UNIQUE (entry_id)
    )""",
    # no foreign key to audit_log on purpose: an entry deleted by someone who switched the
    # append-only trigger off must leave its link behind, as evidence
    """
    CREATE TABLE audit_unchained (
        entry_id bigint PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now()
    )""",
    """
    INSERT INTO audit_chain (seq, entry_id, prev_hash, hash, chained_at)
    SELECT row_number() OVER (ORDER BY id), id, prev_hash, hash, at
    FROM audit_log WHERE hash IS NOT NULL ORDER BY id""",
    "DROP TRIGGER audit_log_chain ON audit_log",
    "DROP FUNCTION audit_log_chain()",
    "ALTER TABLE audit_log DROP COLUMN prev_hash, DROP COLUMN hash",
    # the marker is written in the appending transaction: no lock, one index entry
    """
    CREATE FUNCTION audit_log_mark_unchained() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO audit_unchained (entry_id) SELECT id FROM new_entries;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER audit_log_mark_unchained AFTER INSERT ON audit_log "
    "REFERENCING NEW TABLE AS new_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_mark_unchained()",
    "CREATE TRIGGER audit_chain_no_change BEFORE UPDATE OR DELETE ON audit_chain "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()",
    "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()",
    # One step of the sequencer: links up to `batch` committed entries after the chain head.
    # The lock is the sequencer's own (two sequencers never fork the chain); writers never
    # take it. A marker whose entry is gone (deleted before chaining) is linked too, with
    # the entry's fields missing, so `audit verify` names it.
    """
    CREATE FUNCTION audit_chain_step(batch integer) RETURNS integer
    LANGUAGE plpgsql AS $$
    DECLARE
      head_seq bigint;
      head_hash text;
      r record;
      n integer := 0;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('gisdesk.audit_chain'));
      SELECT seq, hash INTO head_seq, head_hash FROM audit_chain ORDER BY seq DESC LIMIT 1;
      head_seq := coalesce(head_seq, 0);
      head_hash := coalesce(head_hash, repeat('0', 64));
      FOR r IN
        SELECT u.entry_id, a.at, a.actor, a.action, a.target, a.detail, a.checksum
        FROM audit_unchained u LEFT JOIN audit_log a ON a.id = u.entry_id
        ORDER BY u.entry_id LIMIT batch
      LOOP
        head_seq := head_seq + 1;
        INSERT INTO audit_chain (seq, entry_id, prev_hash, hash)
        VALUES (head_seq, r.entry_id, head_hash,
                audit_row_hash(head_hash, r.entry_id, r.at, r.actor, r.action, r.target,
                               r.detail, r.checksum))
        RETURNING hash INTO head_hash;
        DELETE FROM audit_unchained WHERE entry_id = r.entry_id;
        n := n + 1;
      END LOOP;
      RETURN n;
    END $$""",
]

UPGRADE += [
    "ALTER TABLE tps_readiness_history ADD COLUMN checked_at timestamptz",
    "ALTER TABLE tps_readiness ADD COLUMN checked_at timestamptz",
]

DOWNGRADE = [
    "ALTER TABLE tps_readiness_history DROP COLUMN checked_at",
    "ALTER TABLE tps_readiness DROP COLUMN checked_at",
    "DROP TRIGGER audit_log_mark_unchained ON audit_log",
    "DROP FUNCTION audit_log_mark_unchained()",
    "ALTER TABLE audit_log ADD COLUMN prev_hash varchar(64), ADD COLUMN hash varchar(64)",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
    # entries not chained yet are linked in id order, as the old trigger would have done
    "SELECT audit_chain_step(2147483647)",
    "DROP FUNCTION audit_chain_step(integer)",
    """
    UPDATE audit_log a SET prev_hash = c.prev_hash, hash = c.hash
    FROM audit_chain c WHERE c.entry_id = a.id""",
    "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change",
    "DROP TABLE audit_unchained",
    "DROP TABLE audit_chain",
    """
    CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE last_hash text;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('gisdesk.audit_log'));
      NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
      SELECT hash INTO last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
      NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
      NEW.hash := audit_row_hash(NEW.prev_hash, NEW.id, NEW.at, NEW.actor, NEW.action,
                                 NEW.target, NEW.detail, NEW.checksum);
      RETURN NEW;
    END $$""",
    "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_chain()",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
