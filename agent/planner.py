"""Understand → check arguments → policy gate, with no side effects.

The graph runs this before it asks back, confirms, escalates or executes, and the eval suite runs exactly the
same function, so the evals measure what the runtime would really do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from agent.backends.base import Backend, DecideRequest, Decision, Turn
from agent.config import AgentSettings
from agent.policy import Policy, PolicyDecision, PolicyInput, Role
from core.errors import SwitchboardError
from core.vocabulary import Risk
from tools.base import ToolArgs, ToolContext
from tools.registry import Registry, describe_validation_error

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """A decision, its validated arguments and what the policy says to do with it."""

    decision: Decision
    args: ToolArgs | None
    risk: Risk
    gate: PolicyDecision
    invalid: str | None = None
    value: float | None = None

    @property
    def action(self) -> str:
        """The policy's action."""
        return self.gate.action


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
    """Decide on one message and gate it; executes nothing."""
    allowed = [spec.name for spec in registry.for_role(role)]
    decision = backend.decide(DecideRequest(text=text, context=context, today=today, allowed_tools=allowed))
    return gate_decision(
        decision, role=role, registry=registry, policy=policy, settings=settings, tool_context=tool_context
    )


def gate_decision(
    decision: Decision,
    *,
    role: Role,
    registry: Registry,
    policy: Policy,
    settings: AgentSettings,
    tool_context: ToolContext | None = None,
) -> Plan:
    """Validate a decision's arguments and apply the policy to it."""
    if decision.tool is None or decision.tool not in registry:
        gate = policy.decide(PolicyInput(tool=None, confidence=decision.confidence, role=role))
        return Plan(decision.model_copy(update={"tool": None}), None, "read", gate)
    spec = registry[decision.tool]
    args: ToolArgs | None = None
    invalid: str | None = None
    missing = list(decision.missing)
    if not missing:
        try:
            args = spec.args_model.model_validate(decision.args)
        except ValidationError as exc:
            missing = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "missing" and e["loc"]]
            if not missing:
                invalid = describe_validation_error(exc)
    risk: Risk = spec.effective_risk(settings, args) if args is not None else spec.risk
    value = _value(spec, args, tool_context)
    gate = policy.decide(
        PolicyInput(
            tool=spec.name,
            risk=risk,
            confidence=decision.confidence,
            role=role,
            allowed_roles=spec.roles,
            missing=missing,
            invalid=invalid,
            value=value,
        )
    )
    return Plan(decision.model_copy(update={"missing": missing}), args, risk, gate, invalid, value)


def _value(spec: Any, args: ToolArgs | None, ctx: ToolContext | None) -> float | None:
    if args is None or spec.value_of is None or ctx is None:
        return None
    try:
        return float(spec.value_of(ctx, args))
    except SwitchboardError:
        # An unknown customer or SKU has no value; execution will report the real error.
        return None
