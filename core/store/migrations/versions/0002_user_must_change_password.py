"""Users: ``must_change_password``, set on a password Switchboard generated until its holder chooses their own.

Added with the console's Users page (commit 56aca61). Existing users chose their own passwords, so the server
default ``false`` fills their rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column, false for every existing user."""
    with op.batch_alter_table("sb_user") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("sb_user") as batch:
        batch.drop_column("must_change_password")
