"""The typed drift report: per window, per tool and overall, with the measures that crossed their thresholds.

One object from where it is computed to where it is shown: the CLI prints it as a table or JSON, the console's
Model page and its JSON API render it, the Prometheus collector reads its gauges from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.config import DriftConfig
from agent.modelops.drift_psi import PsiResult
from agent.modelops.drift_vocab import NewVocabulary
from agent.modelops.drift_windows import WindowKind

OVERALL = "overall"
Measure = Literal["psi", "correction_rate", "confidence_drop", "oos_share", "new_vocabulary"]
MEASURE_NAMES: dict[Measure, str] = {
    "psi": "confidence shift (PSI)",
    "correction_rate": "correction rate",
    "confidence_drop": "confidence drop",
    "oos_share": "out-of-scope share",
    "new_vocabulary": "new vocabulary",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ActionShares(_Frozen):
    """The share of decisions the policy executed, confirmed, escalated, asked back on and refused."""

    execute: float = 0.0
    confirm: float = 0.0
    approve: float = 0.0
    clarify: float = 0.0
    refuse: float = 0.0


class CorrectionCounts(_Frozen):
    """Corrections by kind: "no" answers, other "did you mean" picks, approval edits, rejections with a reason."""

    declined: int = 0
    other_choice: int = 0
    approval_edit: int = 0
    approval_rejected: int = 0

    @property
    def total(self) -> int:
        """Every correction."""
        return self.declined + self.other_choice + self.approval_edit + self.approval_rejected


class ScopeStats(_Frozen):
    """The measures of one tool (or of every decision, ``scope == "overall"``) in one window.

    Attributes:
        scope: The tool, or ``overall``.
        decisions: Decisions audited (for a tool: the decisions that chose it).
        confidence_mean: Their mean confidence (None without decisions).
        confidence_counts: Their confidences per tenth (0-0.1, ..., 0.9-1).
        actions: What the policy did with them.
        corrections: The corrections of these decisions, by kind.
        correction_rate: ``corrections.total / decisions`` (None without decisions).
        baseline_mean: The baseline's mean confidence for this scope (None without a baseline).
        confidence_drop: ``baseline_mean - confidence_mean`` (positive: below the baseline).
        psi: The shift of the confidences against the baseline's, with the bins that moved most.
        oos_share: The share of decisions that chose no tool (overall only).
    """

    scope: str
    decisions: int
    confidence_mean: float | None
    confidence_counts: list[int]
    actions: ActionShares
    corrections: CorrectionCounts
    correction_rate: float | None
    baseline_mean: float | None = None
    confidence_drop: float | None = None
    psi: PsiResult | None = None
    oos_share: float | None = None


class Flag(_Frozen):
    """A measure that crossed its threshold: where, by how much, in words."""

    window: str
    scope: str
    measure: Measure
    value: float
    threshold: float
    message: str


class WindowReport(_Frozen):
    """One window: overall, per tool (most decisions first), the new vocabulary and the flags."""

    label: str
    start: datetime
    end: datetime
    overall: ScopeStats
    tools: list[ScopeStats]
    vocabulary: NewVocabulary | None
    flags: list[Flag]


class BaselineInfo(_Frozen):
    """What the report compared with."""

    fingerprint: str
    source: str
    created_at: datetime
    n: int
    mean: float


class DriftReport(_Frozen):
    """The drift report for ``[start, end)`` in day or week windows, oldest window first."""

    window: WindowKind
    start: datetime
    end: datetime
    generated_at: datetime
    tool: str | None
    baseline: BaselineInfo | None
    thresholds: DriftConfig
    windows: list[WindowReport]
    unreadable: int = 0

    @property
    def flags(self) -> list[Flag]:
        """Every flag of every window, oldest window first."""
        return [flag for window in self.windows for flag in window.flags]

    @property
    def flagged(self) -> list[str]:
        """The scopes (tools, ``overall``) flagged in any window, in order of first flag."""
        return list(dict.fromkeys(flag.scope for flag in self.flags))

    @property
    def latest(self) -> WindowReport | None:
        """The newest window."""
        return self.windows[-1] if self.windows else None
