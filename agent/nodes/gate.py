"""Gate: apply the policy to the checked call, and audit the decision.

The policy ranks its answers: no fitting tool or a role that may not use it is refused before a missing argument
is asked back, so asking back is one of the gate's outcomes rather than a step before it.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig

from agent.nodes.deps import ChatDeps, required, subject_of
from agent.planner import weigh
from agent.state import ChatState, ChatUpdate


def gate(deps: ChatDeps, state: ChatState, config: RunnableConfig) -> ChatUpdate:
    """Weigh confidence, risk and role; audit a new request's decision unless it executes now."""
    plan = weigh(required(state.checked, "checked arguments"), role=state.acting_role, policy=deps.policy)
    # Only a new request is a decision of its own; an answer completes the decision already audited.
    # One that executes is audited by ``execute``, in one transaction with the call's own record, before the tool
    # runs: one write fewer on the busiest path, and the chain still reads decision, then call.
    if plan.source == "message" and plan.route != "execute":
        record = plan.record(prompt_hash=deps.prompts.hash)
        deps.runner.audit.append(
            "agent.decision",
            actor=state.user,
            subject=subject_of(config),
            data=record.model_dump(mode="json"),
        )
    return {"plan": plan}
