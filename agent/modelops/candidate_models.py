"""The typed data of candidate routers: how one was made, how it scored against the live router, which is live.

One object per concept, from where it is made to where it is shown: the CLI prints these and writes them as
JSON (the candidate's ``manifest.json``, the ``LIVE.json`` pointer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GatedMetric = Literal["tool_accuracy", "false_refusal_rate", "oos_recall", "ece"]
GateSplit = Literal["dev", "reviewed"]
#: Whether a metric is better when higher (accuracy, recall) or lower (false refusals, calibration error).
HIGHER_IS_BETTER: dict[GatedMetric, bool] = {
    "tool_accuracy": True,
    "false_refusal_rate": False,
    "oos_recall": True,
    "ece": False,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CandidateRecipe(_Model):
    """How a candidate is trained; part of its fingerprint.

    Attributes:
        held_out_percent: Share of the reviewed examples (by a hash of their id) kept out of training to test on.
        base_every: Train on every n-th base example (1: all; tests use a sample to stay fast).
        dev_every: Gate on every n-th example of the dev split (1: all).
    """

    held_out_percent: int = Field(default=20, ge=1, le=90)
    base_every: int = Field(default=1, ge=1)
    dev_every: int = Field(default=1, ge=1)


class CandidateCounts(_Model):
    """What went into a candidate.

    Attributes:
        base: Base examples (prompts/examples) trained on.
        reviewed: Reviewed examples in the version used.
        reviewed_train: Reviewed examples trained on.
        held_out: Reviewed examples kept out of training, to gate on.
        dropped_locked: Reviewed examples dropped because their text is a line of the locked dev split.
        dropped_unknown_tool: Reviewed examples naming a tool the router does not know.
        relabelled: Base examples whose label a reviewed example replaced (same words, another tool).
    """

    base: int
    reviewed: int
    reviewed_train: int
    held_out: int
    dropped_locked: int
    dropped_unknown_tool: int
    relabelled: int


class SplitScores(_Model):
    """One router's gated metrics on one split (``None`` when the split has no examples for a rate)."""

    n: int
    n_in_scope: int
    n_oos: int
    tool_accuracy: float | None
    false_refusal_rate: float | None
    oos_recall: float | None
    ece: float | None

    def value(self, metric: GatedMetric) -> float | None:
        """The value of ``metric``."""
        value: float | None = getattr(self, metric)
        return value

    def support(self, metric: GatedMetric) -> int:
        """The examples ``metric`` is a rate over (its denominator)."""
        if metric == "false_refusal_rate":
            return self.n_in_scope
        return self.n_oos if metric == "oos_recall" else self.n


class MetricCheck(_Model):
    """One gated metric on one split: live, candidate, their difference and whether the candidate may pass."""

    split: GateSplit
    metric: GatedMetric
    live: float | None
    candidate: float | None
    delta: float | None = Field(description="candidate - live; None when either is undefined.")
    tolerance: float
    support: int = Field(description="Examples the rate is over, on the smaller of the two runs.")
    gated: bool = Field(
        description="Whether it may refuse: one example moves it by no more than the tolerance."
    )
    passed: bool

    @property
    def name(self) -> str:
        """``metric (split)``, as the refusal names it."""
        return f"{self.metric} ({self.split})"


class GateResult(_Model):
    """The gate's verdict on a candidate against the live router it would replace."""

    live_fingerprint: str
    candidate_fingerprint: str
    checks: list[MetricCheck]
    decided_at: datetime

    @property
    def passed(self) -> bool:
        """No gated metric is worse than the live router's beyond its tolerance."""
        return all(check.passed for check in self.checks)

    @property
    def refused_by(self) -> list[str]:
        """The metrics that refused the candidate, as ``metric (split)``."""
        return [check.name for check in self.checks if not check.passed]


class CandidateManifest(_Model):
    """``manifest.json`` of a candidate: what it was trained on, and later its gate result."""

    fingerprint: str
    base_fingerprint: str = Field(description="The base examples' fingerprint (prompts/examples).")
    reviewed_version: int
    reviewed_sha256: str
    recipe: CandidateRecipe
    counts: CandidateCounts
    created_at: datetime
    encoder_sha: str
    gate: GateResult | None = None


class LivePointer(_Model):
    """``LIVE.json``: which router is live, the ones before it (newest last), and the shadow candidate.

    ``live`` is ``None`` until a first promotion: the base router for the current examples is live, as without
    the file.
    """

    live: str | None = None
    history: list[str] = Field(default_factory=list)
    shadow: str | None = None
    updated_at: datetime
    updated_by: str

    @property
    def previous(self) -> str | None:
        """The router a rollback goes back to."""
        return self.history[-1] if self.history else None
