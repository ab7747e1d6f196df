"""What the durable engine costs an action: the same write run directly and as a DBOS workflow, in one run.

The tool is a trivial write (it records its run and returns), so the difference is the engine's own work: the
workflow's row, its step's checkpoint and the outcome read back. Both series run on the same SQLite database, one
after the other, in the same process; the overhead is the durable p95 minus the direct p95 (and each series' p50
is reported, since this machine's speed moves).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import ConfigDict

from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec


class _TouchArgs(ToolArgs):
    """One number, so every call is a distinct request."""

    model_config = ConfigDict(extra="forbid")
    n: int


def _touch(_ctx: ToolContext, args: _TouchArgs) -> ToolResult:
    return ToolResult(summary=f"touched {args.n}")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_durable(*, calls: int = 300) -> dict[str, Any]:
    """Time ``calls`` direct and ``calls`` durable executions of a trivial write on SQLite."""
    from core.durable import durable_config
    from core.store.db import make_engine
    from core.store.schema import init_db
    from switchboard.settings import load_settings
    from tools.durable import engine_running
    from tools.registry import Registry
    from tools.runtime import ToolRunner

    with tempfile.TemporaryDirectory(prefix="sb-durable-bench-") as folder:
        var = Path(folder)
        settings = load_settings(database_url=f"sqlite:///{var / 'switchboard.db'}", var_dir=var)
        engine = make_engine(settings.database_url)
        init_db(engine)
        spec = ToolSpec(name="touch", description="Touch.", args_model=_TouchArgs, risk="write", func=_touch)
        runner = ToolRunner(settings=settings, engine=engine, registry=Registry([spec]))

        def series(offset: int) -> list[float]:
            timings = []
            for n in range(offset, offset + calls):
                started = time.perf_counter()
                runner.call("touch", {"n": n}, actor="bench", idempotency_key=f"bench:{n}")
                timings.append((time.perf_counter() - started) * 1000)
            return timings

        series(-50)  # warm up: imports, the pool, SQLite's pages
        direct = series(0)
        with engine_running(runner, durable_config(settings, role="bench", serves=False)):
            series(100_000)  # warm up the engine's connections
            durable = series(200_000)
        engine.dispose()
    return {
        "calls": calls,
        "direct_p50_ms": round(_pct(direct, 0.5), 2),
        "direct_p95_ms": round(_pct(direct, 0.95), 2),
        "durable_p50_ms": round(_pct(durable, 0.5), 2),
        "durable_p95_ms": round(_pct(durable, 0.95), 2),
        "overhead_p95_ms": round(_pct(durable, 0.95) - _pct(direct, 0.95), 2),
        "overhead_p50_ms": round(_pct(durable, 0.5) - _pct(direct, 0.5), 2),
    }
