"""internal quick count

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 15:27:54.388074

Contests and candidates, per-agency result entries (client UUID, non-negative numbers,
valid + invalid = ballots used), disagreement flags between agencies and their history.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('kode', sa.String(length=20), nullable=False),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.CheckConstraint("kode ~ '^[a-z0-9_]+$'", name='contest_kode_format'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'kode', name='contest_election_kode')
    )
    op.create_table('candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('nomor', sa.SmallInteger(), nullable=False),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.CheckConstraint('nomor >= 1', name='candidate_nomor_positive'),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contest_id', 'nomor', name='candidate_contest_nomor')
    )
    op.create_table('result_entry',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('tps_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=20), nullable=False),
    sa.Column('votes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('invalid', sa.Integer(), nullable=False),
    sa.Column('ballots_used', sa.Integer(), nullable=False),
    sa.Column('dpt', sa.Integer(), nullable=False),
    sa.Column('dptb', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('dpk', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('photo_path', sa.Text(), nullable=True),
    sa.Column('entered_by', sa.Text(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='active', nullable=False),
    sa.CheckConstraint("status IN ('active', 'superseded', 'correction')", name='result_entry_status'),
    sa.CheckConstraint('jsonb_typeof(votes) = \'object\' AND NOT jsonb_path_exists(votes, \'$.* ? (@.type() != "number" || @ < 0)\')', name='result_entry_votes_nonnegative'),
    sa.CheckConstraint('valid + invalid = ballots_used', name='result_entry_ballots_sum'),
    sa.CheckConstraint('valid >= 0 AND invalid >= 0 AND ballots_used >= 0 AND dpt >= 0 AND dptb >= 0 AND dpk >= 0', name='result_entry_nonnegative'),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('result_entry_contest', 'result_entry', ['contest_id', 'status'], unique=False)
    op.create_index('result_entry_one_active', 'result_entry', ['tps_id', 'contest_id', 'agency'], unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_table('result_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('tps_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('agencies', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_by', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('chosen_entry_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("status <> 'resolved' OR (chosen_entry_id IS NOT NULL AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL)", name='result_flag_resolved_complete'),
    sa.CheckConstraint("status IN ('open', 'resolved', 'agreed')", name='result_flag_status'),
    sa.ForeignKeyConstraint(['chosen_entry_id'], ['result_entry.id'], ),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tps_id', 'contest_id', name='result_flag_tps_contest')
    )
    op.create_index('result_flag_contest_status', 'result_flag', ['contest_id', 'status'], unique=False)
    op.create_table('result_flag_history',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('chosen_entry_id', sa.UUID(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['chosen_entry_id'], ['result_entry.id'], ),
    sa.ForeignKeyConstraint(['flag_id'], ['result_flag.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_result_flag_history_flag_id'), 'result_flag_history', ['flag_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_result_flag_history_flag_id'), table_name='result_flag_history')
    op.drop_table('result_flag_history')
    op.drop_index('result_flag_contest_status', table_name='result_flag')
    op.drop_table('result_flag')
    op.drop_index('result_entry_one_active', table_name='result_entry', postgresql_where=sa.text("status = 'active'"))
    op.drop_index('result_entry_contest', table_name='result_entry')
    op.drop_table('result_entry')
    op.drop_table('candidate')
    op.drop_table('contest')
