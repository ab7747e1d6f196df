"""What executing a tool yields (``Execution``, ``InternalToolError``), and a call as a durable workflow's input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import SwitchboardError
from core.store.runs import Run
from flows.config import StepRetry
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec


class InternalToolError(SwitchboardError):
    """A tool failed for a reason that is not the user's input; details are in the server log."""

    code = "internal_error"
    fault = "server"


@dataclass
class Execution:
    """The outcome of one tool call."""

    tool: str
    args: ToolArgs
    result: ToolResult
    run: Run | None = None
    replayed: bool = False


def serialised(
    spec: ToolSpec[Any],
    ctx: ToolContext,
    inputs: dict[str, Any],
    *,
    key: str,
    parent_id: int | None,
    attempt: int,
    retry: StepRetry | None = None,
) -> dict[str, Any]:
    """A call as a durable workflow's input (``ToolRunner.execute_recorded`` runs it back).

    ``retry`` is a flow step's policy: the engine makes up to ``retry.attempts`` attempts of the step, each a
    run of its own linked to the one before (``ToolRunner.next_attempt``).
    """
    return {
        "retry": retry.model_dump() if retry is not None else None,
        "tool": spec.name,
        "args": inputs,
        "actor": ctx.actor,
        "key": key,
        "pipeline_run_id": ctx.pipeline_run_id,
        "parent_id": parent_id,
        "attempt": attempt,
        "source": ctx.source,
    }
