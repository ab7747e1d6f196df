"""Approval requests: a tool call bound to its exact arguments, waiting for people with the approver role.

Every state change is one conditional ``UPDATE ... WHERE status = 'pending' AND expires_at > now``, so a double
click, two approvers racing, a replayed decision or a decision after expiry can never both win.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.audit import canonical_json
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
