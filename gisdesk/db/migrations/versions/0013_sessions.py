"""Server-side login sessions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The signed cookie only names a session; this table says whether it is still alive. Logout,
a password change or disabling the user ends it; idle and absolute lifetimes are checked
against ``last_seen_at`` and ``created_at`` by every worker alike.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sid_sha256", sa.String(length=64), nullable=False),
        sa.Column("addr", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid_sha256"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True),
                                     nullable=True))


def downgrade() -> None:
    op.drop_column("users", "password_changed_at")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
