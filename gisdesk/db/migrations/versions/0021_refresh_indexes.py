"""Indexes for the worker's scoped refresh and its time edges

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-03

A catch-up of a few kelurahan read whole tables of a national election: the kecamatan sums
(kelurahan_gap by kecamatan), the Polsek/Polresta reserves (personnel by kecamatan, target
reserve) and the time edges (ratings dated between two as_of, on every catch-up of an
election that follows the clock).
"""
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX rating_election_rated_on ON rating (election_id, rated_on)")
    op.execute("CREATE INDEX kelurahan_gap_kecamatan ON kelurahan_gap "
               "(election_id, kecamatan_kode)")
    op.execute("CREATE INDEX personnel_reserve ON personnel_assignment "
               "(election_id, kecamatan_kode) WHERE target = 'reserve'")


def downgrade() -> None:
    op.execute("DROP INDEX personnel_reserve")
    op.execute("DROP INDEX kelurahan_gap_kecamatan")
    op.execute("DROP INDEX rating_election_rated_on")
