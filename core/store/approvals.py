"""Approval requests: a tool call bound to its exact arguments, waiting for people with the approver role.

Every state change is one conditional ``UPDATE ... WHERE status = 'pending' AND expires_at > now``, so a double
click, two approvers racing, a replayed decision or a decision after expiry can never both win. The ``WHERE``
clauses those updates share (what is due for expiry or a reminder, which pending request a repeated call merges
into) are defined here, beside the table.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Select, UniqueConstraint, select
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col

from core.store.audit import AuditRecord, canonical_json
from core.store.db import utcnow


class ApprovalStatus(enum.StrEnum):
    """Lifecycle of an approval request."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    EXECUTED = "executed"
    FAILED = "failed"


def binding_of(tool: str, args: dict[str, Any]) -> str:
    """sha256 over the tool name and its canonical arguments: what exactly is being approved."""
    return hashlib.sha256(f"{tool}\n{canonical_json(args)}".encode()).hexdigest()


def call_lock_key(tool: str, binding: str) -> int:
    """A bigint naming one call for ``pg_advisory_xact_lock``: 64 bits of a sha256, as in migrate.py."""
    digest = hashlib.sha256(f"switchboard approval {tool}\n{binding}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class ApprovalRequest(SQLModel, table=True):
    """One request for approval."""

    __tablename__ = "approval_request"

    id: str = Field(primary_key=True)
    tool: str = Field(index=True)
    args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    binding: str
    requester: str = Field(index=True)
    thread_id: str | None = Field(default=None, index=True)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    confidence: float | None = None
    risk: str = "external"
    preview: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: ApprovalStatus = Field(default=ApprovalStatus.PENDING, index=True)
    quorum: int = 1
    approvals: int = 0
    parent_id: str | None = Field(default=None, index=True, description="The request this one edits.")
    edited_by: str | None = Field(
        default=None, description="Who changed the arguments; they cannot approve it."
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    reminded_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    run_id: int | None = None
    policy_version: str | None = None


def due_for_expiry(now: datetime) -> list[ColumnElement[bool]]:
    """Pending requests past their expiry."""
    return [col(ApprovalRequest.status) == ApprovalStatus.PENDING, col(ApprovalRequest.expires_at) <= now]


def due_for_reminder(now: datetime, window: timedelta) -> list[ColumnElement[bool]]:
    """Pending requests, not reminded yet, that expire within ``window`` from ``now``."""
    return [
        col(ApprovalRequest.status) == ApprovalStatus.PENDING,
        col(ApprovalRequest.reminded_at).is_(None),
        col(ApprovalRequest.expires_at) > now,
        col(ApprovalRequest.expires_at) <= now + window,
    ]


def pending_twin(tool: str, binding: str, now: datetime) -> Select[ApprovalRequest]:
    """The oldest pending, unexpired request for the same call: the one a repeated request merges into."""
    return (
        select(ApprovalRequest)
        .where(col(ApprovalRequest.tool) == tool)
        .where(col(ApprovalRequest.binding) == binding)
        .where(col(ApprovalRequest.status) == ApprovalStatus.PENDING)
        .where(col(ApprovalRequest.expires_at) > now)
        .order_by(col(ApprovalRequest.created_at), col(ApprovalRequest.id))
        .limit(1)
    )


class ApprovalVote(SQLModel, table=True):
    """One approver's approve vote; unique per (request, approver) so a double tap counts once."""

    __tablename__ = "approval_vote"
    __table_args__ = (UniqueConstraint("approval_id", "approver", name="uq_vote_approval_approver"),)

    id: int | None = Field(default=None, primary_key=True)
    approval_id: str = Field(index=True)
    approver: str
    created_at: datetime = Field(default_factory=utcnow)


class ThreadMessage(SQLModel, table=True):
    """A message in a chat thread, kept for history (console, bot) independently of the agent's checkpoints."""

    __tablename__ = "thread_message"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: str = Field(index=True)
    owner: str = Field(index=True, description="The user the thread belongs to.")
    role: str = Field(description="user, assistant or system.")
    text: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)


def merged_threads(engine: Engine, approval_id: str) -> list[tuple[str, str]]:
    """(requester, thread) of each identical request that merged into ``approval_id`` (its ``approval.merged``)."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(AuditRecord.actor), col(AuditRecord.data))
            .where(
                col(AuditRecord.subject) == f"approval:{approval_id}",
                col(AuditRecord.event) == "approval.merged",
            )
            .order_by(col(AuditRecord.seq))
        ).all()
    found: list[tuple[str, str]] = []
    for actor, data in rows:
        thread_id = json.loads(data).get("thread_id")
        if thread_id and (actor, thread_id) not in found:
            found.append((actor, thread_id))
    return found
