"""Check arguments → policy gate, with no side effects: the steps between a decision and what happens to it.

The graph's ``check`` and ``gate`` nodes call ``check_arguments`` and ``weigh``; the eval suite and the retry
service call ``plan`` and ``gate_decision``, the same two steps, so the evals measure what the runtime would
really do. Arguments are validated here, once, into a ``BoundCall`` that everything downstream carries.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from pydantic import ValidationError

from agent.backends.base import Backend, DecideRequest, Decision, Turn
from agent.config import AgentSettings
from agent.policy import Policy, PolicyInput
from agent.state import Checked, Intent, Plan
from core.errors import SwitchboardError
from core.vocabulary import Risk, Role
from flows.config import FlowSettings
from tools.base import ToolArgs, ToolContext, ToolSpec
from tools.bound import BoundCall, bind
from tools.registry import Registry, describe_validation_error

__all__ = ["Plan", "check_arguments", "gate_decision", "plan", "weigh"]

logger = logging.getLogger(__name__)


def check_arguments(
    intent: Intent,
    *,
    registry: Registry,
    settings: FlowSettings,
    tool_context: ToolContext | None = None,
) -> Checked:
    """Validate the decision's arguments once into a BoundCall, or say which are missing or invalid.

    Also finds what the gate weighs: the call's risk and value, or those of the call a retry repeats.
    """
    decision = intent.decision
    if decision.tool is None or decision.tool not in registry:
        return Checked(**{**dict(intent), "decision": decision.model_copy(update={"tool": None})})
    spec = registry[decision.tool]
    call: BoundCall | None = None
    invalid: str | None = None
    missing = list(decision.missing)
    if not missing:
        try:
            call = bind(spec, decision.args)
        except ValidationError as exc:
            missing = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "missing" and e["loc"]]
            if not missing:
                invalid = describe_validation_error(exc)
    # A call that repeats another (a retry) is weighed as that call: it needs the same approval as the first run.
    gated, gated_args = spec.gated_call(tool_context, call.args) if call is not None else (spec, None)
    risk: Risk = gated.effective_risk(settings, gated_args) if gated_args is not None else gated.risk
    return Checked(
        **{**dict(intent), "decision": decision.model_copy(update={"missing": missing})},
        call=call,
        risk=risk,
        invalid=invalid,
        value=_value(gated, gated_args, tool_context),
        weighed_as=gated.name,
        roles=gated.roles,
    )


def weigh(checked: Checked, *, role: Role, policy: Policy) -> Plan:
    """Apply the policy to a checked intent."""
    decision = checked.decision
    if checked.weighed_as is None:
        gate = policy.decide(PolicyInput(tool=None, confidence=decision.confidence, role=role))
    else:
        gate = policy.decide(
            PolicyInput(
                tool=checked.weighed_as,
                risk=checked.risk,
                confidence=decision.confidence,
                role=role,
                allowed_roles=checked.roles,
                missing=decision.missing,
                invalid=checked.invalid,
                value=checked.value,
            )
        )
    return Plan(**dict(checked), gate=gate)


def gate_decision(
    decision: Decision,
    *,
    role: Role,
    registry: Registry,
    policy: Policy,
    settings: AgentSettings,
    tool_context: ToolContext | None = None,
) -> Plan:
    """Check a decision's arguments and apply the policy to it."""
    checked = check_arguments(
        Intent(decision=decision), registry=registry, settings=settings, tool_context=tool_context
    )
    return weigh(checked, role=role, policy=policy)


def plan(
    *,
    text: str,
    context: list[Turn],
    role: Role,
    today: date,
    backend: Backend,
    registry: Registry,
    policy: Policy,
    settings: AgentSettings,
    tool_context: ToolContext | None = None,
) -> Plan:
    """Decide on one message, check it and gate it; executes nothing."""
    allowed = [spec.name for spec in registry.for_role(role)]
    decision = backend.decide(DecideRequest(text=text, context=context, today=today, allowed_tools=allowed))
    checked = check_arguments(
        Intent(decision=decision, text=text), registry=registry, settings=settings, tool_context=tool_context
    )
    return weigh(checked, role=role, policy=policy)


def _value(spec: ToolSpec[Any], args: ToolArgs | None, ctx: ToolContext | None) -> float | None:
    if args is None or spec.value_of is None or ctx is None:
        return None
    try:
        return float(spec.value_of(ctx, args))
    except SwitchboardError:
        # An unknown customer or SKU has no value; execution will report the real error.
        return None
