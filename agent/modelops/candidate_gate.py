"""The gate a candidate router must pass to replace the live one: no gated metric worse beyond its tolerance.

Both routers are scored on the locked dev split and on the reviewed examples the candidate never saw (the
scoring runs the evals, one layer up; here are only the scores and the rule). The gated metrics are tool
accuracy and out-of-scope recall (higher is better), the false-refusal rate and the expected calibration error
(lower is better). A metric that is undefined on a split for either router (no out-of-scope example in the
held-out reviewed split, say) cannot be compared there and does not refuse.

Nor does a metric measured on too few examples: below ``1 / tolerance`` examples in its denominator (100 for a
tolerance of 0.01), a single example moves it by more than the tolerance, so the difference says nothing about
the routers. It is shown, marked ungated. On the whole dev split every metric is gated; on a small held-out
reviewed split, only those with enough support.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.config import RouterGateConfig
from agent.modelops.candidate_models import (
    HIGHER_IS_BETTER,
    GatedMetric,
    GateResult,
    GateSplit,
    MetricCheck,
    SplitScores,
)
from core.store.db import utcnow

_EPSILON = 1e-9  # a difference of exactly the tolerance passes, whatever the float rounding


def check_metric(
    *,
    split: GateSplit,
    metric: GatedMetric,
    live: float | None,
    candidate: float | None,
    tolerance: float,
    support: int,
) -> MetricCheck:
    """Compare one metric: the candidate passes unless it is worse than the live router by more than ``tolerance``.

    Args:
        split: Where it was measured.
        metric: Which metric.
        live: The live router's value (None: undefined).
        candidate: The candidate's value.
        tolerance: How much worse the candidate may be.
        support: The examples the metric is a rate over.
    """
    gated = support > 0 and support * tolerance >= 1.0 - _EPSILON
    if live is None or candidate is None:
        return MetricCheck(
            split=split,
            metric=metric,
            live=live,
            candidate=candidate,
            delta=None,
            tolerance=tolerance,
            support=support,
            gated=False,
            passed=True,
        )
    delta = candidate - live
    worse = -delta if HIGHER_IS_BETTER[metric] else delta
    return MetricCheck(
        split=split,
        metric=metric,
        live=live,
        candidate=candidate,
        delta=delta,
        tolerance=tolerance,
        support=support,
        gated=gated,
        passed=not gated or worse <= tolerance + _EPSILON,
    )


def gate(
    *,
    live_fingerprint: str,
    candidate_fingerprint: str,
    live: Mapping[GateSplit, SplitScores],
    candidate: Mapping[GateSplit, SplitScores],
    config: RouterGateConfig,
) -> GateResult:
    """Every gated metric on every split both routers were scored on, and the verdict."""
    checks = [
        check_metric(
            split=split,
            metric=metric,
            live=live[split].value(metric),
            candidate=candidate[split].value(metric),
            tolerance=config.tolerance(metric),
            support=min(live[split].support(metric), candidate[split].support(metric)),
        )
        for split in ("dev", "reviewed")
        if split in live and split in candidate
        for metric in HIGHER_IS_BETTER
    ]
    return GateResult(
        live_fingerprint=live_fingerprint,
        candidate_fingerprint=candidate_fingerprint,
        checks=checks,
        decided_at=utcnow(),
    )
