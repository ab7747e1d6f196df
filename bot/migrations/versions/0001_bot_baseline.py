"""Baseline: the bot's tables as every release before migrations created them with ``create_all``.

Databases that already have them are stamped here instead of running this. It is frozen: later changes go in
later revisions, never here.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "bot_processed_update",
    "bot_callback_token",
    "bot_outbox",
    "bot_approval_message",
    "bot_reason_prompt",
)


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the bot's tables and their indexes."""
    op.create_table(
        "bot_processed_update",
        # Telegram's ids, not ours: no sequence.
        sa.Column("bot_id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("update_id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("telegram_user_id", sa.Integer(), nullable=True),
        _time("claimed_at"),
    )
    op.create_index("ix_bot_processed_update_claimed_at", "bot_processed_update", ["claimed_at"])
    op.create_table(
        "bot_callback_token",
        sa.Column("token", sa.String(64), primary_key=True, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.Integer(), nullable=True),
        sa.Column("approval_id", sa.String(), nullable=True),
        sa.Column("binding", sa.String(), nullable=True),
        sa.Column("thread_id", sa.String(), nullable=True),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
    )
    for column in ("approval_id", "thread_id", "expires_at"):
        op.create_index(f"ix_bot_callback_token_{column}", "bot_callback_token", [column])
    op.create_table(
        "bot_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        _time("created_at"),
        _time("sent_at", nullable=True),
    )
    op.create_index("ix_bot_outbox_key", "bot_outbox", ["key"], unique=True)
    op.create_index("ix_bot_outbox_status", "bot_outbox", ["status"])
    op.create_table(
        "bot_approval_message",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("approval_id", sa.String(), nullable=False),
        sa.Column("outbox_key", sa.String(200), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("outbox_key"),
    )
    op.create_index("ix_bot_approval_message_approval_id", "bot_approval_message", ["approval_id"])
    op.create_index("ix_bot_approval_message_closed", "bot_approval_message", ["closed"])
    op.create_table(
        "bot_reason_prompt",
        sa.Column("chat_id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("telegram_user_id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("approval_id", sa.String(), nullable=False),
        _time("created_at"),
    )


def downgrade() -> None:
    """Drop the bot's tables (their indexes go with them)."""
    for table in TABLES:  # no foreign keys between them, so any order
        op.drop_table(table)
