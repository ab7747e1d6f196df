"""Outbox: ``claimed_by`` and ``claimed_at`` on deliveries and notifications, who is sending a row and since when.

Until now a row left "sending" was claimed again by anyone, so two processes could send one delivery at once. A
claim now records its claimant (a durable workflow's id, else the process and thread) and the time, and a
"sending" row is taken back only by its own claimant or once its claim is older than the lease
(``core.store.outbox``). Both columns are nullable: rows claimed before this revision have neither, and the claim
treats such a "sending" row as stale, as the release before it did.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLES = ("delivery", "notification")


def upgrade() -> None:
    """Add the two columns, empty, to each outbox table."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
            batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_at")
            batch.drop_column("claimed_by")
