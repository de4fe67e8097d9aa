"""The analysis queue: what each write touched, for the analysis worker

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-02

A write inserts one row in its own transaction (the kelurahan codes it touched and/or the
points of incidents whose escalation radius it touched; both NULL: a full recompute) and NOTIFYs ``gisdesk_analysis``; the worker takes rows with
``FOR UPDATE SKIP LOCKED``, refreshes the results and deletes them in one transaction.
``analysis_inputs`` remembers the rules file the stored results were computed with, so a
changed rules file is a full recompute.
"""
from alembic import op

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE analysis_queue (
            id bigserial PRIMARY KEY,
            election_id integer NOT NULL REFERENCES election(id) ON DELETE CASCADE,
            kelurahan_kode text[],
            points geometry(MultiPoint, 4326),
            reason text NOT NULL,
            enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp())""")
    op.execute("CREATE INDEX analysis_queue_election ON analysis_queue (election_id, id)")
    op.execute("CREATE INDEX idx_analysis_queue_points ON analysis_queue USING gist (points)")
    op.execute("""
        CREATE TABLE analysis_inputs (
            election_id integer PRIMARY KEY REFERENCES election(id) ON DELETE CASCADE,
            rules_sha256 text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now())""")


def downgrade() -> None:
    op.execute("DROP TABLE analysis_inputs")
    op.execute("DROP TABLE analysis_queue")
