"""Baseline: the core tables as the first releases created them with ``create_all``.

Databases made before migrations existed are stamped here (or at 0002, if they have its column) instead of
running this. It is frozen: later changes go in later revisions, never here.

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


def _run_status() -> sa.Enum:
    # SQLAlchemy's enum of member names; on PostgreSQL a type of its own (made with the first table using it).
    return sa.Enum("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "DEAD_LETTERED", name="runstatus")


def _approval_status() -> sa.Enum:
    return sa.Enum(
        "PENDING",
        "APPROVED",
        "REJECTED",
        "EXPIRED",
        "SUPERSEDED",
        "EXECUTED",
        "FAILED",
        name="approvalstatus",
    )


TABLES = (
    "alertstate",
    "approval_request",
    "approval_vote",
    "artifact",
    "audit_head",
    "audit_record",
    "customer",
    "delivery",
    "ingestbatch",
    "notification",
    "order",
    "product",
    "quarantine",
    "run",
    "sb_user",
    "schedule",
    "thread_message",
)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _serial_id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, nullable=False)


def _indexes(table: str, *columns: str, unique: bool = False) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def upgrade() -> None:
    """Create the core tables, their indexes and (on PostgreSQL) the two enum types."""
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.Integer(), primary_key=True, nullable=False),
        _text("ts"),
        _text("actor"),
        _text("event"),
        _text("subject", nullable=True),
        _text("data"),
        _text("prev_hash"),
        _text("hash"),
    )
    _indexes("audit_record", "ts", "actor", "event", "subject")
    op.create_table(
        "audit_head",
        # The single chain-tip row is always id 1: no sequence.
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        _int("seq"),
        _text("hash"),
    )
    op.create_table(
        "approval_request",
        sa.Column("id", sa.String(), primary_key=True, nullable=False),
        _text("tool"),
        sa.Column("args", sa.JSON(), nullable=True),
        _text("binding"),
        _text("requester"),
        _text("thread_id", nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        _text("risk"),
        sa.Column("preview", sa.JSON(), nullable=True),
        sa.Column("status", _approval_status(), nullable=False),
        _int("quorum"),
        _int("approvals"),
        _text("parent_id", nullable=True),
        _text("edited_by", nullable=True),
        _time("created_at"),
        _time("expires_at"),
        _time("reminded_at", nullable=True),
        _time("decided_at", nullable=True),
        _text("decided_by", nullable=True),
        _text("decision_reason", nullable=True),
        _int("run_id", nullable=True),
        _text("policy_version", nullable=True),
    )
    _indexes("approval_request", "tool", "requester", "thread_id", "status", "parent_id", "expires_at")
    op.create_table(
        "approval_vote",
        _serial_id(),
        _text("approval_id"),
        _text("approver"),
        _time("created_at"),
        sa.UniqueConstraint("approval_id", "approver", name="uq_vote_approval_approver"),
    )
    _indexes("approval_vote", "approval_id")
    op.create_table(
        "thread_message",
        _serial_id(),
        _text("thread_id"),
        _text("owner"),
        _text("role"),
        _text("text"),
        sa.Column("payload", sa.JSON(), nullable=True),
        _time("created_at"),
    )
    _indexes("thread_message", "thread_id", "owner", "created_at")
    op.create_table(
        "customer",
        _text("name"),
        _text("email"),
        _text("region"),
        _text("country", nullable=True),
        sa.Column("credit_limit", sa.Float(), nullable=True),
        _serial_id(),
        _text("tier", nullable=True),
        sa.Column("credit_hold", sa.Boolean(), nullable=False),
        _time("created_at"),
    )
    _indexes("customer", "name", "email", "region")
    op.create_table(
        "product",
        _text("name"),
        _text("category", nullable=True),
        sa.Column("unit_price", sa.Float(), nullable=False),
        _text("price_tier"),
        sa.Column("sku", sa.String(), primary_key=True, nullable=False),
    )
    op.create_table(
        "order",
        _int("customer_id"),
        _text("sku"),
        _int("quantity"),
        sa.Column("unit_price", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        _text("region"),
        sa.Column("order_date", sa.Date(), nullable=False),
        _text("status"),
        _serial_id(),
    )
    _indexes("order", "customer_id", "sku", "region", "order_date")
    op.create_table(
        "ingestbatch",
        _serial_id(),
        _text("dataset"),
        _text("source"),
        _text("checksum"),
        _text("mode"),
        _int("rows_loaded"),
        _int("rows_quarantined"),
        _time("created_at"),
        sa.UniqueConstraint("dataset", "checksum", name="uq_ingest_dataset_checksum"),
    )
    op.create_table(
        "quarantine",
        _serial_id(),
        _int("batch_id", nullable=True),
        _text("dataset"),
        _text("source"),
        _int("line"),
        _text("field_name", nullable=True),
        _text("reason"),
        sa.Column("raw", sa.JSON(), nullable=True),
        _time("created_at"),
    )
    _indexes("quarantine", "batch_id")
    op.create_table(
        "artifact",
        _serial_id(),
        _text("name"),
        _text("path"),
        _text("kind"),
        _text("format"),
        _text("dataset", nullable=True),
        _text("sha256"),
        _int("size"),
        _int("rows", nullable=True),
        _text("manifest_path", nullable=True),
        _int("run_id", nullable=True),
        _time("created_at"),
    )
    _indexes("artifact", "name", "created_at")
    op.create_table(
        "delivery",
        _serial_id(),
        _int("artifact_id"),
        _text("destination"),
        _text("status"),
        _int("attempts"),
        _text("remote_path", nullable=True),
        _text("sha256", nullable=True),
        _text("error", nullable=True),
        _time("created_at"),
        _time("delivered_at", nullable=True),
        sa.UniqueConstraint("artifact_id", "destination", name="uq_delivery_artifact_destination"),
    )
    _indexes("delivery", "artifact_id")
    op.create_table(
        "notification",
        _serial_id(),
        _text("idempotency_key"),
        _text("channel"),
        _text("recipient"),
        _text("message"),
        _text("status"),
        _int("attempts"),
        _text("error", nullable=True),
        _time("created_at"),
        _time("sent_at", nullable=True),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_table(
        "schedule",
        _serial_id(),
        _text("flow"),
        _text("cron"),
        sa.Column("paused", sa.Boolean(), nullable=False),
        _text("created_by"),
        _time("created_at"),
        _time("last_run_at", nullable=True),
        _time("next_run_at", nullable=True),
        sa.UniqueConstraint("flow", "cron", name="uq_schedule_flow_cron"),
    )
    _indexes("schedule", "flow")
    op.create_table(
        "alertstate",
        sa.Column("key", sa.String(), primary_key=True, nullable=False),
        _time("last_sent_at"),
        _int("suppressed"),
    )
    op.create_table(
        "run",
        _serial_id(),
        _text("name"),
        _text("kind"),
        sa.Column("status", _run_status(), nullable=False),
        _int("attempt"),
        _int("max_attempts"),
        _int("parent_id", nullable=True),
        _int("pipeline_run_id", nullable=True),
        _text("idempotency_key", nullable=True),
        _text("actor"),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=True),
        _text("error", nullable=True),
        _text("error_code", nullable=True),
        _time("created_at"),
        _time("started_at", nullable=True),
        _time("finished_at", nullable=True),
        sa.UniqueConstraint("idempotency_key"),
    )
    _indexes("run", "name", "status", "parent_id", "pipeline_run_id", "created_at")
    op.create_table(
        "sb_user",
        _serial_id(),
        _text("name"),
        _text("role"),
        _text("password_hash", nullable=True),
        _text("token_hash", nullable=True),
        _int("telegram_user_id", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _time("created_at"),
    )
    _indexes("sb_user", "name", "token_hash", "telegram_user_id", unique=True)


def downgrade() -> None:
    """Drop the core tables (their indexes go with them) and the enum types."""
    for table in TABLES:  # no foreign keys between them, so any order
        op.drop_table(table)
    bind = op.get_bind()
    for enum in (_run_status(), _approval_status()):
        enum.drop(bind, checkfirst=True)
