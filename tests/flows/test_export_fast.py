"""The fast export paths write the same bytes as the plain per-row writers, hash once, and report progress.

The reference below is the export as it was before COPY, raw cursors and batch writers: SQLAlchemy rows,
written one at a time. Every dataset and format is compared byte for byte with it, on SQLite and PostgreSQL,
over values chosen to trip a formatter: whole floats (Python writes 12.0, PostgreSQL 12), 0.1 + 0.2, 1e15 and
1e16 (where the two switch to exponents differently), infinities, missing totals, and text with commas,
quotes, newlines, carriage returns, empty strings and non-ASCII characters.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import struct
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

import pytest
from sqlalchemy import Select, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

import flows.export.exporter as exporter
import flows.export.pgcopy
import flows.export.sink
import flows.export.source
from core.errors import BadInput
from core.periods import resolve_period
from core.store.models import Customer, Order, Product
from flows.export.exporter import export_dataset
from flows.export.formats import DAT_LAYOUTS, _dat_cell
from flows.export.sink import export_progress
from flows.export.source import Span, export_query
from flows.reports.queries import REVENUE, Window, sales_by_region
from switchboard.commands import tools_cmd
from tests.utils.factories import insert_customers, insert_orders, insert_products, seeded_database

TODAY = date(2026, 11, 22)
FORMATS = ["csv", "json", "xml", "dat"]
TEXTS = [
    "Acme, Inc.",
    'Say "hi"',
    "Line\nbreak",
    "Carriage\rreturn",
    "Both\r\nends",
    "Ünïcödé 東京 🎉",
    "",
    " padded ",
    "\\.",
    "tab\there",
    "<xml & 'stuff'>",
]
# Floats that fit the dat layout (orders in November 2026) and floats that do not (earlier years).
FITTING = [12.0, 0.1 + 0.2, -3.5, 1e-05, 1.5e-07, 123456.789, -0.0, 0.5, 99999999.99, None]
EXTREME = [1e15, 1e16, 1234567890123456.8, 1.7976931348623157e308, 5e-324, -1e22, float("inf"), float("-inf")]
CASES = [
    ("customers", None),
    ("products", None),
    ("orders", None),
    ("orders", "2026-11-01..2026-11-22"),  # narrow: the order_date index
    ("orders", "2019-01-01..2026-12-31"),  # wide: a full scan on SQLite
    ("orders", "1999-01-01..1999-12-31"),  # no rows
    ("orders", "2018-01-01..2018-12-31"),  # random doubles
    ("sales_by_region", None),
    ("sales_by_region", "2026-11-01..2026-11-22"),
]


def _random_doubles(count: int) -> list[float]:
    rng = random.Random(18)
    found: list[float] = []
    while len(found) < count:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if value == value:  # no NaN: SQLite stores it as NULL
            found.append(value)
        found.append(round(rng.uniform(-1e6, 1e6), rng.randint(0, 4)))
    return found


def _seed(engine: Engine) -> None:
    customers = [
        {
            "id": 100 + i,
            "name": text,
            "email": f"c{i}@example.com",
            "region": "emea",
            "country": text or None,
            "credit_limit": FITTING[i % len(FITTING)],
            "tier": text if i % 3 else None,
            "credit_hold": i % 2 == 0,
        }
        for i, text in enumerate(TEXTS)
    ]
    insert_customers(engine, customers)
    products = [
        {"sku": f"T{i}", "name": text, "category": text or None, "unit_price": FITTING[i % 9]}
        for i, text in enumerate(TEXTS)
    ]
    insert_products(engine, products)
    orders: list[dict[str, Any]] = []

    def order(day: date, total: float | None, sku: str = "A100X", status: str = "open") -> None:
        unit = abs(total) if total is not None and abs(total) < 1e300 else 1.0
        orders.append(
            {"id": 1000 + len(orders), "customer_id": 100, "sku": sku, "quantity": 3, "unit_price": unit}
            | {"total": total, "region": "apac", "order_date": day, "status": status}
        )

    for i, value in enumerate(FITTING):
        order(date(2026, 11, 1 + i), value, sku=TEXTS[i % len(TEXTS)], status=TEXTS[(i + 3) % len(TEXTS)])
    for i, value in enumerate(EXTREME):
        order(date(2021, 1 + i, 5), value)
    for i, value in enumerate(_random_doubles(600)):
        order(date(2018, 1, 1) + timedelta(days=i % 365), value)
    insert_orders(engine, orders)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def tricky(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The factory data plus the tricky rows, loaded once per module and engine."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with seeded_database(tmp_path_factory.mktemp("fast"), url) as engine:
        _seed(engine)
        yield engine


# The reference: the export as written before the fast paths, kept here as the definition of the bytes.


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _reference_query(dataset: str, start: date | None, end: date | None) -> Select[Any]:
    table = {"customers": Customer, "products": Product, "orders": Order}[dataset].__table__  # type: ignore[attr-defined]
    fields = DAT_LAYOUTS[dataset]
    columns = [REVENUE.label("total") if f.name == "total" else table.c[f.name] for f in fields]
    query = select(*columns).order_by(table.c.sku if dataset == "products" else table.c.id)
    if start is not None:
        query = query.where(table.c.order_date.between(start, end))
    return query


def _reference_csv(out: TextIO, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                "" if v is None else ("true" if v is True else "false" if v is False else _plain(v))
                for v in row
            ]
        )


def _reference_json(out: TextIO, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    out.write("[")
    for count, row in enumerate(rows):
        out.write(",\n" if count else "\n")
        out.write(json.dumps({c: _plain(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False))
    out.write("\n]\n" if rows else "]\n")


def _reference_xml(
    out: TextIO, columns: Sequence[str], rows: list[Sequence[Any]], dataset: str, period: str | None
) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f"<{dataset}{f' period={quoteattr(period)}' if period else ''}>\n")
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            if value is None:
                cells.append(f"<{column}/>")
            else:
                text = "true" if value is True else "false" if value is False else str(_plain(value))
                cells.append(f"<{column}>{escape(text)}</{column}>")
        out.write(f"  <row>{''.join(cells)}</row>\n")
    out.write(f"</{dataset}>\n")


def _reference_dat(out: TextIO, rows: list[Sequence[Any]], dataset: str) -> None:
    for line, row in enumerate(rows, start=1):
        out.write(
            "".join(_dat_cell(f, v, line) for f, v in zip(DAT_LAYOUTS[dataset], row, strict=True)) + "\n"
        )


def reference_export(engine: Engine, dataset: str, fmt: str, period: str | None) -> bytes:
    """The bytes the per-row writers produce over SQLAlchemy rows."""
    start, end = resolve_period(period, today=TODAY) if period else (None, None)
    with engine.connect() as conn:
        if dataset == "sales_by_region":
            output = sales_by_region(conn, Window(start=start or date.min, end=end or date.max))
            columns, rows = output.columns, [list(row) for row in output.rows]
        else:
            result = conn.execute(_reference_query(dataset, start, end))
            columns, rows = list(result.keys()), [tuple(row) for row in result]
    out = io.StringIO(newline="")
    if fmt == "csv":
        _reference_csv(out, columns, rows)
    elif fmt == "json":
        _reference_json(out, columns, rows)
    elif fmt == "xml":
        _reference_xml(out, columns, rows, dataset, period)
    else:
        _reference_dat(out, rows, dataset)
    return out.getvalue().encode("utf-8")


def _outcome(make: Callable[[], bytes]) -> bytes | str:
    """The bytes, or the message of the BadInput that stopped the export (dat numbers too wide)."""
    try:
        return make()
    except BadInput as exc:
        return f"BadInput: {exc}"


def _fast(engine: Engine, folder: Path, dataset: str, fmt: str, period: str | None) -> bytes:
    result = export_dataset(
        engine=engine, artifacts_dir=folder, dataset=dataset, fmt=fmt, period=period, today=TODAY
    )
    return Path(result.artifact.path).read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("dataset", "period"), CASES)
def test_fast_export_is_byte_identical_to_the_reference(
    tricky: Engine, tmp_path: Path, dataset: str, period: str | None, fmt: str
) -> None:
    expected = _outcome(lambda: reference_export(tricky, dataset, fmt, period))
    assert _outcome(lambda: _fast(tricky, tmp_path, dataset, fmt, period)) == expected


def test_the_comparison_sees_the_hard_cases(tricky: Engine) -> None:
    # The identity above proves something only if the data holds the values that differ between formatters.
    text = reference_export(tricky, "orders", "csv", None).decode()
    for fragment in [",12.0,", ",0.30000000000000004,", ",1000000000000000.0,", ",1e+16,", ",inf,"]:
        assert fragment in text
    assert "Carriage\rreturn" in text and '"Line\nbreak"' in text and '"Say ""hi"""' in text
    assert reference_export(tricky, "orders", "dat", "2026-11-01..2026-11-22").count(b"\n") == 15
    with pytest.raises(BadInput, match="unit_price = 1000000000000000.0 does not fit the 12 columns"):
        reference_export(tricky, "orders", "dat", None)


def test_postgres_csv_goes_through_copy(
    tricky: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = flows.export.pgcopy._stream

    def spy(pgconn: Any, statement: str, *args: Any) -> int:
        calls.append(statement)
        return original(pgconn, statement, *args)

    monkeypatch.setattr(flows.export.pgcopy, "_stream", spy)
    _fast(tricky, tmp_path, "orders", "csv", None)
    expected = ["COPY"] if tricky.dialect.name == "postgresql" else []
    assert [statement.split(" ")[0] for statement in calls] == expected


def test_a_failing_copy_leaves_no_file_and_a_usable_engine(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = flows.export.pgcopy._python_text
    monkeypatch.setattr(
        flows.export.pgcopy,
        "_python_text",
        lambda column, field: column / 0 if field.name == "quantity" else original(column, field),
    )
    out = tmp_path / "out"
    with seeded_database(tmp_path, postgres_url) as engine:
        with pytest.raises(DBAPIError, match="division by zero"):
            _fast(engine, out, "orders", "csv", None)
        assert list(out.iterdir()) == []
        monkeypatch.undo()
        assert _fast(engine, out, "orders", "csv", None) == reference_export(engine, "orders", "csv", None)


def test_sqlite_scans_the_table_for_a_wide_window_and_seeks_the_index_for_a_narrow_one(
    tmp_path: Path,
) -> None:
    with seeded_database(tmp_path) as engine:
        insert_orders(
            engine,
            [
                {"id": 100 + i, "customer_id": 1, "sku": "A100X", "quantity": 1, "unit_price": 1.0}
                | {"region": "emea", "order_date": date(2026, 1, 1) + timedelta(days=i)}
                for i in range(300)
            ],
        )
        plans = {}
        with engine.connect() as conn:
            for period in ["2026-01-01..2026-01-31", "2026-01-01..2026-06-30"]:
                start, end = resolve_period(period, today=TODAY)
                span = Span(period, start, end)
                wide = flows.export.source._wide(conn, span)
                compiled = export_query("orders", span, full_scan=wide).compile(dialect=conn.dialect)
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values()))
                plans[period] = (wide, " | ".join(str(row[-1]) for row in plan))
    assert plans == {
        "2026-01-01..2026-01-31": (False, plans["2026-01-01..2026-01-31"][1]),
        "2026-01-01..2026-06-30": (True, "SCAN order"),
    }
    assert "USING INDEX ix_order_order_date" in plans["2026-01-01..2026-01-31"][1]


def test_the_file_is_hashed_once_while_it_is_written(
    tricky: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Path] = []
    original = exporter.file_sha256

    def counting(path: Path) -> tuple[str, int]:
        reads.append(path)
        return original(path)

    monkeypatch.setattr(exporter, "file_sha256", counting)
    first = export_dataset(
        engine=tricky, artifacts_dir=tmp_path, dataset="orders", fmt="csv", period=None, today=TODAY
    )
    data = Path(first.artifact.path).read_bytes()
    assert (first.artifact.sha256, first.artifact.size) == (hashlib.sha256(data).hexdigest(), len(data))
    manifest = json.loads(Path(first.artifact.manifest_path or "").read_text())
    assert (manifest["sha256"], manifest["size"], manifest["rows"]) == (
        first.artifact.sha256,
        len(data),
        first.artifact.rows,
    )
    assert reads == []  # nothing read back: hashed while written

    again = export_dataset(
        engine=tricky, artifacts_dir=tmp_path, dataset="orders", fmt="csv", period=None, today=TODAY
    )
    assert (again.reused, again.artifact.id) == (True, first.artifact.id)
    assert reads == [Path(first.artifact.path)]  # same size: the existing file is read to compare, once

    target = Path(first.artifact.path)
    target.write_bytes(data + b"changed\n")
    reads.clear()
    other = export_dataset(
        engine=tricky, artifacts_dir=tmp_path, dataset="orders", fmt="csv", period=None, today=TODAY
    )
    assert other.artifact.name == f"orders_{TODAY}_{first.artifact.sha256[:8]}.csv"
    assert reads == []  # a different size is a different file, without reading it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_progress_is_reported_in_batches_and_once_at_the_end(
    tricky: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(flows.export.sink, "_INTERVAL", 0.0)
    monkeypatch.setattr(flows.export.source, "BATCH", 100)
    monkeypatch.setattr(flows.export.pgcopy, "_ROWS_PER_WRITE", 100)
    seen: list[int] = []
    result = export_dataset(
        engine=tricky,
        artifacts_dir=tmp_path,
        dataset="orders",
        fmt=fmt,
        period=None,
        today=TODAY,
        progress=seen.append,
    )
    rows = result.artifact.rows or 0
    assert rows > 500
    assert seen[:3] == [100, 200, 300]
    assert seen[-1] == rows and seen == sorted(seen)


def test_an_installed_progress_hook_reaches_exports_that_do_not_pass_one(
    tricky: Engine, tmp_path: Path
) -> None:
    seen: list[int] = []
    with export_progress(seen.append):
        result = export_dataset(
            engine=tricky, artifacts_dir=tmp_path, dataset="customers", fmt="csv", period=None, today=TODAY
        )
    assert seen == [result.artifact.rows]
    export_dataset(
        engine=tricky, artifacts_dir=tmp_path / "b", dataset="customers", fmt="csv", period=None, today=TODAY
    )
    assert seen == [result.artifact.rows]


def test_the_cli_says_the_rows_written_once_an_export_takes_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 100.5, 101.2])
    monkeypatch.setattr(tools_cmd.time, "monotonic", lambda: next(clock))
    said: list[str] = []
    report = tools_cmd.rows_written(said.append, "Export a dataset (export_dataset)")
    report(5000)
    report(1_250_000)
    assert said == ["Export a dataset (export_dataset) · 1,250,000 rows written"]
