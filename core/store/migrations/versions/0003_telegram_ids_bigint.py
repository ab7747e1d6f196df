"""Users: ``telegram_user_id`` becomes a 64-bit integer.

Telegram's user ids no longer fit in 32 bits, and PostgreSQL's ``INTEGER`` is 32-bit, so linking such a user
failed. SQLite's INTEGER already holds 64 bits; the batch operation rebuilds its table all the same.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen the column."""
    with op.batch_alter_table("sb_user") as batch:
        batch.alter_column(
            "telegram_user_id", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True
        )


def downgrade() -> None:
    """Narrow it again (fails on PostgreSQL if a stored id needs 64 bits)."""
    with op.batch_alter_table("sb_user") as batch:
        batch.alter_column(
            "telegram_user_id", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True
        )
