"""The bot's Telegram ids (bots, chats, users) become 64-bit integers.

Supergroup chat ids (-100…), newer user ids and bot ids don't fit in 32 bits, and PostgreSQL's ``INTEGER`` is
32-bit, so messages to such a chat failed. SQLite's INTEGER already holds 64 bits; the batch operations rebuild
its tables all the same.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table → (column, nullable)
COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "bot_processed_update": (("bot_id", False), ("chat_id", True), ("telegram_user_id", True)),
    "bot_callback_token": (("chat_id", False), ("telegram_user_id", True), ("used_by", True)),
    "bot_outbox": (("chat_id", False),),
    "bot_approval_message": (("chat_id", False), ("telegram_user_id", True)),
    "bot_reason_prompt": (("chat_id", False), ("telegram_user_id", False)),
}


def _retype(old: type[sa.Integer], new: type[sa.Integer]) -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, nullable in columns:
                batch.alter_column(column, type_=new(), existing_type=old(), existing_nullable=nullable)


def upgrade() -> None:
    """Widen the columns."""
    _retype(sa.Integer, sa.BigInteger)


def downgrade() -> None:
    """Narrow them again (fails on PostgreSQL if a stored id needs 64 bits)."""
    _retype(sa.BigInteger, sa.Integer)
