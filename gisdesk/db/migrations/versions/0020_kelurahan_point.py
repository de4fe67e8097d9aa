"""A stored point on each kelurahan's surface, for the suggestion plan's nearest donors

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03

The per-kab/kota plan measures donor distances between kelurahan points
(``ST_PointOnSurface``). Computed on every whole refresh it cost ~1.5 s nationally (83,731
polygons, 7 million vertices); as a generated column it is computed once when a boundary
is written, by the server, so no loader can forget it.
"""
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE kelurahan ADD COLUMN pt geometry(Point, 4326) "
               "GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED")


def downgrade() -> None:
    op.execute("ALTER TABLE kelurahan DROP COLUMN pt")
