"""Roles: the users (e-mail, role, scope) and the history of role changes
(``linkdash.roles``).

Revision ID: 0003
Revises: 0001 (to be relinked to 0002 when both are merged; this migration does not
depend on anything 0002 adds)
Create Date: 2025-12-02

Columns are frozen here, as in 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("scope", sa.Text, nullable=False, server_default=""),
        sa.Column("added_by", sa.Text),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'director', 'country', 'viewer')",
                           name="ck_users_role"),
    )
    op.create_table(
        "role_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("old_role", sa.String(16)),
        sa.Column("new_role", sa.String(16)),
        sa.Column("old_scope", sa.Text),
        sa.Column("new_scope", sa.Text),
    )
    op.create_index("ix_role_changes_email", "role_changes", ["email"])


def downgrade() -> None:
    op.drop_index("ix_role_changes_email", table_name="role_changes")
    op.drop_table("role_changes")
    op.drop_table("users")
