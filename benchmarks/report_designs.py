"""Which design makes reports fast at millions of orders? The comparison behind issue 18's rollups, on SQLite.

One SQLite database is grown from the demo (about 20,000 orders) to ``--orders`` (default 2M) through the real
ingest, as ``benchmarks.scale`` grows it. Then the six reports run, over last_month, last_year and the demo's whole
18 months, under each design, on the same data in the same run:

* **order lines, index** — the reports over the order lines (``ORDER_LINES``) with the indexes the schema has:
  SQLite picks ``ix_order_order_date`` and fetches each matching row from the table;
* **order lines, scan** — the same with the date index dropped, so SQLite reads the whole table in order;
* **covering index** — the same with one index holding every column the reports read, date first, so a period
  is one contiguous index range and no table row is fetched;
* **rollups** — what the reports read now (``ROLLUPS``), the sums kept by ``core.store.rollups``;
* **DuckDB copy** — when the ``duckdb`` package is importable (it is not a dependency): DuckDB cannot read the
  SQLite file offline (its ``sqlite_scanner`` extension is not in the wheel and ``ATTACH ... (TYPE sqlite)``
  tries to download it), so the orders are copied in as a DuckDB table through a CSV export, and two reports are
  written in its SQL (sales_by_region and top_customers). The copy's load time is printed; such a copy is stale
  from the moment it is made.

Each cell is the p95 of up to 10 runs after a warm-up (at least 3, stopping after 2 s); the table shows each
design's worst report × period, its worst for sales_by_region and top_customers, and its ratio to the rollups.

Run: ``python -m benchmarks.report_designs [--orders N]`` (minutes: growing 2M orders takes about 2.5).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection, Engine

from benchmarks.scale import TODAY, _orders, _pct, _timed, periods
from benchmarks.scale_files import ingest_daily_files, read_catalogue
from core.periods import resolve_period
from core.store.db import make_engine
from core.store.schema import init_db
from flows.demo.data import load_demo
from flows.export.exporter import export_dataset
from flows.reports.queries import QUERIES
from flows.reports.sources import ORDER_LINES, ROLLUPS, Source, Window
from switchboard.settings import load_settings

PERIODS = [p for p in periods(TODAY) if p != "last_30_days" and p != "last_quarter"]
COVERING = (
    'CREATE INDEX ix_order_covering ON "order" '
    "(order_date, region, status, sku, customer_id, quantity, unit_price, total)"
)
DATE_INDEX = "ix_order_order_date"
DUCK_SQL = {
    "sales_by_region": (
        "SELECT region, count(*), sum(quantity), sum(coalesce(total, quantity * unit_price)) FROM orders "
        "WHERE order_date BETWEEN ? AND ? AND status <> 'cancelled' GROUP BY region"
    ),
    "top_customers": (
        "SELECT customer_id, count(*), sum(coalesce(total, quantity * unit_price)) AS revenue FROM orders "
        "WHERE order_date BETWEEN ? AND ? AND status <> 'cancelled' GROUP BY customer_id "
        "ORDER BY round(revenue, 2) DESC, customer_id LIMIT 10"
    ),
}


def _cells(run: Callable[[str, date, date], Any]) -> dict[tuple[str, str], float]:
    """p95 ms of ``run(report, start, end)`` for every report it can run and every period."""
    found: dict[tuple[str, str], float] = {}
    for period in PERIODS:
        start, end = resolve_period(period, today=TODAY)
        for report in QUERIES:

            def once(report: str = report, start: date = start, end: date = end) -> None:
                run(report, start, end)

            try:
                samples = _timed(once, most=10, least=3)
            except KeyError:  # a design that does not have this report
                continue
            found[(report, period)] = round(_pct(samples, 0.95), 1)
    return found


def _over(conn: Connection, source: Source) -> Callable[[str, date, date], Any]:
    def run(report: str, start: date, end: date) -> Any:
        return QUERIES[report](conn, Window(start, end), source)

    return run


@contextmanager
def _index_state(engine: Engine, *statements: str) -> Iterator[None]:
    """Run DDL for one design, ANALYZE, and undo it afterwards (drop what was created, recreate what was dropped)."""
    undo = []
    with engine.begin() as conn:
        for statement in statements:
            if statement.startswith("DROP INDEX"):
                name = statement.split()[-1]
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (name,)
                ).scalar_one()
                undo.append(sql)
            else:
                undo.append(f"DROP INDEX {statement.split()[2]}")
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("ANALYZE")
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in undo:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql("ANALYZE")


def _duckdb(engine: Engine, folder: Path) -> tuple[dict[tuple[str, str], float], float] | str:
    try:
        import duckdb
    except ImportError:
        return "not installed (pip install duckdb to include it)"
    started = time.perf_counter()
    exported = export_dataset(
        engine=engine, artifacts_dir=folder, dataset="orders", fmt="csv", period=None, today=TODAY
    )
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv('{folder / exported.artifact.name}')")
    load_s = time.perf_counter() - started

    def run(report: str, start: date, end: date) -> Any:
        return duck.execute(DUCK_SQL[report], [start, end]).fetchall()

    return _cells(run), load_s


def compare(orders: int) -> dict[str, Any]:
    """Grow a SQLite database to ``orders`` and time the reports under each design."""
    with tempfile.TemporaryDirectory(prefix="sb-bench-designs-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'designs.db'}"
        settings = load_settings(database_url=url, var_dir=folder, reference_date=TODAY.isoformat())
        engine = make_engine(url)
        init_db(engine)
        load_demo(engine=engine, settings=settings, today=TODAY, seed=7, reset=True)
        rng = np.random.default_rng(18)
        cat = read_catalogue(engine, today=TODAY, rng=rng)
        ingest_daily_files(
            engine=engine, settings=settings, cat=cat, rng=rng, rows=orders - _orders(engine), branch=1
        )
        designs: dict[str, Any] = {}
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            designs["order lines, index"] = _cells(_over(conn, ORDER_LINES))
        with _index_state(engine, f"DROP INDEX {DATE_INDEX}"), engine.connect() as conn:
            designs["order lines, scan"] = _cells(_over(conn, ORDER_LINES))
        with _index_state(engine, COVERING), engine.connect() as conn:
            designs["covering index"] = _cells(_over(conn, ORDER_LINES))
        with engine.connect() as conn:
            designs["rollups"] = _cells(_over(conn, ROLLUPS))
        duck = _duckdb(engine, folder / "duck")
        extra: dict[str, Any] = {}
        if isinstance(duck, str):
            extra["duckdb"] = duck
        else:
            designs["DuckDB copy"], extra["duckdb_load_s"] = duck[0], round(duck[1], 1)
        result = {"orders": _orders(engine), "designs": designs, **extra}
        engine.dispose()
    return result


def _times(value: float, base: float) -> str:
    ratio = value / base if base else float("inf")
    return f"{value:,.1f} ({ratio:,.1f}×)" if ratio < 10 else f"{value:,.1f} ({ratio:,.0f}×)"


def print_table(result: dict[str, Any]) -> None:
    """Per design: its worst report × period, and its worst for the two reports every design has (× rollups)."""
    print(
        f"{result['orders']:,} orders on SQLite; periods {', '.join(PERIODS)}; p95 ms (× the rollups' figure)"
    )
    print(f"{'design':<20}{'worst':>9}  {'of':<44}{'sales_by_region':>18}{'top_customers':>18}")
    common = ("sales_by_region", "top_customers")
    base = {r: max(v for (name, _), v in result["designs"]["rollups"].items() if name == r) for r in common}
    for name, cells in result["designs"].items():
        (report, period), worst = max(cells.items(), key=lambda kv: kv[1])
        each = [_times(max(v for (r, _), v in cells.items() if r == c), base[c]) for c in common]
        print(f"{name:<20}{worst:>9,.1f}  {report + ' ' + period:<44}{each[0]:>18}{each[1]:>18}")
    if "duckdb" in result:
        print(f"DuckDB copy: {result['duckdb']}")
    else:
        print(
            f"DuckDB copy: two reports only; loading the copy through a csv export took {result['duckdb_load_s']} s"
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``[--orders N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2_000_000, help="orders to grow the demo to")
    options = parser.parse_args(argv)
    print_table(compare(options.orders))


if __name__ == "__main__":
    main()
