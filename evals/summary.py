"""The machine-readable eval summary (``switchboard eval --json``, ``summary.json``, the CI baseline).

Every key is documented in evals/README.md; a test keeps the two in step. Rates are fractions in [0, 1] and
are ``null`` when their denominator is empty (e.g. OOS recall on a set with no out-of-scope rows).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ToolScores(BaseModel):
    """Scores of one class (a tool, or ``none`` for out of scope)."""

    model_config = ConfigDict(extra="forbid")

    precision: float
    recall: float
    f1: float
    support: int = Field(description="Examples labelled with this class.")
    predicted: int = Field(description="Examples predicted as this class.")
    args_exact_match: float | None = Field(
        description="Share of right-tool examples with every checked arg right."
    )
    args_n: int = Field(description="Right-tool examples with at least one checked argument.")


class Bin(BaseModel):
    """One bin of the reliability diagram."""

    low: float
    high: float
    n: int
    confidence: float | None
    accuracy: float | None


class CoveragePoint(BaseModel):
    """Answer only at confidence ≥ threshold."""

    threshold: float
    coverage: float
    accuracy: float | None
    n: int


class Summary(BaseModel):
    """Headline figures of one eval run."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(description="Examples evaluated.")
    tool_accuracy: float | None = Field(
        description="Share of examples with the right tool (none counts as a class)."
    )
    macro_f1: float | None = Field(description="Unweighted mean F1 over every class expected or predicted.")
    args_exact_match: float | None = Field(
        description="Right-tool examples with checked args: all of them right."
    )
    args_n: int = Field(description="Examples that count towards args_exact_match.")
    oos_precision: float | None = Field(
        description="Of the examples predicted none, the share labelled none."
    )
    oos_recall: float | None = Field(description="Of the examples labelled none, the share predicted none.")
    false_refusal_rate: float | None = Field(
        description="Of the in-scope examples, the share predicted none."
    )
    ece: float | None = Field(description="Expected calibration error, 15 equal-width bins.")
    latency_ms_p50: float | None = Field(description="Median wall time of backend.decide, ms.")
    latency_ms_p95: float | None = Field(description="95th percentile wall time of backend.decide, ms.")
    auto_execute_share: float | None = Field(description="Share the policy would execute without asking.")
    confirm_share: float | None = Field(description="Share the policy would ask the requester to confirm.")
    approve_share: float | None = Field(description="Share the policy would send to an approver.")
    clarify_share: float | None = Field(description="Share the policy would ask back about.")
    refuse_share: float | None = Field(description="Share the policy would refuse.")
    auto_execute_accuracy: float | None = Field(
        description="Of the auto-executed examples, the share fully right."
    )
    wrong_execution_rate: float | None = Field(
        description="Wrong calls that execute or reach confirm/approve, / n."
    )
    wrong_auto_execution_rate: float | None = Field(description="Wrong calls that would auto-execute, / n.")
    wrong_confirm_rate: float | None = Field(description="Wrong calls that reach confirm or approve, / n.")
    followup_accuracy: float | None = Field(description="Share of follow-up examples fully right.")
    n_in_scope: int = Field(description="Examples labelled with a tool.")
    n_oos: int = Field(description="Examples labelled none.")
    n_followups: int = Field(description="Examples with previous turns.")
    errors: int = Field(description="Examples not fully right (listed in errors.jsonl).")
    backends: dict[str, int] = Field(description="How many decisions each backend made (shows fallbacks).")
    per_tool: dict[str, ToolScores] = Field(description="Scores per class.")
    per_argument: dict[str, dict[str, float | int | None]] = Field(
        description="Exact match per 'tool.argument': accuracy and n."
    )
    reliability: list[Bin] = Field(description="Reliability diagram bins.")
    coverage: list[CoveragePoint] = Field(
        description="Coverage-vs-accuracy curve at thresholds 0, 0.05, ..., 1."
    )
    backend: str = Field(default="", description="Backend name.")
    model: str = Field(default="", description="Backend model identifier.")
    policy_version: str = Field(default="", description="Policy version the thresholds came from.")
    role: str = Field(default="", description="Role the messages were planned for.")
    today: str = Field(default="", description="Reference date for periods.")
    datasets: list[str] = Field(default_factory=list, description="Dataset files evaluated.")
