"""Order rollups: reports read sums per day (or month), region, status, sku and customer, not the order lines.

At 10 million orders a report over last year read 3.85 million lines (12 s on SQLite). The three rollups hold a
few dozen rows per day for the region, status and trend reports, and one row per day or month and sku or customer
for the product and customer reports (see ``core.store.rollup_tables``). Triggers on the order table keep them
current in the same transaction as any change; bulk loads pause the triggers through ``rollup_pause`` and add
their sums themselves (``core.store.rollups``). This revision creates the tables, fills them from the orders
already there and installs the triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.store import rollup_sql, rollups

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ROLLUPS = ("rollup_day", "rollup_sku", "rollup_customer")


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def _head() -> list[sa.Column[object]]:
    return [
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    """Create the rollups and the pause table, fill the rollups from the orders, install the triggers."""
    clustered = {"sqlite_with_rowid": False}
    op.create_table(
        "rollup_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        *_counts("orders", "units"),
        sa.Column("revenue", sa.Float(), nullable=False),
        *_counts("missing_total"),
        sa.PrimaryKeyConstraint("day", "region", "status"),
        **clustered,
    )
    op.create_table(
        "rollup_sku",
        *_head(),
        sa.Column("sku", sa.String(), nullable=False),
        *_counts("orders", "units"),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "bucket", "region", "cancelled", "sku"),
        **clustered,
    )
    op.create_table(
        "rollup_customer",
        *_head(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        *_counts("orders"),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "bucket", "region", "cancelled", "customer_id"),
        **clustered,
    )
    op.create_table(
        "rollup_pause", sa.Column("holder", sa.String(), nullable=False), sa.PrimaryKeyConstraint("holder")
    )
    rollups.rebuild(op.get_bind())


def downgrade() -> None:
    """Remove the triggers, then the tables."""
    bind = op.get_bind()
    for statement in rollup_sql.drop_triggers(bind.dialect.name):
        bind.exec_driver_sql(statement)
    for name in (*_ROLLUPS, "rollup_pause"):
        op.drop_table(name)
