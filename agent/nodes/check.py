"""Check arguments: validate the decision's arguments once against the tool's model.

Valid arguments become the turn's ``BoundCall``, which the gate, the approval service and the runner carry without
validating again. Missing or invalid ones are recorded for the gate, which decides whether to ask back.
"""

from __future__ import annotations

from agent.nodes.deps import ChatDeps, required
from agent.planner import check_arguments
from agent.state import ChatState, ChatUpdate


def check(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """Bind the arguments, or name what is missing or invalid."""
    checked = check_arguments(
        required(state.intent, "an intent"),
        registry=deps.registry,
        settings=deps.runner.settings,
        tool_context=deps.runner.context(actor="planner"),
    )
    return {"checked": checked}
