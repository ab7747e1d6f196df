"""Ingest benchmark: our ingest of a 200k-row orders CSV against a raw sqlite3 executemany of the same rows.

Both sides start from the same CSV file and end with the rows committed in a fresh SQLite database with the
same schema (indexes included), so the comparison is file-to-committed-rows:

* **ours**: ``flows.ingest.pipeline.ingest_file`` - checksum pass, streaming parse, per-row pydantic validation,
  duplicate-key checks, bulk insert, batch and audit records, one transaction;
* **raw**: ``csv.reader`` plus the minimum type conversion (int/float, blank total as NULL) and one
  ``sqlite3.executemany`` in one transaction.

The raw insert alone (rows already parsed in memory) is reported too. The goal is ours >= 0.6x raw (wall
clock, best of ``repeat`` runs each); ``cpu_ratio`` compares process CPU time, which is steadier on a busy
machine. Peak RSS growth while ingesting shows that memory stays bounded (the file is never held in memory:
what grows is the set of keys seen, to catch duplicates within the file).

Run: ``python -m benchmarks.ingest [rows]``.
"""

from __future__ import annotations

import csv
import gc
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from core.store.db import make_engine
from core.store.schema import init_db
from flows.ingest.pipeline import ingest_file
from switchboard.settings import load_settings

GOAL = 0.6
_COLUMNS = ("id", "customer_id", "sku", "quantity", "unit_price", "total", "region", "order_date", "status")
_REGIONS = ("emea", "apac", "latam", "north_america")
_STATUSES = ("open", "shipped", "invoiced", "paid", "cancelled")
_SKUS = ("A100X", "B200", "C-55", "D300", "E-10", "F400X")


def write_orders_csv(path: Path, rows: int, *, seed: int = 1) -> int:
    """Write a deterministic orders CSV of ``rows`` rows (2% with a blank total); returns its size."""
    rng = random.Random(seed)
    start = date(2025, 6, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        for order_id in range(1, rows + 1):
            quantity = rng.randint(1, 400)
            price = round(rng.uniform(2, 900), 2)
            total = "" if rng.random() < 0.02 else f"{quantity * price:.2f}"
            writer.writerow(
                (
                    order_id,
                    rng.randint(1001, 1500),
                    rng.choice(_SKUS),
                    quantity,
                    price,
                    total,
                    rng.choice(_REGIONS),
                    (start + timedelta(days=rng.randint(0, 540))).isoformat(),
                    rng.choice(_STATUSES),
                )
            )
    return path.stat().st_size


def _parse(path: Path) -> list[tuple[Any, ...]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        return [
            (
                int(r[0]),
                int(r[1]),
                r[2],
                int(r[3]),
                float(r[4]),
                float(r[5]) if r[5] else None,
                r[6],
                r[7],
                r[8],
            )
            for r in reader
        ]


def _raw_connection(db: Path) -> sqlite3.Connection:
    engine = make_engine(f"sqlite:///{db}")
    init_db(engine)  # the same schema and indexes as ours
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


_INSERT = f'INSERT INTO "order" ({", ".join(_COLUMNS)}) VALUES ({", ".join("?" * len(_COLUMNS))})'


def _raw(path: Path, db: Path) -> tuple[float, float]:
    """Wall and CPU seconds for parse + convert + executemany + commit."""
    conn = _raw_connection(db)
    started, cpu = time.perf_counter(), time.process_time()
    rows = _parse(path)
    conn.execute("BEGIN")
    conn.executemany(_INSERT, rows)
    conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed, cpu


def _raw_insert_only(path: Path, db: Path) -> float:
    """Seconds for executemany + commit of rows already parsed in memory."""
    rows = _parse(path)
    conn = _raw_connection(db)
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(_INSERT, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _rss_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)
        return True
    except OSError:
        return False


def _ours(var: Path, db: Path, name: str) -> tuple[float, float, int, float | None]:
    """Wall and CPU seconds for our ingest, rows loaded, and peak RSS growth in MB during it."""
    settings = load_settings(database_url=f"sqlite:///{db}", var_dir=var)
    engine = make_engine(settings.database_url)
    init_db(engine)
    gc.collect()
    before = _rss_kb("VmRSS")
    peak_ok = _reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    report = ingest_file(engine=engine, settings=settings, path=name, dataset="orders")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = _rss_kb("VmHWM") if peak_ok else None
    engine.dispose()
    growth = (peak - before) / 1024 if peak is not None and before is not None else None
    return elapsed, cpu, report.rows_loaded, growth


def bench_ingest(rows: int = 200_000, *, repeat: int = 3) -> dict[str, Any]:
    """Time our ingest against raw sqlite3 on the same CSV (best of ``repeat`` each, alternating).

    Returns:
        rows, file_mb, ours_rows_per_s, raw_rows_per_s (parse + insert), raw_insert_rows_per_s (insert only),
        ratio (ours / raw, wall clock), cpu_ratio (the same by process CPU time, steadier on a busy machine),
        goal, ok, peak_rss_growth_mb.
    """
    with tempfile.TemporaryDirectory(prefix="sb-bench-ingest-") as tmp:
        var = Path(tmp) / "var"
        inbox = var / "inbox"
        inbox.mkdir(parents=True)
        name = "orders_bench.csv"
        size = write_orders_csv(inbox / name, rows)
        ours: list[tuple[float, float]] = []
        raw: list[tuple[float, float]] = []
        growth: list[float] = []
        for attempt in range(repeat):
            raw.append(_raw(inbox / name, Path(tmp) / f"raw{attempt}.db"))
            seconds, cpu, loaded, grew = _ours(var, Path(tmp) / f"ours{attempt}.db", name)
            if loaded != rows:
                raise RuntimeError(f"benchmark ingest loaded {loaded} of {rows} rows")
            ours.append((seconds, cpu))
            if grew is not None:
                growth.append(grew)
        raw_insert = _raw_insert_only(inbox / name, Path(tmp) / "raw_insert.db")
    ours_rate, raw_rate = rows / min(w for w, _ in ours), rows / min(w for w, _ in raw)
    cpu_ratio = min(c for _, c in raw) / min(c for _, c in ours)
    return {
        "rows": rows,
        "file_mb": round(size / 1_048_576, 1),
        "ours_rows_per_s": round(ours_rate),
        "raw_rows_per_s": round(raw_rate),
        "raw_insert_rows_per_s": round(rows / raw_insert),
        "ratio": round(ours_rate / raw_rate, 2),
        "cpu_ratio": round(cpu_ratio, 2),
        "goal": GOAL,
        "ok": ours_rate / raw_rate >= GOAL,
        "peak_rss_growth_mb": round(max(growth), 1) if growth else None,
    }


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark as a small table."""
    args = sys.argv[1:] if argv is None else argv
    result = bench_ingest(int(args[0]) if args else 200_000)
    width = max(len(key) for key in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
