"""The drift report: how the router's decisions and the operators' corrections move, window by window.

``build_report`` reads the ``agent.decision`` and ``model.correction`` records of a time range once, splits them
into day or week windows (``drift_windows``), and measures each window per tool and overall: the confidence
distribution and its shift against the dev-split baseline (``drift_baseline``, ``drift_psi``), what the policy did
(execute, confirm, escalate, ask back, refuse), the corrections, the out-of-scope share and the words the router
never saw (``drift_vocab``). A measure that crosses its threshold in ``settings.drift`` flags its tool (or
``overall``) in that window; ``drift_alerts`` turns flags into alerts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from agent.config import DriftConfig
from agent.modelops.drift_baseline import Baseline, BaselineScope
from agent.modelops.drift_models import (
    MEASURE_NAMES,
    OVERALL,
    ActionShares,
    BaselineInfo,
    CorrectionCounts,
    DriftReport,
    Flag,
    Measure,
    ScopeStats,
    WindowReport,
)
from agent.modelops.drift_psi import histogram, psi
from agent.modelops.drift_vocab import new_vocabulary
from agent.modelops.drift_windows import Observations, Window, WindowKind, observe, window_of, windows
from agent.modelops.events import CorrectionData
from agent.state import DecisionRecord

__all__ = ["build_report", "measure_window"]


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _stats(
    scope: str,
    decisions: Sequence[DecisionRecord],
    corrections: Sequence[CorrectionData],
    baseline: BaselineScope | None,
    *,
    overall: bool,
) -> ScopeStats:
    n = len(decisions)
    confidences = [d.confidence for d in decisions]
    mean = _mean(confidences)
    actions = Counter(d.action for d in decisions)
    kinds = Counter(c.kind for c in corrections)
    counted = CorrectionCounts(
        declined=kinds["declined"],
        other_choice=kinds["other_choice"],
        approval_edit=kinds["approval_edit"],
        approval_rejected=kinds["approval_rejected"],
    )
    drop = round(baseline.mean - mean, 4) if baseline is not None and mean is not None else None
    counts = histogram(confidences)
    return ScopeStats(
        scope=scope,
        decisions=n,
        confidence_mean=mean,
        confidence_counts=counts,
        actions=ActionShares(**{action: round(k / n, 4) for action, k in actions.items()})
        if n
        else ActionShares(),
        corrections=counted,
        correction_rate=round(counted.total / n, 4) if n else None,
        baseline_mean=baseline.mean if baseline is not None else None,
        confidence_drop=drop,
        psi=psi(baseline.counts, counts) if baseline is not None and n else None,
        oos_share=round(sum(1 for d in decisions if d.tool is None) / n, 4) if overall and n else None,
    )


def _flag(window: str, scope: str, measure: Measure, value: float, threshold: float, said: str) -> Flag:
    message = f"{scope} in {window}: {MEASURE_NAMES[measure]} {said}"
    return Flag(
        window=window, scope=scope, measure=measure, value=value, threshold=threshold, message=message
    )


def _scope_flags(window: str, stats: ScopeStats, limits: DriftConfig, baseline_n: int) -> list[Flag]:
    """The measures of one scope that crossed their thresholds (a scope with too few decisions is never flagged)."""
    if stats.decisions < limits.min_decisions:
        return []
    found: list[Flag] = []
    scope, total = stats.scope, stats.corrections.total
    rate = stats.correction_rate
    if rate is not None and rate >= limits.correction_rate and total >= limits.min_corrections:
        said = f"{rate:.0%} ({total} of {stats.decisions} decisions), threshold {limits.correction_rate:.0%}"
        found.append(_flag(window, scope, "correction_rate", rate, limits.correction_rate, said))
    drop, mean = stats.confidence_drop, stats.confidence_mean
    if drop is not None and mean is not None and drop >= limits.confidence_drop:
        said = (
            f"{drop:.2f}: mean confidence {mean:.2f} against the baseline's {stats.baseline_mean:.2f}, "
            f"threshold {limits.confidence_drop:.2f}"
        )
        found.append(_flag(window, scope, "confidence_drop", drop, limits.confidence_drop, said))
    shift = stats.psi
    if shift is not None and baseline_n >= limits.min_decisions and shift.value >= limits.psi:
        moved = ", ".join(f"{b.label} {b.expected:.0%}→{b.actual:.0%}" for b in shift.bins)
        said = f"{shift.value:.2f}, threshold {limits.psi:.2f}; most in the bins {moved}"
        found.append(_flag(window, scope, "psi", shift.value, limits.psi, said))
    if stats.oos_share is not None and stats.oos_share >= limits.oos_share:
        said = f"{stats.oos_share:.0%} of {stats.decisions} messages, threshold {limits.oos_share:.0%}"
        found.append(_flag(window, scope, "oos_share", stats.oos_share, limits.oos_share, said))
    return found


def measure_window(
    window: Window,
    decisions: Sequence[DecisionRecord],
    corrections: Sequence[CorrectionData],
    *,
    limits: DriftConfig,
    baseline: Baseline | None,
    vocabulary: frozenset[str] | None,
    tool: str | None = None,
) -> WindowReport:
    """Measure one window's decisions and corrections, per tool and overall, and flag what crossed a threshold."""
    by_tool: defaultdict[str, list[DecisionRecord]] = defaultdict(list)
    fixes: defaultdict[str, list[CorrectionData]] = defaultdict(list)
    for decision in decisions:
        if decision.tool is not None:
            by_tool[decision.tool].append(decision)
    for correction in corrections:
        if correction.tool is not None:
            fixes[correction.tool].append(correction)
    overall = _stats(OVERALL, decisions, corrections, baseline.overall if baseline else None, overall=True)
    names = sorted(set(by_tool) | set(fixes), key=lambda name: (-len(by_tool[name]), name))
    if tool is not None:
        names = [name for name in names if name == tool]
    tools = [
        _stats(
            name, by_tool[name], fixes[name], baseline.tools.get(name) if baseline else None, overall=False
        )
        for name in names
    ]
    flags: list[Flag] = []
    for stats in [overall, *tools]:
        scope_baseline = (
            (baseline.overall if stats.scope == OVERALL else baseline.tools.get(stats.scope))
            if baseline
            else None
        )
        flags.extend(_scope_flags(window.label, stats, limits, scope_baseline.n if scope_baseline else 0))
    vocab = None
    if vocabulary is not None:
        vocab = new_vocabulary((d.text for d in decisions if d.text), vocabulary)
        share = vocab.share
        if vocab.tokens and len(decisions) >= limits.min_decisions and share >= limits.new_vocabulary_share:
            top = ", ".join(t.token for t in vocab.top[:5])
            said = (
                f"{share:.0%} of {vocab.tokens} words unseen in training, threshold "
                f"{limits.new_vocabulary_share:.0%} (most used: {top})"
            )
            flags.append(
                _flag(window.label, OVERALL, "new_vocabulary", share, limits.new_vocabulary_share, said)
            )
    return WindowReport(
        label=window.label,
        start=window.start,
        end=window.end,
        overall=overall,
        tools=tools,
        vocabulary=vocab,
        flags=flags,
    )


def build_report(
    *,
    engine: Engine,
    limits: DriftConfig,
    kind: WindowKind,
    start: datetime,
    end: datetime,
    baseline: Baseline | None,
    vocabulary: frozenset[str] | None,
    tool: str | None = None,
    now: datetime | None = None,
) -> DriftReport:
    """The drift report for ``[start, end)`` in ``kind`` windows.

    Args:
        engine: The database with the audit log.
        limits: The thresholds (``settings.drift``).
        kind: Day or week windows; the first and last are cut to the range.
        start: From this time.
        end: Up to this time (not included).
        baseline: The live router's dev-split confidences; without one, no PSI and no confidence drop.
        vocabulary: The router's training words; without them, no new-vocabulary measure.
        tool: Show only this tool (the overall figures still count every decision).
        now: The report's time (default: now).

    Raises:
        BadInput: An empty or too long range.
    """
    found: list[Window] = windows(kind=kind, start=start, end=end)
    observed: Observations = observe(engine=engine, start=start, end=end)
    decisions: defaultdict[str, list[DecisionRecord]] = defaultdict(list)
    corrections: defaultdict[str, list[CorrectionData]] = defaultdict(list)
    for moment, decision in observed.decisions:
        decisions[window_of(moment, kind).label].append(decision)
    for moment, correction in observed.corrections:
        corrections[window_of(moment, kind).label].append(correction)
    reports = [
        measure_window(
            w,
            decisions[w.label],
            corrections[w.label],
            limits=limits,
            baseline=baseline,
            vocabulary=vocabulary,
            tool=tool,
        )
        for w in found
    ]
    info = None
    if baseline is not None:
        info = BaselineInfo(
            fingerprint=baseline.fingerprint,
            source=baseline.source,
            created_at=baseline.created_at,
            n=baseline.overall.n,
            mean=baseline.overall.mean,
        )
    return DriftReport(
        window=kind,
        start=start,
        end=end,
        generated_at=now or datetime.now(UTC),
        tool=tool,
        baseline=info,
        thresholds=limits,
        windows=reports,
        unreadable=observed.unreadable,
    )
