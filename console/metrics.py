"""Prometheus metrics with one registry per app (never the global default one, so apps and tests don't share).

Counters and histograms are updated as requests and chat turns happen; the pending-approvals and run-status
gauges are read from the database at scrape time, so they are right even after a restart or when another
process (the bot, the CLI) changed the state.

With several worker processes (``switchboard serve --workers N``) the counters and histograms live in
prometheus_client's multiprocess files, and a scrape of any worker adds up all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.runs import Run, RunStatus

logger = logging.getLogger(__name__)
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _StateCollector(Collector):
    """Pending approvals and runs per status, counted in the database when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "switchboard_approvals_pending", "Approval requests waiting for a decision."
        )
        runs = GaugeMetricFamily("switchboard_runs", "Runs by status.", labels=["status"])
        try:
            with Session(self.engine) as session:
                count = session.execute(
                    select(func.count())
                    .select_from(ApprovalRequest)
                    .where(ApprovalRequest.status == ApprovalStatus.PENDING)  # type: ignore[arg-type]
                ).scalar_one()
                grouped = session.execute(
                    select(col(Run.status), func.count()).group_by(col(Run.status))
                ).all()
                by_status: dict[Any, int] = {status: int(n) for status, n in grouped}
        except Exception:
            # A scrape must not fail because the database is busy; the gauges are simply absent this time.
            logger.warning("could not read state metrics", exc_info=True)
            return
        pending.add_metric([], float(count))
        for status in RunStatus:
            runs.add_metric([status.value], float(by_status.get(status, 0)))
        yield pending
        yield runs


def _drift_families() -> list[GaugeMetricFamily]:
    labels = ["tool"]
    return [
        GaugeMetricFamily("switchboard_model_decisions", "Router decisions today (UTC).", labels=labels),
        GaugeMetricFamily(
            "switchboard_model_confidence_mean", "Mean confidence of today's decisions.", labels=labels
        ),
        GaugeMetricFamily(
            "switchboard_model_correction_rate",
            "Share of today's decisions an operator corrected.",
            labels=labels,
        ),
        GaugeMetricFamily(
            "switchboard_model_psi",
            "Today's confidence shift against the dev-split baseline (PSI).",
            labels=labels,
        ),
        GaugeMetricFamily("switchboard_model_oos_share", "Share of today's messages out of scope."),
    ]


class _DriftCollector(Collector):
    """Today's drift gauges (the current UTC day window), from the audit log; cached a minute, so scrapes stay cheap."""

    def __init__(self, engine: Engine, var_dir: Path | None, ttl_s: float = 60.0) -> None:
        self.engine, self.var_dir, self.ttl_s = engine, var_dir, ttl_s
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> Iterator[Metric]:
        """The gauges' names, without reading the audit log (the registry asks when the collector registers)."""
        yield from _drift_families()

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.ttl_s:
            try:
                self._cached = (now, self._measure())
            except Exception:
                logger.warning("could not read the drift metrics", exc_info=True)
                return
        yield from self._cached[1]

    def _measure(self) -> list[Metric]:
        from agent.config import DriftConfig
        from agent.modelops.drift import build_report
        from agent.modelops.drift_baseline import load_baseline
        from agent.modelops.drift_service import live_fingerprint
        from agent.modelops.drift_windows import window_of

        moment = datetime.now(UTC)
        baseline = (
            load_baseline(self.var_dir, live_fingerprint(self.var_dir)) if self.var_dir is not None else None
        )
        start = window_of(moment, "day").start
        report = build_report(
            engine=self.engine,
            limits=DriftConfig(),
            kind="day",
            start=start,
            end=moment + timedelta(seconds=1),
            baseline=baseline,
            vocabulary=None,
        )
        decisions, mean, corrected, shift, oos = _drift_families()
        window = report.windows[-1]
        for stats in [window.overall, *window.tools]:
            decisions.add_metric([stats.scope], float(stats.decisions))
            if stats.confidence_mean is not None:
                mean.add_metric([stats.scope], stats.confidence_mean)
            if stats.correction_rate is not None:
                corrected.add_metric([stats.scope], stats.correction_rate)
            if stats.psi is not None:
                shift.add_metric([stats.scope], stats.psi.value)
        oos.add_metric([], window.overall.oos_share or 0.0)
        return [decisions, mean, corrected, shift, oos]


class Metrics:
    """The app's metrics."""

    def __init__(self, *, multiprocess_dir: Path | None = None, var_dir: Path | None = None) -> None:
        """Create the metrics.

        Args:
            multiprocess_dir: The folder every worker writes its samples to (prometheus_client's
                ``PROMETHEUS_MULTIPROC_DIR``, which must be set before the worker imports prometheus_client);
                None for a single process.
            var_dir: Where the drift baseline is kept (``settings.var_dir``); without it, no PSI gauge.
        """
        self.multiprocess_dir = multiprocess_dir
        self.var_dir = var_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "switchboard_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "switchboard_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "switchboard_chat_decisions",
            "Chat turns by the policy's action and the reply kind.",
            ["action", "kind"],
            registry=self.registry,
        )
        self.turn_latency = Histogram(
            "switchboard_chat_turn_seconds",
            "Time to answer one chat message (decide, gate, execute).",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.approval_decisions = Counter(
            "switchboard_approval_decisions",
            "Approval decisions made in the console by decision and outcome.",
            ["decision", "outcome"],
            registry=self.registry,
        )
        self.ingests = Counter(
            "switchboard_ingest_webhook",
            "Ingest webhook calls by dataset and outcome.",
            ["dataset", "outcome"],
            registry=self.registry,
        )
        self._state: _StateCollector | None = None
        self._drift: _DriftCollector | None = None

    def watch(self, engine: Engine) -> None:
        """Start reporting the database-backed gauges for ``engine``."""
        if self._state is None:
            self._state = _StateCollector(engine)
            self.registry.register(self._state)
            self._drift = _DriftCollector(engine, self.var_dir)
            self.registry.register(self._drift)

    def render(self) -> bytes:
        """The exposition text (every worker's samples added up, with several workers)."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        if self._state is not None:
            registry.register(self._state)
        if self._drift is not None:
            registry.register(self._drift)
        return generate_latest(registry)


class MetricsMiddleware:
    """Counts requests and times them by route template (not raw path, which would explode the label set)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and count it with its route template and status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = str(
                getattr(route, "path", None)
                or ("static" if scope["path"].startswith("/static/") else "unmatched")
            )
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
