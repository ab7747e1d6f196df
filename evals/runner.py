"""Run a backend over eval examples through the runtime's own planner and score what would really happen.

Each example goes through ``agent.planner.plan`` (backend decision → argument validation → policy gate), the
function the graph runs before it executes, confirms, escalates, asks back or refuses. So the figures at the
runtime thresholds are the runtime's behaviour, not an argmax.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent.backends.base import Backend, DecideRequest, Decision
from agent.config import AgentSettings
from agent.planner import Plan, plan
from agent.policy import Policy
from core.vocabulary import Role
from evals.dataset import Example, compare_args
from evals.metrics import Outcome, summarize
from evals.summary import Summary
from tools.registry import Registry

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class TimedBackend:
    """Wraps a backend and records the wall time of its last ``decide`` call."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.last_ms = 0.0

    def decide(self, request: DecideRequest) -> Decision:
        """Delegate to the wrapped backend, timing the call."""
        start = time.perf_counter()
        try:
            return self.inner.decide(request)
        finally:
            self.last_ms = (time.perf_counter() - start) * 1000.0


@dataclass(frozen=True)
class EvalResult:
    """Outcomes per example and their summary."""

    outcomes: list[Outcome]
    summary: Summary

    @property
    def errors(self) -> list[Outcome]:
        """Examples that were not fully right, in dataset order."""
        return [o for o in self.outcomes if not o.correct]


def tool_arguments(registry: Registry) -> dict[str, Collection[str]]:
    """Tool names mapped to their argument names, for dataset validation."""
    return {name: tuple(spec.args_model.model_fields) for name, spec in registry.items()}


def score_plan(example: Example, planned: Plan, *, today: date, latency_ms: float) -> Outcome:
    """Compare one plan with its label."""
    decision = planned.decision
    # The validated arguments are what would run (defaults filled, values normalised); else the raw ones.
    predicted_args: dict[str, Any] = (
        planned.args.model_dump(mode="json") if planned.args is not None else dict(decision.args)
    )
    if decision.tool == example.tool:
        args_ok = compare_args(example.args, predicted_args, today=today)
    else:
        args_ok = dict.fromkeys(example.args, False)
    return Outcome(
        text=example.text,
        source=example.source,
        expected_tool=example.tool,
        expected_args=dict(example.args),
        predicted_tool=decision.tool,
        predicted_args=predicted_args,
        args_ok=args_ok,
        confidence=decision.confidence,
        action=planned.action,
        risk=planned.risk,
        latency_ms=latency_ms,
        followup=bool(example.context),
        backend=decision.backend or "",
        needs_input=bool(decision.missing or planned.invalid),
    )


def run_examples(
    examples: Sequence[Example],
    *,
    backend: Backend,
    registry: Registry,
    policy: Policy,
    settings: AgentSettings,
    today: date,
    role: Role = "operator",
    progress: Progress | None = None,
) -> list[Outcome]:
    """Plan every example (no side effects) and score it."""
    timed = TimedBackend(backend)
    outcomes: list[Outcome] = []
    for done, example in enumerate(examples, 1):
        planned = plan(
            text=example.text,
            context=list(example.context),
            role=role,
            today=today,
            backend=timed,
            registry=registry,
            policy=policy,
            settings=settings,
        )
        outcomes.append(score_plan(example, planned, today=today, latency_ms=timed.last_ms))
        if progress is not None:
            progress(done, len(examples))
    return outcomes


def evaluate(
    examples: Sequence[Example],
    *,
    backend: Backend,
    registry: Registry,
    settings: AgentSettings,
    today: date,
    role: Role = "operator",
    policy: Policy | None = None,
    datasets: Sequence[str] = (),
    progress: Progress | None = None,
    meta: Mapping[str, Any] | None = None,
) -> EvalResult:
    """Run and summarise an eval at the policy in ``settings`` (or ``policy`` when given)."""
    policy = policy or Policy(settings.policy)
    outcomes = run_examples(
        examples,
        backend=backend,
        registry=registry,
        policy=policy,
        settings=settings,
        today=today,
        role=role,
        progress=progress,
    )
    model = getattr(backend, "model", "")
    summary = summarize(
        outcomes,
        backend=backend.name,
        model=model if isinstance(model, str) else "",
        policy_version=policy.version,
        role=role,
        today=today.isoformat(),
        datasets=list(datasets),
        **(meta or {}),
    )
    logger.info("eval done", extra={"n": summary.n, "tool_accuracy": summary.tool_accuracy})
    return EvalResult(outcomes, summary)
