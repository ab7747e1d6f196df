"""Eval metrics over per-example outcomes: accuracy, F1, argument match, policy actions, calibration, latency.

Pure functions of ``Outcome`` records, so every figure can be checked by hand on a synthetic list. Out
of scope is a class of its own, ``none``. Rates are fractions in [0, 1]; a rate with an empty denominator is
``None``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evals.summary import Bin, CoveragePoint, Summary, ToolScores

NONE = "none"
ECE_BINS = 15
ACTIONS: tuple[str, ...] = ("execute", "confirm", "approve", "clarify", "refuse")


@dataclass(frozen=True)
class Outcome:
    """What happened to one example.

    Attributes:
        text: The message.
        source: ``file:line`` of the example.
        expected_tool: The labelled tool (None = out of scope).
        expected_args: The labelled arguments that are checked.
        predicted_tool: The tool the backend chose (None = out of scope).
        predicted_args: The arguments as the runtime would use them.
        args_ok: Per checked argument, whether it matched (all False when the tool is wrong).
        confidence: The decision's calibrated confidence.
        action: The policy gate's action at the runtime thresholds.
        risk: The risk the gate weighed.
        latency_ms: Wall time of ``backend.decide``.
        followup: The example had previous turns.
        backend: Which backend decided.
        needs_input: Arguments were missing or invalid, so the gate asks back whatever the confidence.
    """

    text: str
    expected_tool: str | None
    predicted_tool: str | None
    confidence: float
    action: str = "refuse"
    expected_args: dict[str, Any] = field(default_factory=dict)
    predicted_args: dict[str, Any] = field(default_factory=dict)
    args_ok: dict[str, bool] = field(default_factory=dict)
    risk: str = "read"
    latency_ms: float = 0.0
    source: str = ""
    followup: bool = False
    backend: str = ""
    needs_input: bool = False

    @property
    def tool_correct(self) -> bool:
        """The right tool, or rightly none."""
        return self.expected_tool == self.predicted_tool

    @property
    def args_scored(self) -> bool:
        """Counts towards argument exact-match: right tool and at least one checked argument."""
        return self.tool_correct and bool(self.expected_args)

    @property
    def correct(self) -> bool:
        """Right tool and every checked argument right (out of scope: rightly none)."""
        return self.tool_correct and all(self.args_ok.get(name, False) for name in self.expected_args)


def label(tool: str | None) -> str:
    """The class name of a tool; out of scope is ``none``."""
    return NONE if tool is None else tool


def rate(hits: int, total: int) -> float | None:
    """Hits / total, or None when there is nothing to count."""
    return hits / total if total else None


def confusion(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[int]]]:
    """Labels (tools sorted, then ``none``) and counts ``matrix[expected][predicted]``."""
    seen = {label(o.expected_tool) for o in outcomes} | {label(o.predicted_tool) for o in outcomes}
    labels = sorted(seen - {NONE}) + ([NONE] if NONE in seen else [])
    index = {name: i for i, name in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for o in outcomes:
        matrix[index[label(o.expected_tool)]][index[label(o.predicted_tool)]] += 1
    return labels, matrix


def class_scores(outcomes: Sequence[Outcome]) -> dict[str, ToolScores]:
    """Precision, recall, F1 and argument exact-match per class (every class expected or predicted)."""
    labels, _ = confusion(outcomes)
    scores: dict[str, ToolScores] = {}
    for name in labels:
        expected = [o for o in outcomes if label(o.expected_tool) == name]
        predicted = [o for o in outcomes if label(o.predicted_tool) == name]
        hits = sum(o.tool_correct for o in expected)
        precision = rate(hits, len(predicted)) or 0.0
        recall = rate(hits, len(expected)) or 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scored = [o for o in expected if o.args_scored]
        scores[name] = ToolScores(
            precision=precision,
            recall=recall,
            f1=f1,
            support=len(expected),
            predicted=len(predicted),
            args_exact_match=rate(sum(o.correct for o in scored), len(scored)),
            args_n=len(scored),
        )
    return scores


def argument_scores(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | int | None]]:
    """Exact match per ``tool.argument`` over examples with the right tool that check that argument."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for o in outcomes:
        if not o.args_scored:
            continue
        for name in o.expected_args:
            key = f"{o.expected_tool}.{name}"
            totals[key] += 1
            hits[key] += bool(o.args_ok.get(name, False))
    return {key: {"accuracy": rate(hits[key], totals[key]), "n": totals[key]} for key in sorted(totals)}


def reliability(confidences: Sequence[float], correct: Sequence[bool], *, bins: int = ECE_BINS) -> list[Bin]:
    """Equal-width confidence bins with their mean confidence and accuracy (empty bins included)."""
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=float)
    # A confidence of exactly 1.0 belongs to the last bin, not to an extra one.
    index = np.minimum((conf * bins).astype(int), bins - 1) if conf.size else conf.astype(int)
    out: list[Bin] = []
    for i in range(bins):
        mask = index == i
        count = int(mask.sum())
        out.append(
            Bin(
                low=i / bins,
                high=(i + 1) / bins,
                n=count,
                confidence=float(conf[mask].mean()) if count else None,
                accuracy=float(ok[mask].mean()) if count else None,
            )
        )
    return out


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], *, bins: int = ECE_BINS
) -> float | None:
    """ECE: the count-weighted mean gap between confidence and accuracy over equal-width bins."""
    total = len(confidences)
    if not total:
        return None
    gaps = [
        b.n / total * abs((b.accuracy or 0.0) - (b.confidence or 0.0))
        for b in reliability(confidences, correct, bins=bins)
        if b.n
    ]
    return float(sum(gaps))


def coverage_curve(
    confidences: Sequence[float], correct: Sequence[bool], *, thresholds: Iterable[float] | None = None
) -> list[CoveragePoint]:
    """Answer only at confidence ≥ threshold: the share answered and the accuracy among those answered."""
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    steps = list(thresholds) if thresholds is not None else [round(i / 100, 2) for i in range(101)]
    points: list[CoveragePoint] = []
    for threshold in steps:
        answered = conf >= threshold
        count = int(answered.sum())
        points.append(
            CoveragePoint(
                threshold=threshold,
                coverage=rate(count, conf.size) or 0.0,
                accuracy=float(ok[answered].mean()) if count else None,
                n=count,
            )
        )
    return points


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), or None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def summarize(outcomes: Sequence[Outcome], **meta: Any) -> Summary:
    """Every headline figure of an eval run; ``meta`` (backend, model, ...) is copied into the summary."""
    n = len(outcomes)
    in_scope = [o for o in outcomes if o.expected_tool is not None]
    oos = [o for o in outcomes if o.expected_tool is None]
    said_none = [o for o in outcomes if o.predicted_tool is None]
    scored = [o for o in outcomes if o.args_scored]
    scores = class_scores(outcomes)
    actions = Counter(o.action for o in outcomes)
    executed = [o for o in outcomes if o.action == "execute"]
    confirmed = [o for o in outcomes if o.action in ("confirm", "approve")]
    followups = [o for o in outcomes if o.followup]
    confidences = [o.confidence for o in outcomes]
    correct = [o.correct for o in outcomes]
    latencies = [o.latency_ms for o in outcomes]
    return Summary(
        n=n,
        tool_accuracy=rate(sum(o.tool_correct for o in outcomes), n),
        macro_f1=float(np.mean([s.f1 for s in scores.values()])) if scores else None,
        args_exact_match=rate(sum(o.correct for o in scored), len(scored)),
        args_n=len(scored),
        oos_precision=rate(sum(o.expected_tool is None for o in said_none), len(said_none)),
        oos_recall=rate(sum(o.predicted_tool is None for o in oos), len(oos)),
        false_refusal_rate=rate(sum(o.predicted_tool is None for o in in_scope), len(in_scope)),
        ece=expected_calibration_error(confidences, correct),
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
        auto_execute_share=rate(actions["execute"], n),
        confirm_share=rate(actions["confirm"], n),
        approve_share=rate(actions["approve"], n),
        clarify_share=rate(actions["clarify"], n),
        refuse_share=rate(actions["refuse"], n),
        auto_execute_accuracy=rate(sum(o.correct for o in executed), len(executed)),
        wrong_execution_rate=rate(sum(not o.correct for o in executed + confirmed), n),
        wrong_auto_execution_rate=rate(sum(not o.correct for o in executed), n),
        wrong_confirm_rate=rate(sum(not o.correct for o in confirmed), n),
        followup_accuracy=rate(sum(o.correct for o in followups), len(followups)),
        n_in_scope=len(in_scope),
        n_oos=len(oos),
        n_followups=len(followups),
        errors=sum(not o.correct for o in outcomes),
        backends=dict(Counter(o.backend for o in outcomes if o.backend)),
        per_tool=scores,
        per_argument=argument_scores(outcomes),
        reliability=reliability(confidences, correct),
        coverage=coverage_curve(confidences, correct, thresholds=[round(i / 20, 2) for i in range(21)]),
        **meta,
    )
