"""Indexes for the worker's scoped refresh and its time edges; incidents per kecamatan and
kab/kota stored with the results

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

A catch-up of a few kelurahan read whole tables of a national election: the kecamatan sums
(kelurahan_gap by kecamatan), the Polsek/Polresta reserves (personnel by kecamatan, target
reserve) and the time edges (ratings dated between two as_of, on every catch-up of an
election that follows the clock).

kecamatan_gap and kabkota_gap gain ``incidents_recent`` (the sum of their kelurahan's), so
that low-zoom map tiles read one stored row per unit instead of summing kelurahan_gap; the
stored rows are filled from the kelurahan rows they sum.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX rating_election_rated_on ON rating (election_id, rated_on)")
    op.execute("CREATE INDEX kelurahan_gap_kecamatan ON kelurahan_gap "
               "(election_id, kecamatan_kode)")
    op.execute("CREATE INDEX personnel_reserve ON personnel_assignment "
               "(election_id, kecamatan_kode) WHERE target = 'reserve'")
    for table in ("kecamatan_gap", "kabkota_gap"):
        op.add_column(table, sa.Column("incidents_recent", sa.Integer(),
                                       server_default=sa.text("0"), nullable=False))
    op.execute("""
        UPDATE kecamatan_gap k SET incidents_recent = s.n
        FROM (SELECT election_id, kecamatan_kode, sum(incidents_recent) AS n
              FROM kelurahan_gap GROUP BY 1, 2) s
        WHERE s.election_id = k.election_id AND s.kecamatan_kode = k.kecamatan_kode""")
    op.execute("""
        UPDATE kabkota_gap k SET incidents_recent = s.n
        FROM (SELECT election_id, kabkota_kode, sum(incidents_recent) AS n
              FROM kecamatan_gap GROUP BY 1, 2) s
        WHERE s.election_id = k.election_id AND s.kabkota_kode = k.kabkota_kode""")


def downgrade() -> None:
    for table in ("kabkota_gap", "kecamatan_gap"):
        op.drop_column(table, "incidents_recent")
    op.execute("DROP INDEX personnel_reserve")
    op.execute("DROP INDEX kelurahan_gap_kecamatan")
    op.execute("DROP INDEX rating_election_rated_on")
