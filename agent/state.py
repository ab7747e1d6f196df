"""Typed state of the chat graph and the approval graph, and the Reply every interface renders."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from pydantic import BaseModel, Field

from core.vocabulary import Action
from tools.base import Table


class DecisionView(BaseModel):
    """'What I ran': the tool, arguments, confidence and the policy's action, shown with every reply."""

    tool: str | None
    args: dict[str, Any] = Field(default_factory=dict)
    confidence: float = 0.0
    action: Action = "refuse"
    backend: str = "embedded"
    reasons: list[str] = Field(default_factory=list)


class Reply(BaseModel):
    """One assistant reply, the same for the console, the bot and the CLI."""

    text: str
    decision: DecisionView | None = None
    table: Table | None = None
    chart_path: str | None = None
    approval_id: str | None = None
    run_id: int | None = None
    buttons: list[str] = Field(default_factory=list, description="Quick answers, e.g. ['yes', 'no'].")
    notes: list[str] = Field(default_factory=list)
    kind: Literal["answer", "question", "confirm", "waiting", "error", "info"] = "answer"


class Pending(TypedDict, total=False):
    """What the thread is waiting for from the operator (a yes/no, a missing argument, a choice)."""

    kind: Literal["confirm", "missing", "choose", "low_confidence"]
    tool: str
    args: dict[str, Any]
    missing: list[str]
    options: list[str]
    confidence: float
    text: str


class ChatState(TypedDict, total=False):
    """Checkpointed per thread: only the operator's words and the calls made, never tool output or file data."""

    user: str
    role: str
    text: str
    turns: list[dict[str, Any]]
    pending: Pending | None
    plan: dict[str, Any] | None
    reply: dict[str, Any] | None


class ApprovalState(TypedDict, total=False):
    """Checkpointed per approval request: the bound call and the outcome."""

    approval_id: str
    tool: str
    args: dict[str, Any]
    requester: str
    thread_id: str | None
    decision: dict[str, Any] | None
    outcome: dict[str, Any] | None
