"""A version for every stored analysis result set

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Readers show and cache by it (API field and ETag); the map refreshes its layers when it
changes. Drawn from one sequence so it only ever grows, even when a run row is replaced.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE analysis_version_seq")
    op.execute("ALTER TABLE analysis_run ADD COLUMN version bigint NOT NULL "
               "DEFAULT nextval('analysis_version_seq')")
    op.execute("ALTER SEQUENCE analysis_version_seq OWNED BY analysis_run.version")


def downgrade() -> None:
    op.execute("ALTER TABLE analysis_run DROP COLUMN version")
