"""What the chat graph's nodes depend on, injected once when the graph is built (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig

from agent.approvals import ApprovalService
from agent.backends.base import Backend
from agent.background_runs import BackgroundRuns
from agent.modelops.corrections import Corrections
from agent.policy import Policy
from agent.prompts import Prompts
from tools.registry import Registry
from tools.runtime import ToolRunner

SlotFiller = Callable[[str, str, date, list[str]], dict[str, Any]]
T = TypeVar("T")


@dataclass(frozen=True)
class ChatDeps:
    """The parts the nodes use.

    Attributes:
        backend: Decides on a message.
        registry: The tools.
        policy: The gate.
        runner: Executes calls and writes the audit log.
        approvals: Stores approval requests and pauses their threads.
        prompts: Reply templates.
        fill_slots: Reads the arguments an operator gives in answer to a question.
        background: Runs long calls (named flows) off the turn, when this process can queue them.
        corrections: Captures a person's corrections of the agent as candidate training examples.
    """

    backend: Backend
    registry: Registry
    policy: Policy
    runner: ToolRunner
    approvals: ApprovalService
    prompts: Prompts
    fill_slots: SlotFiller
    background: BackgroundRuns | None = None
    corrections: Corrections | None = None


def required(value: T | None, name: str) -> T:
    """The state field an earlier node wrote; its absence is a wiring error in the graph, not a user error."""
    if value is None:
        raise RuntimeError(f"the chat graph reached this node without {name}")
    return value


def thread_of(config: RunnableConfig) -> str:
    """The chat thread this run belongs to."""
    return str(config.get("configurable", {}).get("thread_id", "default"))


def subject_of(config: RunnableConfig) -> str:
    """The audit subject of this thread's records."""
    return f"thread:{thread_of(config)}"


def source_of(config: RunnableConfig) -> str:
    """The interface that sent the message (chat, console, cli, telegram)."""
    return str(config.get("configurable", {}).get("source", "chat"))
