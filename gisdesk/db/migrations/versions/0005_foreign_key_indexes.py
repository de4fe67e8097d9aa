"""Indexes on foreign keys that cascades and joins walk

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Without them, deleting an election (820,161 TPS at national scale) checks the referencing
tables row by row, and joins from incidents/personnel to their TPS scan whole tables.
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_incident_tps_id", "incident", ["tps_id"]),
    ("ix_incident_merged_into", "incident", ["merged_into"]),
    ("ix_personnel_assignment_tps_id", "personnel_assignment", ["tps_id"]),
    ("ix_tps_point_kelurahan_kode", "tps", ["point_kelurahan_kode"]),
    ("ix_rating_import_id", "rating", ["import_id"]),
    ("ix_personnel_move_election", "personnel_move", ["election_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
