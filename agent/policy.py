"""The policy gate: confidence × risk × role → execute, confirm, approve, clarify or refuse.

Policy is data (``policy:`` in the config) with a version that goes into every decision's audit record. This
module is pure: the same inputs always give the same action, which is what lets the eval suite score the runtime's
real behaviour.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.config import PolicyConfig, RiskThresholds, ToolPolicy
from core.vocabulary import Action, Risk, Role


class PolicyInput(BaseModel):
    """Everything the gate weighs for one call."""

    tool: str | None
    risk: Risk = "read"
    confidence: float = Field(ge=0, le=1)
    role: Role = "operator"
    allowed_roles: tuple[str, ...] = ("operator", "approver", "admin")
    missing: list[str] = Field(default_factory=list)
    invalid: str | None = None
    value: float | None = None


class PolicyDecision(BaseModel):
    """What the gate decided and why."""

    action: Action
    reasons: list[str]
    risk: Risk
    shadow: bool = False
    quorum: int = 1
    policy_version: str


class Policy:
    """Applies a PolicyConfig."""

    def __init__(self, config: PolicyConfig) -> None:
        self.config = config

    @property
    def version(self) -> str:
        """The policy version recorded with every decision."""
        return self.config.version

    def tool_policy(self, tool: str | None) -> ToolPolicy:
        """The per-tool override, or an empty one."""
        return self.config.tools.get(tool or "", ToolPolicy())

    def thresholds(self, tool: str | None, risk: Risk) -> RiskThresholds:
        """Thresholds for this tool: its override, else its risk's defaults."""
        override = self.tool_policy(tool).thresholds
        return override or self.config.risks.get(risk, RiskThresholds(confirm=1.0))

    def decide(self, item: PolicyInput) -> PolicyDecision:
        """Apply the policy to one call."""
        override = self.tool_policy(item.tool)
        shadow = override.shadow if override.shadow is not None else self.config.shadow

        def out(action: Action, *reasons: str) -> PolicyDecision:
            return PolicyDecision(
                action=action,
                reasons=list(reasons),
                risk=item.risk,
                shadow=shadow,
                quorum=override.quorum,
                policy_version=self.version,
            )

        if item.tool is None:
            return out("refuse", "no tool fits this request")
        roles = tuple(override.roles) if override.roles else item.allowed_roles
        if item.role not in roles:
            return out("refuse", f"the {item.role} role may not use {item.tool}")
        if item.missing:
            return out("clarify", "missing " + ", ".join(item.missing))
        if item.invalid:
            return out("clarify", item.invalid)
        limits = self.thresholds(item.tool, item.risk)
        floor = min(x for x in (limits.confirm, limits.execute, 1.0) if x is not None)
        if item.confidence < floor:
            return out("clarify", f"low confidence ({item.confidence:.2f} < {floor:.2f})")
        over_value = (
            override.approve_over_value is not None and (item.value or 0) > override.approve_over_value
        )
        if limits.approve or over_value:
            reasons = [f"{item.risk} action needs an approver"] if limits.approve else []
            if over_value:
                reasons.append(f"value {item.value:,.2f} is over {override.approve_over_value:,.2f}")
            return out("approve", *reasons)
        if limits.execute is not None and item.confidence >= limits.execute:
            return out("execute", f"{item.risk} action at confidence {item.confidence:.2f}")
        return out("confirm", f"{item.risk} action: asking the requester first")
