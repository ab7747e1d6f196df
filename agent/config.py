"""The agent's settings: which backend maps messages to tool calls, and the policy that gates each call.

The policy is versioned; its version goes into every decision's audit record.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.vocabulary import Risk, Role
from flows.config import FlowSettings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentConfig(BaseModel):
    """Which backend maps messages to tool calls, and how to reach Ollama."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["embedded", "ollama"] = "embedded"
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:7b-instruct"
    ollama_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="HTTP timeout for connecting to Ollama and for each read of its reply.",
    )
    ollama_deadline_s: float = Field(
        default=30.0,
        gt=0,
        description="Most time one decision may wait for Ollama, whole reply and repair round included; "
        "then the embedded router decides.",
    )
    ollama_num_ctx: int | None = Field(
        default=None, ge=512, description="Ollama's context window (num_ctx); None sizes it from the prompt."
    )
    ollama_keep_alive: str = "10m"
    ollama_mode: Literal["tools", "structured"] = Field(
        default="tools",
        description="tools: native tool calling, confidence from a prior and the router. structured: a JSON "
        "decision under a format schema, confidence from the model's token log-probabilities. Compare the "
        "two with switchboard eval --backend ollama --ollama-mode ...",
    )
    ollama_top_logprobs: int = Field(
        default=10,
        ge=2,
        le=20,
        description="Structured mode: alternatives per token position (top_logprobs).",
    )
    encoder_threads: int = 1
    # Chat turns that run at once in one process (a console worker, the bot); the others queue. None picks by
    # backend: an embedded turn is pure CPU, so a second one in the same process only trades places with the
    # first on the GIL; an Ollama turn mostly waits for the model server.
    turns_at_once: int | None = Field(default=None, ge=1, le=256)

    def turn_slots(self) -> int:
        """How many chat turns one process runs at once."""
        if self.turns_at_once is not None:
            return self.turns_at_once
        return 1 if self.backend == "embedded" else 8


class RiskThresholds(_Section):
    """Confidence thresholds for one risk level."""

    execute: float | None = Field(
        default=None, ge=0, le=1, description="Run without asking at or above this."
    )
    confirm: float | None = Field(
        default=None, ge=0, le=1, description="Ask the requester yes/no at or above."
    )
    approve: bool = Field(default=False, description="Always route to an approver.")


def _default_risks() -> dict[Risk, RiskThresholds]:
    return {
        "read": RiskThresholds(execute=0.6),
        "write": RiskThresholds(confirm=0.85),
        "external": RiskThresholds(confirm=0.85, approve=True),
    }


class ToolPolicy(_Section):
    """Per-tool override of the policy."""

    thresholds: RiskThresholds | None = None
    roles: list[Role] | None = None
    approve_over_value: float | None = None
    quorum: int = Field(default=1, ge=1)
    shadow: bool | None = None


class PolicyConfig(_Section):
    """The versioned policy: confidence × risk × role → execute, confirm, approve, clarify or refuse."""

    version: str = "1"
    shadow: bool = False
    four_eyes: bool = True
    approval_expiry_hours: float = 24.0
    reminder_before_expiry_hours: float = 2.0
    risks: dict[Risk, RiskThresholds] = Field(default_factory=lambda: _default_risks())
    tools: dict[str, ToolPolicy] = Field(
        default_factory=lambda: {"create_order": ToolPolicy(approve_over_value=10_000.0)}
    )


class DriftConfig(_Section):
    """When the drift report (``switchboard drift``, the console's Model page) flags a tool in a window."""

    psi: float = Field(
        default=0.2,
        gt=0,
        description="Flag at or above this population stability index against the baseline.",
    )
    correction_rate: float = Field(
        default=0.15, gt=0, le=1, description="Flag when this share of a tool's decisions is corrected..."
    )
    min_corrections: int = Field(default=3, ge=1, description="... and at least this many were.")
    confidence_drop: float = Field(
        default=0.15,
        gt=0,
        le=1,
        description="Flag when the mean confidence is this far below the baseline's.",
    )
    oos_share: float = Field(
        default=0.3, gt=0, le=1, description="Flag when this share of messages is out of scope."
    )
    new_vocabulary_share: float = Field(
        default=0.25, gt=0, le=1, description="Flag when this share of the words is unseen in training."
    )
    min_decisions: int = Field(
        default=20, ge=1, description="Fewer decisions than this in a window (or tool) are too few to flag."
    )
    check_every_s: int = Field(
        default=3600,
        ge=0,
        description="How often the background tick checks the day's and the week's drift and raises its alerts "
        "(0: never; `switchboard drift --alert` still does).",
    )


class RouterGateConfig(_Section):
    """How much worse than the live router a candidate router may be on each gated metric and still replace it."""

    tool_accuracy: float = Field(default=0.01, ge=0, le=1, description="Tool accuracy may fall by this much.")
    false_refusal_rate: float = Field(
        default=0.01, ge=0, le=1, description="The false-refusal rate may rise by this much."
    )
    oos_recall: float = Field(
        default=0.01, ge=0, le=1, description="Out-of-scope recall may fall by this much."
    )
    ece: float = Field(
        default=0.01, ge=0, le=1, description="Expected calibration error may rise by this much."
    )

    def tolerance(self, metric: str) -> float:
        """The tolerance of one gated metric."""
        value: float = getattr(self, metric)
        return value


class AgentSettings(FlowSettings):
    """Flow settings plus the agent's backend and policy."""

    VERSIONED_SECTIONS: ClassVar[frozenset[str]] = FlowSettings.VERSIONED_SECTIONS | {"policy"}

    policy: PolicyConfig = PolicyConfig()
    agent: AgentConfig = AgentConfig()
    drift: DriftConfig = DriftConfig()
    router_gate: RouterGateConfig = RouterGateConfig()
    tick_seconds: int = Field(
        default=30,
        ge=1,
        le=59,
        description="How often due schedules fire and approval requests expire or are reminded (once, cluster-wide).",
    )
    console_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The console's public address: links in chat and bot messages, secure cookies over https.",
    )
