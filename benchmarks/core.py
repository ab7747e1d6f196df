"""Audit log, agent decision and approval round-trip benchmarks."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from core.store.audit import AuditEvent, AuditLog
from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.settings import load_settings


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_audit(*, batched: int = 50_000, single: int = 3_000) -> dict[str, Any]:
    """Appends per second, batched (1,000 per transaction) and one per transaction, then the verify rate.

    Then the signed checkpoints: signing one after 1,000 more records (the signer recomputes them first), and
    verifying the whole chain against the checkpoints.
    """
    from core.audit_keys import trusted_keys
    from core.store.checkpoints import Checkpointer, read_checkpoints, verify_log

    with tempfile.TemporaryDirectory(prefix="sb-bench-audit-") as tmp:
        settings = load_settings(var_dir=Path(tmp), database_url=f"sqlite:///{Path(tmp) / 'audit.db'}")
        engine = make_engine(settings.database_url)
        init_db(engine)
        log = AuditLog(engine)
        started = time.perf_counter()
        for start in range(0, batched, 1000):
            log.append_many(
                [
                    AuditEvent("bench.batch", "bench", f"item:{i}", {"i": i})
                    for i in range(start, start + 1000)
                ]
            )
        batched_rate = batched / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(single):
            log.append("bench.single", actor="bench", subject=f"item:{i}", data={"i": i})
        single_rate = single / (time.perf_counter() - started)
        started = time.perf_counter()
        result = log.verify()
        verify_rate = result.records / (time.perf_counter() - started)
        checkpointer = Checkpointer(engine=engine, settings=settings)
        checkpointer.run(force=True)  # the first one recomputes the whole chain, once
        log.append_many([AuditEvent("bench.batch", "bench", f"more:{i}", {"i": i}) for i in range(1000)])
        started = time.perf_counter()
        checkpointer.run(force=True)
        checkpoint_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        checked = verify_log(
            engine, checkpoints=read_checkpoints(checkpointer.file.path), keys=trusted_keys(settings)
        )
        checked_rate = checked.chain.records / (time.perf_counter() - started)
        engine.dispose()
    return {
        "batched_per_s": round(batched_rate),
        "single_per_s": round(single_rate),
        "verify_per_s": round(verify_rate),
        "verified_ok": result.ok,
        "records": result.records,
        "checkpoint_1000_ms": round(checkpoint_ms, 1),
        "verify_with_checkpoints_per_s": round(checked_rate),
        "checkpoints_ok": bool(checked.checkpoints and checked.checkpoints.ok),
    }


MESSAGES = [
    "show me last month's sales by region",
    "top 5 customers this quarter",
    "what failed last night",
    "explain the bulk discount",
    "quote 12 A100X for client 1042",
    "status of run 57",
    "load orders_today.csv into orders",
    "send the latest export to the bank sftp",
    "what's the weather in Lisbon",
    "any approvals waiting?",
]


def bench_decisions(*, rounds: int = 60) -> dict[str, Any]:
    """Warm embedded decision latency, cold start (fresh process to first decision) and its RSS."""
    from agent.backends.base import DecideRequest
    from agent.backends.factory import build_embedded
    from tools.registry import build_registry

    with tempfile.TemporaryDirectory(prefix="sb-bench-agent-") as tmp:
        settings = load_settings(var_dir=Path(tmp), database_url=f"sqlite:///{Path(tmp) / 'x.db'}")
        backend = build_embedded(settings, registry=build_registry())
        for text in MESSAGES:
            backend.decide(DecideRequest(text=text, today=date(2026, 11, 22)))
        times = []
        for _ in range(rounds):
            for text in MESSAGES:
                started = time.perf_counter()
                backend.decide(DecideRequest(text=text, today=date(2026, 11, 22)))
                times.append((time.perf_counter() - started) * 1000)
    cold = _cold_start()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_pct(times, 0.95), 2),
        "n": len(times),
        **cold,
    }


_COLD = """
import json, resource, time
started = time.perf_counter()
from datetime import date
from pathlib import Path
from agent.backends.base import DecideRequest
from agent.backends.factory import build_embedded
from switchboard.settings import load_settings
from tools.registry import build_registry
settings = load_settings(var_dir=Path({tmp!r}), database_url="sqlite:///{tmp}/x.db")
backend = build_embedded(settings, registry=build_registry())
backend.decide(DecideRequest(text="show me last month's sales by region", today=date(2026, 11, 22)))
print(json.dumps({{"cold_start_s": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _cold_start() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sb-bench-cold-") as tmp:
        out = subprocess.run(
            [sys.executable, "-c", _COLD.format(tmp=tmp)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {"cold_start_s": round(data["cold_start_s"], 2), "decider_rss_mb": round(data["rss_mb"])}


def bench_approvals(*, rounds: int = 100) -> dict[str, Any]:
    """Approval round trip: decision received → checks → atomic update → audit → resume → tool started."""
    from agent.service import open_switchboard
    from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
    from tools.registry import Registry

    started_at: list[float] = []

    class Args(ToolArgs):
        n: int

    def tool(ctx: ToolContext, args: Args) -> ToolResult:
        started_at.append(time.perf_counter())
        return ToolResult(summary="ok")

    class _Unused:
        name = "none"

        def decide(self, request: Any) -> Any:
            raise AssertionError

    registry = Registry(
        [ToolSpec(name="noop", description="No-op.", args_model=Args, risk="external", func=tool)]
    )
    times = []
    with tempfile.TemporaryDirectory(prefix="sb-bench-approve-") as tmp:
        settings = load_settings(var_dir=Path(tmp), database_url=f"sqlite:///{Path(tmp) / 'x.db'}")
        engine = make_engine(settings.database_url)
        init_db(engine)
        with open_switchboard(settings, engine, registry=registry, backend=_Unused()) as sb:
            for i in range(rounds):
                request = sb.approvals.request(tool="noop", args={"n": i}, requester="ann", reasons=["bench"])
                began = time.perf_counter()
                sb.approvals.approve(request.id, approver="bob", role="approver")
                times.append((started_at[-1] - began) * 1000)
        engine.dispose()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_pct(times, 0.95), 2),
        "n": len(times),
    }
