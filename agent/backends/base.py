"""The backend interface: one message (plus the thread's prior calls) in, one typed decision out.

Every backend — the embedded router and Ollama — returns the same ``Decision`` with one calibrated confidence in
[0, 1]: the probability that both the tool and its arguments are right. The graph, the policy and the evals read
only this type.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

_INT64 = range(-(2**63), 2**63)


class Turn(BaseModel):
    """One earlier turn of the thread, as the planner may see it (never tool output or file content)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant"]
    text: str | None = None
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    run_id: int | None = Field(default=None, description="The run the call started, for 'how did that go'.")


class Alternative(BaseModel):
    """A runner-up tool and its probability."""

    tool: str | None
    probability: float


class DecideRequest(BaseModel):
    """What a backend is asked to decide on."""

    text: str
    context: list[Turn] = Field(default_factory=list)
    today: date
    allowed_tools: list[str] | None = Field(
        default=None, description="Restrict to these tools (role filter)."
    )

    @property
    def forced_tool(self) -> str | None:
        """The one tool the caller allows (an operator's pick), when it fixed one: no free decision then."""
        return self.allowed_tools[0] if self.allowed_tools and len(self.allowed_tools) == 1 else None


class Decision(BaseModel):
    """A backend's answer.

    Attributes:
        tool: The chosen tool, or None for out of scope / chit-chat.
        args: Extracted arguments in canonical form (not yet validated against the tool's model).
        confidence: Calibrated probability that tool and arguments are right.
        tool_probability: Probability of the tool choice alone.
        missing: Required arguments that could not be found (the graph asks back for them).
        alternatives: Runner-up tools, best first.
        followup: True when the call was resolved against the previous call in the thread.
        backend: Which backend decided ("embedded", "ollama", "ollama→embedded" on fallback).
        model: Model identifier.
        latency_ms: Time taken to decide.
        notes: Human-readable notes (e.g. why a fallback happened); shown in replies and audited.
        refusal: Why the backend chose no tool although the model asked for something (e.g. several calls in
            one reply); the reply shows it instead of the out-of-scope message.
    """

    tool: str | None
    args: dict[str, Any] = Field(default_factory=dict)
    confidence: float = Field(ge=0.0, le=1.0)
    tool_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    missing: list[str] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    followup: bool = False
    backend: str = "embedded"
    model: str = ""
    latency_ms: float = 0.0
    notes: list[str] = Field(default_factory=list)
    refusal: str | None = None

    @field_validator("args")
    @classmethod
    def _storable(cls, args: dict[str, Any]) -> dict[str, Any]:
        # The thread's checkpoint (msgpack) cannot hold an integer beyond 64 bits, and a backend may extract one
        # from a message ("order 99999999999999999999 units"): kept as its digits, the tool's own validation still
        # names it ("'quantity' should be less than or equal to 1000000") instead of the turn failing.
        return {key: _storable(value) for key, value in args.items()}


def _storable(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return str(value)
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


class Backend(Protocol):
    """Maps a message to a Decision."""

    name: str

    def decide(self, request: DecideRequest) -> Decision:
        """Choose a tool and its arguments for ``request``."""
        ...


def remember_accepted(backend: object, *, text: str, tool: str, args: dict[str, Any]) -> None:
    """Tell a backend that keeps accepted requests (Ollama's few-shot store) about one that ran."""
    accepted = getattr(backend, "accepted", None)
    if callable(accepted):
        accepted(text=text, tool=tool, args=args)
