"""Seen signatures: the ingest webhook refuses an exact replay of a signed request inside its time window.

The webhook's signature now covers the method, path, query and a timestamp, and a request older than the window
is refused. Inside the window a replay is caught by this table: each accepted signature is kept (its primary key
makes the claim atomic across workers and hosts) until its request's timestamp leaves the window.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table and the index that expiry deletes by."""
    op.create_table(
        "seen_signature",
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    op.create_index("ix_seen_signature_expires_at", "seen_signature", ["expires_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_seen_signature_expires_at", table_name="seen_signature")
    op.drop_table("seen_signature")
