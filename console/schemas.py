"""Request and response models of the JSON API (they are its OpenAPI contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from agent.state import DecisionView
from core.vocabulary import Role
from tools.base import Table

ThreadId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Letters, digits, '_' or '-'.")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(_In):
    """A chat message."""

    text: str = Field(min_length=1, max_length=4000, description="What the operator typed.")


class DecisionOut(DecisionView):
    """'What I ran': the tool, its arguments, the confidence and the policy's action (the agent's own view)."""


class ChatReply(BaseModel):
    """The assistant's reply to one message."""

    thread_id: str
    reply: str
    decision: DecisionOut
    approval_id: str | None = None
    run_id: int | None = None
    kind: str = "answer"
    table: Table | None = None
    chart_url: str | None = None
    buttons: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class OutcomeOut(BaseModel):
    """An outcome posted into the requester's thread later: of an approval, or of a flow run started in the background."""

    approval_id: str | None = None
    run_id: int | None = None
    ok: bool | None = Field(
        default=None, description="For a background run: whether it ended without an error."
    )
    table: Table | None = None
    chart_url: str | None = None


class MessageOut(BaseModel):
    """One message of a thread's history."""

    id: int
    role: str
    text: str
    created_at: datetime
    reply: ChatReply | None = None
    outcome: OutcomeOut | None = None


class HistoryOut(BaseModel):
    """A thread's messages, oldest first."""

    thread_id: str
    messages: list[MessageOut]


class ThreadOut(BaseModel):
    """One of the caller's threads."""

    thread_id: str
    title: str
    updated_at: datetime
    messages: int


class ThreadList(BaseModel):
    """The caller's threads, most recent first."""

    threads: list[ThreadOut]


class ApprovalOut(BaseModel):
    """An approval request as the caller sees it."""

    id: str
    tool: str
    args: dict[str, Any]
    binding: str
    requester: str
    thread_id: str | None
    reasons: list[str]
    confidence: float | None
    risk: str
    preview: dict[str, Any]
    status: str
    quorum: int
    approvals: int
    parent_id: str | None
    edited_by: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    run_id: int | None
    can_decide: bool = Field(description="Whether the caller may approve it now.")
    blocked: str | None = Field(
        default=None, description="Why the caller may not approve it, in plain words."
    )


class ApprovalList(BaseModel):
    """Approval requests, newest first."""

    approvals: list[ApprovalOut]


class PendingCount(BaseModel):
    """How many requests wait for the caller (approvers: all pending; operators: their own)."""

    pending: int


class ApproveIn(_In):
    """Optional binding: approve only if the request still has the arguments that were shown."""

    binding: str | None = Field(default=None, max_length=64)


class RejectIn(_In):
    """Why the request is rejected; it goes back to the requester."""

    reason: str = Field(min_length=1, max_length=2000)


class EditIn(_In):
    """Replacement arguments; a new linked request is created and needs approval again."""

    args: dict[str, Any]


class DecisionResult(BaseModel):
    """What a decision did."""

    approval: ApprovalOut
    executed: bool
    run_id: int | None = None
    text: str = ""


class RunOut(BaseModel):
    """A run of a tool or flow."""

    id: int
    name: str
    kind: str
    status: str
    attempt: int
    max_attempts: int
    parent_id: int | None
    pipeline_run_id: int | None
    actor: str
    inputs: dict[str, Any]
    summary: str | None
    error: str | None
    error_code: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None


class RunList(BaseModel):
    """Runs, newest first."""

    runs: list[RunOut]


class RunDetail(BaseModel):
    """A run with its steps, its retries and its result."""

    run: RunOut
    steps: list[RunOut]
    retries: list[RunOut]
    table: Table | None = None
    chart_url: str | None = None


class RetryOut(BaseModel):
    """A retry: the new run, or the approval request it needs first."""

    summary: str
    run: RunOut | None = None
    approval_id: str | None = None


class AuditRecordOut(BaseModel):
    """One audit record."""

    seq: int
    ts: str
    actor: str
    event: str
    subject: str | None
    data: dict[str, Any]


class AuditPage(BaseModel):
    """A page of audit records, newest first; pass ``next_before`` as ``before`` for the next page."""

    records: list[AuditRecordOut]
    next_before: int | None


class VerifyOut(BaseModel):
    """The chain verification, and the signed checkpoints' verdict when there is a checkpoint file."""

    ok: bool
    records: int
    first_bad: int | None
    reason: str | None = None
    head: str
    checkpoints: str | None = None


class HealthOut(BaseModel):
    """Liveness and database reachability."""

    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]


class EvalReportOut(BaseModel):
    """The latest eval report written by ``switchboard eval --report``."""

    name: str
    created_at: datetime
    summary: dict[str, Any]
    plots: list[str] = Field(description="URLs of the report's plots.")


class MeOut(BaseModel):
    """The caller."""

    name: str
    role: str
    must_change_password: bool = Field(
        False,
        description="Logged in on a one-time password: only POST /api/me/password works until it is changed.",
    )


UserName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Letters, digits, '.', '_' or '-'.")
]


class UserOut(BaseModel):
    """A user as admins see them (never a password or token, only whether one exists)."""

    name: str
    role: Role
    active: bool
    has_password: bool
    has_token: bool
    must_change_password: bool
    telegram_linked: bool
    created_at: datetime


class UserList(BaseModel):
    """Every user, by name."""

    users: list[UserOut]


class UserCreateIn(_In):
    """A new user; Switchboard generates their one-time password."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    role: Role = "operator"


class UserPatchIn(_In):
    """Changes to a user: a new role, or (de)activation."""

    role: Role | None = None
    active: bool | None = None


class OneTimePassword(BaseModel):
    """A generated password, shown only in this response; its holder must replace it at the first login."""

    user: UserOut
    password: str


class PasswordChangeIn(_In):
    """The caller replaces their own password."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class TokenOut(BaseModel):
    """A new API token, shown only in this response (only its hash is stored)."""

    token: str
