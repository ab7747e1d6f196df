"""Runs: a new status, ``PARTIAL``, for a flow run that finished with some steps failed and others succeeded.

On PostgreSQL the status is an enum type of its own (``runstatus``), which gains the value. ``ALTER TYPE ... ADD
VALUE`` may run in the upgrade's transaction (PostgreSQL 12 and later), but the value cannot be used before that
transaction commits, so this revision only adds it and touches no rows. SQLite stores the member name in a
``VARCHAR(13)`` without a constraint, which ``PARTIAL`` fits, so there is nothing to change there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD_VALUES = "'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'DEAD_LETTERED'"


def upgrade() -> None:
    """Add the value to PostgreSQL's enum type."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE runstatus ADD VALUE IF NOT EXISTS 'PARTIAL' BEFORE 'FAILED'")


def downgrade() -> None:
    """Partial runs become failed ones; PostgreSQL's type is rebuilt without the value (one cannot be dropped)."""
    op.execute("UPDATE run SET status = 'FAILED' WHERE status = 'PARTIAL'")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TYPE runstatus RENAME TO runstatus_0004")
    op.execute(f"CREATE TYPE runstatus AS ENUM ({_OLD_VALUES})")
    op.execute("ALTER TABLE run ALTER COLUMN status TYPE runstatus USING status::text::runstatus")
    op.execute("DROP TYPE runstatus_0004")
