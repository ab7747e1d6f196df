"""Report benchmark: p50/p95 latency of each report's queries (no chart) on the 20,000-order demo data.

The demo distributor is loaded with ``flows.demo.data.load_demo`` into a fresh SQLite database (or the database
at ``--url``), then each report runs ``iterations`` times per period through ``flows.reports.catalogue.query_report``,
each time on a connection checked out of the pool, as a tool call would. The goal is p95 <= 20 ms.

Run: ``python -m benchmarks.reports [iterations] [--url URL]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.store.db import make_engine
from core.store.models import Order
from core.store.schema import init_db
from core.vocabulary import REPORTS
from flows.reports.catalogue import query_report
from switchboard.settings import load_settings

GOAL_MS = 20.0
TODAY = date(2026, 11, 22)
PERIODS: tuple[str, ...] = ("last_30_days", "last_year")


def _load(engine: Engine, folder: Path) -> int:
    from flows.demo.data import load_demo

    settings = load_settings(database_url=str(engine.url), var_dir=folder, reference_date=TODAY.isoformat())
    init_db(engine)
    load_demo(engine=engine, settings=settings, today=TODAY, seed=7, reset=True)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Order.__table__)).scalar_one())  # type: ignore[attr-defined]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time_report(engine: Engine, report: str, period: str, iterations: int) -> list[float]:
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        with engine.connect() as conn:
            query_report(conn=conn, report=report, period=period, today=TODAY)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_reports(
    *, iterations: int = 200, url: str | None = None, periods: tuple[str, ...] = PERIODS
) -> dict[str, Any]:
    """Load the demo data and time every report over each period.

    Args:
        iterations: Timed runs per report and period (after one warm-up run).
        url: Database URL to load into; a temporary SQLite file when omitted (its tables are reset).
        periods: Periods to time.

    Returns:
        ``{"orders", "database", "goal_ms", "iterations", "ok", "rows"}``, each row holding report, period,
        p50_ms, p95_ms and max_ms.
    """
    with tempfile.TemporaryDirectory(prefix="sb-bench-reports-") as folder:
        engine = make_engine(url or f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            orders = _load(engine, Path(folder))
            rows: list[dict[str, Any]] = []
            for period in periods:
                for report in REPORTS:
                    _time_report(engine, report, period, 1)
                    samples = _time_report(engine, report, period, iterations)
                    rows.append(
                        {
                            "report": report,
                            "period": period,
                            "p50_ms": round(statistics.median(samples), 2),
                            "p95_ms": round(_percentile(samples, 0.95), 2),
                            "max_ms": round(max(samples), 2),
                        }
                    )
            database = engine.dialect.name
        finally:
            engine.dispose()
    return {
        "orders": orders,
        "database": database,
        "goal_ms": GOAL_MS,
        "iterations": iterations,
        "ok": all(row["p95_ms"] <= GOAL_MS for row in rows),
        "rows": rows,
    }


def print_table(result: dict[str, Any]) -> None:
    """Print the benchmark as a plain table."""
    print(
        f"Report queries on {result['orders']:,} orders ({result['database']}), "
        f"{result['iterations']} runs each; goal p95 <= {result['goal_ms']:.0f} ms"
    )
    print(f"{'report':<18} {'period':<14} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for row in result["rows"]:
        print(
            f"{row['report']:<18} {row['period']:<14} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} "
            f"{row['max_ms']:>8.2f}"
        )
    print("goal met" if result["ok"] else "GOAL MISSED")


def main(argv: list[str]) -> int:
    """Entry point: ``[iterations] [--url URL]``."""
    url = argv[argv.index("--url") + 1] if "--url" in argv else None
    numbers = [arg for arg in argv if arg.isdigit()]
    result = bench_reports(iterations=int(numbers[0]) if numbers else 200, url=url)
    print_table(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
