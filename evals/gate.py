"""The CI regression gate: compare an eval summary with the committed baseline (evals/baseline.json).

The gate fails when tool accuracy, argument exact-match or OOS recall drops more than ``tolerance`` (1 point)
below the baseline, or when any tool's F1 falls below its floor. The baseline is written only from a real run
(``switchboard eval --write-baseline``) and updating it is a deliberate commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import BadInput
from evals.summary import Summary

BASELINE_PATH = Path(__file__).resolve().with_name("baseline.json")
# The same gate with the demo database's names (``--with-db``).
BASELINE_WITH_DB_PATH = Path(__file__).resolve().with_name("baseline_with_db.json")
# The split the gate runs on: dev, a regression guard. The sealed test split is measured once, by hand (README).
BASELINE_SPLIT = "dev"


def baseline_path(*, with_db: bool) -> Path:
    """The committed baseline of one mode."""
    return BASELINE_WITH_DB_PATH if with_db else BASELINE_PATH


GATED: tuple[str, ...] = ("tool_accuracy", "args_exact_match", "oos_recall")
DEFAULT_TOLERANCE = 0.01
DEFAULT_FLOOR = 0.80
_EPSILON = 1e-9


class Floors(BaseModel):
    """Per-tool F1 floors: one number for every tool, or a mapping with optional ``default``."""

    model_config = ConfigDict(extra="forbid")

    per_tool_f1: float | dict[str, float] = DEFAULT_FLOOR

    def for_tool(self, tool: str) -> float | None:
        """The floor of ``tool`` (None: not gated)."""
        if isinstance(self.per_tool_f1, float | int):
            return float(self.per_tool_f1)
        return self.per_tool_f1.get(tool, self.per_tool_f1.get("default"))


class Baseline(BaseModel):
    """The committed reference figures."""

    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, float | None]
    per_tool_f1: dict[str, float] = Field(default_factory=dict)
    floors: Floors = Floors()
    tolerance: float = Field(default=DEFAULT_TOLERANCE, ge=0, le=1)
    measured: dict[str, Any] = Field(
        default_factory=dict, description="How and when the figures were measured."
    )


@dataclass(frozen=True)
class Failure:
    """One reason the gate failed."""

    metric: str
    current: float | None
    limit: float
    baseline: float | None = None
    kind: Literal["regression", "floor"] = "regression"

    def describe(self) -> str:
        """One line for the CI log."""
        now = "missing" if self.current is None else f"{100 * self.current:.1f} %"
        if self.kind == "floor":
            return f"{self.metric} is {now}, below its floor of {100 * self.limit:.1f} %"
        base = "—" if self.baseline is None else f"{100 * self.baseline:.1f} %"
        drop = (self.baseline or 0.0) - (self.current or 0.0)
        lowest = f"{100 * self.limit:.1f} %"
        return f"{self.metric} fell {100 * drop:.1f} points: {base} → {now} (lowest allowed {lowest})"


@dataclass(frozen=True)
class GateResult:
    """What the gate checked and what failed."""

    failures: list[Failure]
    checked: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing regressed."""
        return not self.failures


def load_baseline(path: Path = BASELINE_PATH) -> Baseline:
    """Read a baseline file.

    Raises:
        BadInput: When it is missing or malformed, naming the file.
    """
    try:
        return Baseline.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(
            f"no baseline at {path}: run `switchboard eval --write-baseline` and commit it", file=str(path)
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise BadInput(f"baseline {path} is invalid at {where}: {first['msg']}", file=str(path)) from None


def _as_dict(summary: Summary | Mapping[str, Any]) -> dict[str, Any]:
    return summary.model_dump(mode="json") if isinstance(summary, Summary) else dict(summary)


def check(summary: Summary | Mapping[str, Any], baseline: Baseline) -> GateResult:
    """Compare a run with the baseline; see the module docstring for the rules."""
    current = _as_dict(summary)
    failures: list[Failure] = []
    checked: list[tuple[str, float | None, float | None]] = []
    notes: list[str] = []
    for metric in GATED:
        base = baseline.metrics.get(metric)
        now = current.get(metric)
        checked.append((metric, base, now))
        if base is None:
            continue
        limit = base - baseline.tolerance
        if now is None or now < limit - _EPSILON:
            failures.append(Failure(metric, now, limit, base))
    per_tool: dict[str, Any] = current.get("per_tool") or {}
    tools = {name for name, s in per_tool.items() if s.get("support")} | set(baseline.per_tool_f1)
    for tool in sorted(tools - {"none"}):
        floor = baseline.floors.for_tool(tool)
        now = (per_tool.get(tool) or {}).get("f1", 0.0)
        if floor is not None and now < floor - _EPSILON:
            failures.append(Failure(f"{tool} F1", now, floor, kind="floor"))
    measured_n = baseline.measured.get("n")
    if measured_n is not None and measured_n != current.get("n"):
        notes.append(f"the baseline was measured on {measured_n} examples, this run has {current.get('n')}")
    return GateResult(failures, checked, notes)


def baseline_from(
    summary: Summary, *, floors: Floors | None = None, tolerance: float = DEFAULT_TOLERANCE
) -> Baseline:
    """A baseline holding this run's figures (rounded to 4 decimals) and how they were measured."""
    keys = (*GATED, "macro_f1", "oos_precision", "false_refusal_rate", "ece", "wrong_execution_rate")
    data = summary.model_dump()
    return Baseline(
        metrics={k: _round(data[k], 4) for k in keys},
        per_tool_f1={name: round(s.f1, 4) for name, s in summary.per_tool.items() if name != "none"},
        floors=floors or Floors(),
        tolerance=tolerance,
        measured={
            "n": summary.n,
            "backend": summary.backend,
            "model": summary.model,
            "datasets": summary.datasets,
            "today": summary.today,
            "policy_version": summary.policy_version,
            "role": summary.role,
            "latency_ms_p50": _round(summary.latency_ms_p50, 1),
            "latency_ms_p95": _round(summary.latency_ms_p95, 1),
            "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        },
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def write_baseline(baseline: Baseline, path: Path = BASELINE_PATH) -> Path:
    """Write a baseline file (pretty JSON, stable key order)."""
    path.write_text(json.dumps(baseline.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return path
