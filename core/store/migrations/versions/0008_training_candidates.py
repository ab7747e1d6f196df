"""Training candidates: corrections of the agent, waiting for an admin's review before they reach training.

A "no" to a confirmation, a "Did you mean" pick other than the first, an approver's edit and a rejection with a
reason each become a candidate example (``core.store.training_candidates``). Admins accept, fix or discard them;
only accepted and fixed ones are written to the reviewed training file.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table and the indexes the review queue reads by."""
    op.create_table(
        "training_candidate",
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("chose_tool", sa.String(), nullable=True),
        sa.Column("chose_args", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("meant_tool", sa.String(), nullable=True),
        sa.Column("meant_args", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("out_of_scope", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reviewed_by", sa.String(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("reviewed_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_training_candidate_user", "training_candidate", ["user"])
    op.create_index("ix_training_candidate_created_at", "training_candidate", ["created_at"])
    op.create_index("ix_training_candidate_status", "training_candidate", ["status"])


def downgrade() -> None:
    """Drop the table."""
    for name in ("status", "created_at", "user"):
        op.drop_index(f"ix_training_candidate_{name}", table_name="training_candidate")
    op.drop_table("training_candidate")
