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


class Metrics:
    """The app's metrics."""

    def __init__(self, *, multiprocess_dir: Path | None = None) -> None:
        """Create the metrics.

        Args:
            multiprocess_dir: The folder every worker writes its samples to (prometheus_client's
                ``PROMETHEUS_MULTIPROC_DIR``, which must be set before the worker imports prometheus_client);
                None for a single process.
        """
        self.multiprocess_dir = multiprocess_dir
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

    def watch(self, engine: Engine) -> None:
        """Start reporting the database-backed gauges for ``engine``."""
        if self._state is None:
            self._state = _StateCollector(engine)
            self.registry.register(self._state)

    def render(self) -> bytes:
        """The exposition text (every worker's samples added up, with several workers)."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        if self._state is not None:
            registry.register(self._state)
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
