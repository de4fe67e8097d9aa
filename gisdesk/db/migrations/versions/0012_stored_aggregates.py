"""Aggregates stored with each results version; suggestions planned per kab/kota

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

kecamatan_gap and kabkota_gap hold what the totals strip, the kecamatan layer and the
summaries read (written by analysis.refresh, never computed per page view). kelurahan_gap
keeps the per-kelurahan facts a kab/kota re-plan needs for its reasons (escalated and
disagreeing TPS), and an index serves the largest-gaps table. Suggestions carry their
kab/kota: they are planned, ranked and replaced per kab/kota.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_SUMS = ("n_kelurahan", "kelurahan_short", "n_tps", "polri_required", "polri_assigned",
         "polri_gap", "polri_short", "polri_surplus", "linmas_required", "linmas_assigned",
         "linmas_gap", "linmas_short", "linmas_surplus", "tni_assigned", "polri_reserve",
         "linmas_reserve", "tni_reserve", "not_ready")


def _sums() -> list[sa.Column]:
    return [sa.Column("n_by_class", postgresql.JSONB(astext_type=sa.Text()),
                      server_default=sa.text("'{}'::jsonb"), nullable=False),
            *[sa.Column(c, sa.Integer(), server_default=sa.text("0"), nullable=False)
              for c in _SUMS]]


def upgrade() -> None:
    op.create_table(
        "kecamatan_gap",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("kecamatan_kode", sa.String(length=8), nullable=False),
        sa.Column("kabkota_kode", sa.String(length=5), nullable=False),
        *_sums(),
        sa.ForeignKeyConstraint(["election_id"], ["election.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["kecamatan_kode"], ["kecamatan.kode"]),
        sa.PrimaryKeyConstraint("election_id", "kecamatan_kode"))
    op.create_table(
        "kabkota_gap",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("kabkota_kode", sa.String(length=5), nullable=False),
        *_sums(),
        *[sa.Column(f"{a}_reserve_polresta", sa.Integer(), server_default=sa.text("0"),
                    nullable=False) for a in ("polri", "linmas", "tni")],
        sa.ForeignKeyConstraint(["election_id"], ["election.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("election_id", "kabkota_kode"))
    for c in ("n_escalated", "n_disagree"):
        op.add_column("kelurahan_gap", sa.Column(c, sa.Integer(), server_default=sa.text("0"),
                                                 nullable=False))
    op.create_index("kelurahan_gap_largest", "kelurahan_gap",
                    ["election_id", sa.text("polri_gap DESC"), sa.text("linmas_gap DESC"),
                     "kelurahan_kode"])
    op.add_column("suggestion", sa.Column("kabkota_kode", sa.String(length=5), nullable=True))
    op.execute("UPDATE suggestion SET kabkota_kode = left(kelurahan_kode, 5)")
    op.alter_column("suggestion", "kabkota_kode", nullable=False)
    op.create_index("suggestion_kabkota_rank", "suggestion",
                    ["election_id", "kabkota_kode", "rank"])


def downgrade() -> None:
    op.drop_index("suggestion_kabkota_rank", table_name="suggestion")
    op.drop_column("suggestion", "kabkota_kode")
    op.drop_index("kelurahan_gap_largest", table_name="kelurahan_gap")
    for c in ("n_escalated", "n_disagree"):
        op.drop_column("kelurahan_gap", c)
    op.drop_table("kabkota_gap")
    op.drop_table("kecamatan_gap")
