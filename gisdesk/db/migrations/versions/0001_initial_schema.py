"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 15:20:58.156367

Creates PostGIS, every table of the first release, the append-only and hash-chained audit
log (enforced by triggers, so no code path can skip it) and the 2024 security patterns.
"""
from alembic import op
import geoalchemy2
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_table('election',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kode', sa.String(length=40), nullable=False),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('voting_date', sa.Date(), nullable=False),
    sa.Column('campaign_start', sa.Date(), nullable=True),
    sa.Column('max_voters_per_tps', sa.Integer(), nullable=False),
    sa.Column('wilayah_kode', sa.String(length=13), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_demo', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('pinned_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('pemilu', 'pilkada')", name='election_kind'),
    sa.CheckConstraint('max_voters_per_tps > 0', name='election_max_voters'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kode')
    )
    op.create_index('election_one_active', 'election', ['active'], unique=True, postgresql_where=sa.text('active'))
    op.create_geospatial_table('kecamatan',
    sa.Column('kode', sa.String(length=8), nullable=False),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.Column('kode_bps', sa.String(length=10), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kode ~ '^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}$'", name='kecamatan_kode_format'),
    sa.PrimaryKeyConstraint('kode')
    )
    op.create_geospatial_index('idx_kecamatan_geom', 'kecamatan', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('rate_limit_hit',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('bucket', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('rate_limit_bucket_at', 'rate_limit_hit', ['bucket', 'at'], unique=False)
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_table('kelurahan',
    sa.Column('kode', sa.String(length=13), nullable=False),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.Column('kecamatan_kode', sa.String(length=8), nullable=False),
    sa.Column('kode_bps', sa.String(length=10), nullable=True),
    sa.Column('area_km2', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kode ~ '^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[12][0-9]{3}$'", name='kelurahan_kode_format'),
    sa.CheckConstraint('left(kode, 8) = kecamatan_kode', name='kelurahan_in_kecamatan'),
    sa.ForeignKeyConstraint(['kecamatan_kode'], ['kecamatan.kode'], ),
    sa.PrimaryKeyConstraint('kode')
    )
    op.create_geospatial_index('idx_kelurahan_geom', 'kelurahan', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_kelurahan_kecamatan_kode'), 'kelurahan', ['kecamatan_kode'], unique=False)
    op.create_table('security_pattern_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=True),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'effective_from', name='pattern_set_when')
    )
    op.create_geospatial_table('facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('nama', sa.Text(), nullable=False),
    sa.Column('alamat', sa.Text(), nullable=True),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('kecamatan_kode', sa.String(length=8), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('pps', 'ppk', 'kpu', 'bawaslu', 'puskesmas', 'rumah_sakit', 'polsek', 'polresta', 'pos_polisi', 'koramil', 'kodim', 'damkar', 'kantor_lurah', 'kantor_camat', 'posko', 'lainnya')", name='facility_kind'),
    sa.ForeignKeyConstraint(['kecamatan_kode'], ['kecamatan.kode'], ),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'nama', name='facility_kind_nama')
    )
    op.create_geospatial_index('idx_facility_geom', 'facility', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_facility_kelurahan_kode'), 'facility', ['kelurahan_kode'], unique=False)
    op.create_table('personnel_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=10), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('from_kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('from_reserve', sa.Text(), nullable=True),
    sa.Column('to_kelurahan_kode', sa.String(length=13), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('moved_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('moved_by', sa.Text(), nullable=True),
    sa.CheckConstraint('count > 0', name='move_count_positive'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_kelurahan_kode'], ['kelurahan.kode'], ),
    sa.ForeignKeyConstraint(['to_kelurahan_kode'], ['kelurahan.kode'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('security_pattern',
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('kelas', sa.String(length=15), nullable=False),
    sa.Column('polri', sa.SmallInteger(), nullable=False),
    sa.Column('per_tps', sa.SmallInteger(), nullable=False),
    sa.Column('linmas', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("kelas IN ('kurang_rawan', 'rawan', 'sangat_rawan', 'khusus')", name='pattern_kelas'),
    sa.CheckConstraint('polri >= 0 AND linmas >= 0 AND per_tps >= 1', name='pattern_numbers'),
    sa.ForeignKeyConstraint(['set_id'], ['security_pattern_set.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('set_id', 'kelas')
    )
    op.create_geospatial_table('tps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kode', sa.String(length=17), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=False),
    sa.Column('nomor', sa.SmallInteger(), nullable=False),
    sa.Column('dpt', sa.Integer(), nullable=False),
    sa.Column('alamat', sa.Text(), nullable=True),
    sa.Column('lokasi_khusus', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('point_kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('flags', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kode = kelurahan_kode || '-' || lpad(nomor::text, 3, '0')", name='tps_kode_matches'),
    sa.CheckConstraint("kode ~ '^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[12][0-9]{3}-[0-9]{3}$'", name='tps_kode_format'),
    sa.CheckConstraint('dpt >= 0', name='tps_dpt_nonnegative'),
    sa.CheckConstraint('nomor BETWEEN 1 AND 999', name='tps_nomor_range'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.ForeignKeyConstraint(['point_kelurahan_kode'], ['kelurahan.kode'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'kode', name='tps_election_kode')
    )
    op.create_geospatial_index('idx_tps_geom', 'tps', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_tps_kelurahan_kode'), 'tps', ['kelurahan_kode'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('agency', sa.String(length=20), nullable=True),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('viewer', 'planner', 'desk_staff', 'supervisor', 'operator', 'admin')", name='users_role'),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256')
    )
    op.create_geospatial_table('incident',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('reporter_name', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='reported', nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('tps_id', sa.Integer(), nullable=True),
    sa.Column('tps_distance_m', sa.Float(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('merged_into', sa.UUID(), nullable=True),
    sa.Column('reviewed_by', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.CheckConstraint("severity IN ('ringan', 'sedang', 'berat')", name='incident_severity'),
    sa.CheckConstraint("status IN ('reported', 'verified', 'resolved', 'rejected', 'merged')", name='incident_status'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.ForeignKeyConstraint(['merged_into'], ['incident.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_incident_geom', 'incident', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('incident_election_time', 'incident', ['election_id', 'occurred_at'], unique=False)
    op.create_index(op.f('ix_incident_kelurahan_kode'), 'incident', ['kelurahan_kode'], unique=False)
    op.create_table('personnel_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=10), nullable=False),
    sa.Column('target', sa.String(length=10), nullable=False),
    sa.Column('tps_id', sa.Integer(), nullable=True),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('kecamatan_kode', sa.String(length=8), nullable=True),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.CheckConstraint("(target = 'tps') = (tps_id IS NOT NULL)", name='personnel_tps_target'),
    sa.CheckConstraint("agency IN ('polri', 'linmas', 'tni')", name='personnel_agency'),
    sa.CheckConstraint("target <> 'kelurahan' OR kelurahan_kode IS NOT NULL", name='personnel_kelurahan_target'),
    sa.CheckConstraint("target IN ('tps', 'kelurahan', 'reserve')", name='personnel_target'),
    sa.CheckConstraint('count >= 0', name='personnel_count_nonnegative'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kecamatan_kode'], ['kecamatan.kode'], ),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_personnel_assignment_kelurahan_kode'), 'personnel_assignment', ['kelurahan_kode'], unique=False)
    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('tps_id', sa.Integer(), nullable=True),
    sa.Column('kelurahan_kode', sa.String(length=13), nullable=True),
    sa.Column('kelas', sa.String(length=15), nullable=True),
    sa.Column('indicators', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kelas IS NULL OR kelas IN ('kurang_rawan', 'rawan', 'sangat_rawan', 'khusus')", name='rating_kelas'),
    sa.CheckConstraint("source IN ('polri', 'kpu', 'bawaslu')", name='rating_source'),
    sa.CheckConstraint('(tps_id IS NULL) <> (kelurahan_kode IS NULL)', name='rating_one_target'),
    sa.CheckConstraint('kelas IS NOT NULL OR jsonb_array_length(indicators) > 0 OR score IS NOT NULL', name='rating_has_value'),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_id'], ['import_batch.id'], ),
    sa.ForeignKeyConstraint(['kelurahan_kode'], ['kelurahan.kode'], ),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rating_kelurahan_kode'), 'rating', ['kelurahan_kode'], unique=False)
    op.create_index(op.f('ix_rating_tps_id'), 'rating', ['tps_id'], unique=False)
    op.create_table('tps_readiness',
    sa.Column('tps_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('siap', 'sebagian', 'belum')", name='readiness_state'),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tps_id')
    )
    op.create_table('tps_readiness_history',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tps_id', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.UUID(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('recorded_by', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('siap', 'sebagian', 'belum')", name='readiness_hist_state'),
    sa.ForeignKeyConstraint(['tps_id'], ['tps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_uuid')
    )
    op.create_index(op.f('ix_tps_readiness_history_tps_id'), 'tps_readiness_history', ['tps_id'], unique=False)
    op.create_index("tps_election", "tps", ["election_id"])
    op.create_index("rating_election_source", "rating", ["election_id", "source"])
    op.create_index("personnel_election", "personnel_assignment", ["election_id"])
    for statement in AUDIT_SQL:
        op.execute(statement)
    _seed_patterns()


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.drop_index(op.f('ix_tps_readiness_history_tps_id'), table_name='tps_readiness_history')
    op.drop_table('tps_readiness_history')
    op.drop_table('tps_readiness')
    op.drop_index(op.f('ix_rating_tps_id'), table_name='rating')
    op.drop_index(op.f('ix_rating_kelurahan_kode'), table_name='rating')
    op.drop_table('rating')
    op.drop_index(op.f('ix_personnel_assignment_kelurahan_kode'), table_name='personnel_assignment')
    op.drop_table('personnel_assignment')
    op.drop_index(op.f('ix_incident_kelurahan_kode'), table_name='incident')
    op.drop_index('incident_election_time', table_name='incident')
    op.drop_geospatial_index('idx_incident_geom', table_name='incident', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('incident')
    op.drop_table('api_token')
    op.drop_table('users')
    op.drop_index(op.f('ix_tps_kelurahan_kode'), table_name='tps')
    op.drop_geospatial_index('idx_tps_geom', table_name='tps', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('tps')
    op.drop_table('security_pattern')
    op.drop_table('personnel_move')
    op.drop_index(op.f('ix_facility_kelurahan_kode'), table_name='facility')
    op.drop_geospatial_index('idx_facility_geom', table_name='facility', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('facility')
    op.drop_table('security_pattern_set')
    op.drop_index(op.f('ix_kelurahan_kecamatan_kode'), table_name='kelurahan')
    op.drop_geospatial_index('idx_kelurahan_geom', table_name='kelurahan', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('kelurahan')
    op.drop_table('import_batch')
    op.drop_index('rate_limit_bucket_at', table_name='rate_limit_hit')
    op.drop_table('rate_limit_hit')
    op.drop_geospatial_index('idx_kecamatan_geom', table_name='kecamatan', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('kecamatan')
    op.drop_index('election_one_active', table_name='election', postgresql_where=sa.text('active'))
    op.drop_table('election')
    op.drop_index('audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.execute("DROP FUNCTION IF EXISTS audit_log_chain(), audit_log_refuse(), "
               "audit_row_hash(text, bigint, timestamptz, text, text, text, jsonb, text)")


AUDIT_SQL = [
    # One definition of an entry's hash, used by the trigger and by `gisdesk audit verify`.
    """
    CREATE FUNCTION audit_row_hash(prev text, id bigint, at timestamptz, actor text,
                                   action text, target text, detail jsonb, checksum text)
    RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT encode(sha256(convert_to(concat_ws('|', prev, id::text,
             to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), actor, action,
             coalesce(target, ''), detail::text, coalesce(checksum, '')), 'UTF8')), 'hex')
    $$
    """,
    # Entries are chained in the order they take the lock; the id is drawn under the lock
    # so id order is chain order even with concurrent writers.
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
    END $$
    """,
    """
    CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_chain()",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()",
]

# Pemilu 2024 patterns (DOMAIN.md): a Polri and c Linmas for every b TPS.
SEED_PATTERNS = {"kurang_rawan": (2, 4, 8), "rawan": (2, 2, 4),
                 "sangat_rawan": (2, 1, 2), "khusus": (2, 1, 2)}


def _seed_patterns() -> None:
    conn = op.get_bind()
    set_id = conn.execute(sa.text(
        "INSERT INTO security_pattern_set (election_id, nama, effective_from, created_by) "
        "VALUES (NULL, 'Pola pengamanan TPS 2024 (2-4-8 / 2-2-4 / 2-1-2)', "
        "'2024-01-01T00:00:00+08:00', 'migration') RETURNING id")).scalar_one()
    for kelas, (polri, per_tps, linmas) in SEED_PATTERNS.items():
        conn.execute(sa.text(
            "INSERT INTO security_pattern (set_id, kelas, polri, per_tps, linmas) "
            "VALUES (:s, :k, :a, :b, :c)"),
            {"s": set_id, "k": kelas, "a": polri, "b": per_tps, "c": linmas})
