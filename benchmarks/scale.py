"""Scale benchmark: the demo grown to 100x its orders (500x with ``--big``) through the real ingest, on SQLite and PostgreSQL.

The demo distributor (``flows.demo.data.load_demo``: about 20,000 orders, 500 customers, 40 products) is loaded
into a fresh database, then its orders grow step by step (1x, 10x, 100x, and 500x with ``--big``) by ingesting
daily order files with ``flows.ingest.pipeline.ingest_file`` (``benchmarks.scale_files`` says how they are
made). At each size it measures:

* **ingest rows/s** over the files of the step (time inside ``ingest_file`` only);
* **report p95** of each of the six reports (``query_report``) for last_30_days, last_month, last_quarter,
  last_year and the whole 18 months as an explicit range; the worst report x period, and each report's worst;
* **chat turn p95**: "show me last year's sales by region" through the agent service with the embedded backend,
  in process, each turn on a new thread (40 turns, so p95 is not simply the slowest one). The database is
  checkpointed first (``CHECKPOINT``; SQLite ``wal_checkpoint``): right after millions of rows are loaded the
  server is still writing them back, and a turn timed then measures that write-back, not a day at 10M orders
  (on PostgreSQL it read 340-371 ms then, and 108-171 ms an hour later on the same database);
* **export rows/s**: orders for last_year as csv (``export_dataset``);
* **audit verify records/s**: the whole audit chain of the same database, as ``benchmarks.core`` measures it.

At the top size one more file, holding orders dated anywhere in the 18 months (the worst case), is ingested
last and reported apart. Only public entry points are used, so the numbers stay comparable as they change.

Targets (issue 18): every report p95 <= 100 ms at the top size; chat turn p95 <= 300 ms; export >= 300k rows/s on
PostgreSQL and >= 150k rows/s on SQLite; ingest rows/s at the top size >= 0.8x its rate at the 200k step.

Run: ``python -m benchmarks.scale [--big] [--url URL] [--factor N]`` (or ``python -m benchmarks --only scale``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from benchmarks.scale_files import ingest_daily_files, ingest_scattered_file, read_catalogue
from core.store.audit import AuditLog
from core.store.db import make_engine
from core.store.models import Order
from core.store.schema import init_db
from core.vocabulary import REPORTS
from flows.demo.data import first_order_day, load_demo
from flows.export.exporter import export_dataset
from flows.reports.catalogue import query_report
from switchboard.settings import Settings, load_settings

TODAY = date(2026, 11, 22)
STEPS = (1, 10, 100, 500)
BASELINE_STEP = 10  # the 200k step: the ingest rate the top size is compared with
REPORT_GOAL_MS, TURN_GOAL_MS, INGEST_GOAL = 100.0, 300.0, 0.8
EXPORT_GOAL = {"sqlite": 150_000, "postgresql": 300_000}
TURN_TEXT = "show me last year's sales by region"
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
SHORT = {
    "sales_by_region": "region",
    "sales_by_product": "product",
    "top_customers": "top_cust",
    "revenue_trend": "trend",
    "order_status": "status",
    "data_quality": "quality",
}


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(run: Callable[[], Any], *, most: int, least: int = 5, budget_s: float = 2.0) -> list[float]:
    """Milliseconds of up to ``most`` runs after one warm-up; stops after ``least`` once ``budget_s`` is spent."""
    run()
    samples: list[float] = []
    began = time.perf_counter()
    while len(samples) < most and (len(samples) < least or time.perf_counter() - began < budget_s):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def periods(today: date) -> tuple[str, ...]:
    """The periods timed: four keywords and the demo's whole 18 months as an explicit range."""
    return ("last_30_days", "last_month", "last_quarter", "last_year", f"{first_order_day(today)}..{today}")


def measure_reports(engine: Engine, *, iterations: int) -> dict[str, Any]:
    """p95 of every report over every period, each run on a connection checked out of the pool."""
    cells = []
    for period in periods(TODAY):
        for report in REPORTS:

            def run(report: str = report, period: str = period) -> None:
                with engine.connect() as conn:
                    query_report(conn=conn, report=report, period=period, today=TODAY)  # type: ignore[arg-type]

            samples = _timed(run, most=iterations)
            cells.append(
                {
                    "report": report,
                    "period": period,
                    "p95_ms": round(_pct(samples, 0.95), 1),
                    "n": len(samples),
                }
            )
    worst = max(cells, key=lambda cell: cell["p95_ms"])
    per_report = {report: max(c["p95_ms"] for c in cells if c["report"] == report) for report in REPORTS}
    return {"worst": worst, "per_report_worst_ms": per_report, "cells": cells}


def measure_turns(settings: Settings, engine: Engine, *, turns: int, tag: str) -> float:
    """p95 ms of a chat turn that runs last year's sales by region (embedded backend, in process)."""
    from agent.service import open_switchboard

    with open_switchboard(settings, engine) as sb:
        counter = iter(range(turns + 1))

        def run() -> None:
            reply = sb.chat(
                thread_id=f"scale-{tag}-{next(counter)}", user="bench", role="operator", text=TURN_TEXT
            )
            ran = reply.decision.args.get("report") if reply.decision else None
            if reply.table is None or ran != "sales_by_region":
                raise RuntimeError(f"the chat turn did not run the report: {reply.text!r}")

        samples = _timed(run, most=turns, least=turns)
    return round(_pct(samples, 0.95), 1)


def settle(engine: Engine) -> None:
    """Write the bulk load's dirty pages back before timing turns (PostgreSQL ``CHECKPOINT``, SQLite WAL)."""
    statement = "CHECKPOINT" if engine.dialect.name == "postgresql" else "PRAGMA wal_checkpoint(TRUNCATE)"
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
            conn.commit()
    except (
        DBAPIError
    ) as exc:  # CHECKPOINT needs a superuser or pg_checkpoint: time the turns anyway, and say so
        _say(f"could not checkpoint before the chat turns ({exc.orig}); timing them unsettled")


def measure_export(engine: Engine, folder: Path) -> dict[str, Any]:
    """Orders for last_year as csv: the best rows/s of up to three exports, each into a fresh folder."""
    best: dict[str, Any] = {"rows_per_s": 0}
    began = time.perf_counter()
    for attempt in range(3):
        target = folder / f"export-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        result = export_dataset(
            engine=engine, artifacts_dir=target, dataset="orders", fmt="csv", period="last_year", today=TODAY
        )
        seconds = time.perf_counter() - started
        rows = result.artifact.rows or 0
        if rows / seconds > best["rows_per_s"]:
            best = {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}
        for path in target.iterdir():
            path.unlink()
        target.rmdir()
        if attempt and time.perf_counter() - began > 2.0:
            break
    return best


def measure_verify(engine: Engine) -> dict[str, Any]:
    """The whole audit chain's verify rate (what ``benchmarks.core.bench_audit`` times)."""
    started = time.perf_counter()
    result = AuditLog(engine).verify()
    seconds = time.perf_counter() - started
    return {"records": result.records, "ok": result.ok, "records_per_s": round(result.records / seconds)}


def _orders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Order.__table__)).scalar_one())  # type: ignore[attr-defined]


def _say(text: str) -> None:
    print(text, flush=True)


def run_database(
    url: str, folder: Path, *, factors: list[float], iterations: int, turns: int, seed: int
) -> dict[str, Any]:
    """Load the demo at ``url``, then grow it through each factor, measuring at every size."""
    settings = load_settings(database_url=url, var_dir=folder, reference_date=TODAY.isoformat())
    engine = make_engine(url)
    database = engine.dialect.name
    try:
        init_db(engine)
        load_demo(engine=engine, settings=settings, today=TODAY, seed=7, reset=True)
        demo = _orders(engine)
        rng = np.random.default_rng(seed)
        cat = read_catalogue(engine, today=TODAY, rng=rng)
        steps: list[dict[str, Any]] = []
        branch = 1
        for factor in factors:
            tally, branch = ingest_daily_files(
                engine=engine,
                settings=settings,
                cat=cat,
                rng=rng,
                rows=round(demo * factor) - _orders(engine),
                branch=branch,
            )
            step: dict[str, Any] = {"factor": factor, "orders": _orders(engine)}
            step["ingest"] = {"files": tally.files, "rows": tally.rows, "rows_per_s": tally.rows_per_s}
            _say(
                f"[{database}] {step['orders']:,} orders: ingested {tally.rows:,} rows in {tally.files:,} files "
                f"at {_cell(tally.rows_per_s, 0)} rows/s"
            )
            step["reports"] = measure_reports(engine, iterations=iterations)
            worst = step["reports"]["worst"]
            _say(
                f"[{database}]   worst report p95 {worst['p95_ms']} ms ({worst['report']}, {worst['period']}); per report {step['reports']['per_report_worst_ms']}"
            )
            settle(engine)
            step["turn_p95_ms"] = measure_turns(settings, engine, turns=turns, tag=f"{factor}")
            step["export"] = measure_export(engine, folder)
            step["verify"] = measure_verify(engine)
            _say(
                f"[{database}]   chat turn p95 {step['turn_p95_ms']} ms; export {step['export']['rows_per_s']:,} rows/s; audit verify {step['verify']['records_per_s']:,} records/s"
            )
            steps.append(step)
        top = steps[-1]["orders"]
        scattered = ingest_scattered_file(
            engine=engine, settings=settings, cat=cat, rng=rng, rows=min(200_000, top // 10)
        )
        _say(
            f"[{database}] scattered file at {top:,} orders: {scattered.rows:,} rows at {scattered.rows_per_s:,} rows/s"
        )
    finally:
        engine.dispose()
    return {
        "database": database,
        "demo_orders": demo,
        "steps": steps,
        "scattered": {"rows": scattered.rows, "at_orders": top, "rows_per_s": scattered.rows_per_s},
        **_verdict(database, steps),
    }


def _verdict(database: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    top = steps[-1]
    base = next((s["ingest"]["rows_per_s"] for s in steps if s["factor"] == BASELINE_STEP), None)
    rate = top["ingest"]["rows_per_s"]
    ratio = round(rate / base, 2) if base and rate and top["factor"] > BASELINE_STEP else None
    return {
        "top_orders": top["orders"],
        "reports_ok": top["reports"]["worst"]["p95_ms"] <= REPORT_GOAL_MS,
        "turn_ok": top["turn_p95_ms"] <= TURN_GOAL_MS,
        "export_goal": EXPORT_GOAL.get(database, EXPORT_GOAL["postgresql"]),
        "export_ok": top["export"]["rows_per_s"] >= EXPORT_GOAL.get(database, EXPORT_GOAL["postgresql"]),
        "ingest_ratio": ratio,
        "ingest_ok": None if ratio is None else ratio >= INGEST_GOAL,
    }


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A throwaway database on the loopback PostgreSQL (dropped afterwards), or None when none answers."""
    import psycopg

    name = f"sb_bench_scale_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        yield None
        return
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_scale(
    *,
    factor: float = 100,
    big: bool = False,
    url: str | None = None,
    iterations: int = 20,
    turns: int = 40,
    seed: int = 18,
) -> dict[str, Any]:
    """Grow the demo to ``factor`` times its orders (500 with ``big``) on SQLite then PostgreSQL, or on ``url``.

    Returns:
        ``{"factors", "seconds", "databases": [...]}``; each database holds its steps (orders, ingest, reports,
        turn_p95_ms, export, verify), the scattered file, and whether each target was met at the top size.
        PostgreSQL is left out (``skipped``) when nothing answers on 127.0.0.1:5432.
    """
    top = 500 if big else factor
    factors = [float(s) for s in STEPS if s < top] + [float(top)]
    started = time.perf_counter()
    databases: list[dict[str, Any]] = []
    skipped: list[str] = []
    pg_or_none = nullcontext(None) if url else postgres_database()
    with tempfile.TemporaryDirectory(prefix="sb-bench-scale-") as tmp, pg_or_none as pg:
        if url:
            targets = [(url, "given")]
        else:
            targets = [(f"sqlite:///{Path(tmp) / 'scale.db'}", "sqlite")] + ([(pg, "pg")] if pg else [])
            skipped += [] if pg else ["postgresql"]
        for target, name in targets:
            databases.append(
                run_database(
                    target, Path(tmp) / name, factors=factors, iterations=iterations, turns=turns, seed=seed
                )
            )
    return {
        "factors": factors,
        "seconds": round(time.perf_counter() - started),
        "databases": databases,
        "skipped": skipped,
    }


def _cell(value: Any, width: int) -> str:
    text = "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text:>{width}}"


def print_table(result: dict[str, Any]) -> None:
    """One row per database and size: ingest, each report's worst p95, chat turn, export and verify."""
    heads = ["db", "orders", "ingest/s", *SHORT.values(), "worst ms", "turn ms", "export/s", "verify/s"]
    widths = [10, 11, 9, *[8] * len(SHORT), 9, 8, 9, 10]
    print("  ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    for db in result["databases"]:
        for step in db["steps"]:
            worst = step["reports"]["per_report_worst_ms"]
            values = [
                db["database"],
                step["orders"],
                step["ingest"]["rows_per_s"],
                *[worst[r] for r in SHORT],
                step["reports"]["worst"]["p95_ms"],
                step["turn_p95_ms"],
                step["export"]["rows_per_s"],
                step["verify"]["records_per_s"],
            ]
            print("  ".join(_cell(v, w) for v, w in zip(values, widths, strict=True)))
    for db in result["databases"]:
        s = db["scattered"]
        print(
            f"{db['database']}: scattered file ({s['rows']:,} rows at {s['at_orders']:,} orders) {s['rows_per_s']:,} rows/s; "
            f"ingest at top / at 200k = {db['ingest_ratio'] if db['ingest_ratio'] is not None else '-'}"
        )
    for name in result["skipped"]:
        print(f"{name}: skipped (no server on 127.0.0.1:5432)")
    print(f"ran in {result['seconds']} s")


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``[--big] [--url URL] [--factor N] [--json]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="grow to 500x (10M orders)")
    parser.add_argument(
        "--url", help="one database to use instead of SQLite then PostgreSQL (its demo tables are reset)"
    )
    parser.add_argument(
        "--factor", type=float, default=100, help="top size as a multiple of the demo's orders"
    )
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    result = bench_scale(factor=options.factor, big=options.big, url=options.url)
    print_table(result)
    if options.json:
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
