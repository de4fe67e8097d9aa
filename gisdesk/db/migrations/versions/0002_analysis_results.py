"""analysis results

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:23:03.748586

Tables the analysis writes: effective class per TPS, gap per kelurahan, suggestions.
"""
from alembic import op
import geoalchemy2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analysis_run',
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pattern_set_id', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pattern_set_id'], ['security_pattern_set.id'], ),
    sa.PrimaryKeyConstraint('election_id')
    )
    op.create_table('kelurahan_gap',
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=False),
    sa.Column('kecamatan_kode', sa.String(length=8), nullable=False),
    sa.Column('n_tps', sa.Integer(), nullable=False),
    sa.Column('n_by_class', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('polri_required', sa.Integer(), nullable=False),
    sa.Column('linmas_required', sa.Integer(), nullable=False),
    sa.Column('polri_assigned', sa.Integer(), nullable=False),
    sa.Column('linmas_assigned', sa.Integer(), nullable=False),
    sa.Column('tni_assigned', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('polri_gap', sa.Integer(), nullable=False),
    sa.Column('linmas_gap', sa.Integer(), nullable=False),
    sa.Column('not_ready', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('incidents_recent', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kecamatan_kode'], ['kecamatan.kode'], ),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.PrimaryKeyConstraint('election_id', 'kelurahan_kode')
    )
    op.create_table('suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=False),
    sa.Column('agency', sa.String(length=10), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('from_kind', sa.String(length=20), nullable=False),
    sa.Column('from_kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('from_unit', sa.Text(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.Column('gap', sa.Integer(), nullable=False),
    sa.Column('move_text', sa.Text(), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_kelurahan_kode'], ['kelurahan.kode'], ),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_suggestion_election_id'), 'suggestion', ['election_id'], unique=False)
    op.create_table('tps_risk',
    sa.Column('tps_id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('kelas', sa.String(length=15), nullable=False),
    sa.Column('kelas_polri', sa.String(length=15), nullable=True),
    sa.Column('kelas_kpu', sa.String(length=15), nullable=True),
    sa.Column('kelas_bawaslu', sa.String(length=15), nullable=True),
    sa.Column('kelas_kelurahan', sa.String(length=15), nullable=True),
    sa.Column('escalated', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('disagree', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.CheckConstraint("kelas IN ('kurang_rawan', 'rawan', 'sangat_rawan', 'khusus')", name='tps_risk_kelas'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tps_id')
    )
    op.create_index(op.f('ix_tps_risk_election_id'), 'tps_risk', ['election_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tps_risk_election_id'), table_name='tps_risk')
    op.drop_table('tps_risk')
    op.drop_index(op.f('ix_suggestion_election_id'), table_name='suggestion')
    op.drop_table('suggestion')
    op.drop_table('kelurahan_gap')
    op.drop_table('analysis_run')
