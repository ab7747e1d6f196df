"""The rows an export writes: its query, and batches read straight from the database driver's cursor.

SQLAlchemy compiles and binds the query; the rows are then fetched from the DBAPI cursor in large batches,
skipping per-row Row objects and result processing. The values are what the driver returns, so the
writers accept a date as a ``date`` (PostgreSQL) or as ISO text (SQLite), and SQLite's 0/1 flags are turned
into booleans here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, func, literal_column, select, type_coerce
from sqlalchemy.engine import Connection

from core.store.models import Customer, Order, Product
from flows.export.formats import DAT_LAYOUTS, DatField
from flows.reports.queries import REVENUE, Window, sales_by_region

_c = Customer.__table__  # type: ignore[attr-defined]
_p = Product.__table__  # type: ignore[attr-defined]
_o = Order.__table__  # type: ignore[attr-defined]
BATCH = 5000
# On SQLite a window covering at least this share of the order dates scans the table in id order instead of
# walking the order_date index: the index fetches each row from the table by id and then sorts the lot by id.
# At 1M orders (cached) the two plans cost the same at 18% of the table; at 3% the index was 2x faster, at 94%
# the scan 1.4x (2.2-2.6x at 10M, where the table no longer fits the cache). Below the share, the index.
WIDE_SHARE = 0.2

Batch = Sequence[Sequence[Any]]
Wrap = Callable[[ColumnElement[Any], DatField], ColumnElement[Any]]


@dataclass(frozen=True)
class Span:
    """The period an export covers, or none for everything."""

    period: str | None
    start: date | None = None
    end: date | None = None


def _as_is(column: ColumnElement[Any], _field: DatField) -> ColumnElement[Any]:
    return column


def export_query(dataset: str, span: Span, *, wrap: Wrap = _as_is, full_scan: bool = False) -> Select[Any]:
    """The query of a table dataset (customers, products, orders), each column passed through ``wrap``.

    Args:
        dataset: customers, products or orders.
        span: The period (orders only).
        wrap: Turns each column into the expression to select (it keeps the column's name as its label).
        full_scan: Filter orders on ``+order_date``, which no index serves, so SQLite scans in id order.
    """
    layout = DAT_LAYOUTS[dataset]
    if dataset == "customers":
        return select(*[wrap(_c.c[f.name], f).label(f.name) for f in layout]).order_by(_c.c.id)
    if dataset == "products":
        return select(*[wrap(_p.c[f.name], f).label(f.name) for f in layout]).order_by(_p.c.sku)
    # Orders export the value the reports use, so a total still missing before normalize is filled in.
    query = select(
        *[wrap(REVENUE if f.name == "total" else _o.c[f.name], f).label(f.name) for f in layout]
    ).order_by(_o.c.id)
    if span.start is not None:
        dates: ColumnElement[Any] = _o.c.order_date
        if full_scan:
            dates = type_coerce(literal_column('+"order".order_date'), Date)
        query = query.where(dates.between(span.start, span.end))
    return query


def _wide(conn: Connection, span: Span) -> bool:
    """Whether the window covers at least ``WIDE_SHARE`` of the days between the first and last order.

    Two index seeks (min and max apart, so each is one seek); assumes orders spread evenly over the dates,
    which is enough to pick a plan.
    """
    assert span.start is not None and span.end is not None
    first = conn.execute(select(func.min(_o.c.order_date))).scalar()
    last = conn.execute(select(func.max(_o.c.order_date))).scalar()
    if first is None or last is None:
        return False
    covered = (min(span.end, last) - max(span.start, first)).days + 1
    return bool(covered >= WIDE_SHARE * ((last - first).days + 1))


def _flags(values: Sequence[Any]) -> list[Any]:
    return [None if value is None else bool(value) for value in values]


def _fetch(cursor: Any, flags: list[int]) -> Iterator[Batch]:
    while batch := cursor.fetchmany(BATCH):
        if flags:
            columns: list[Sequence[Any]] = list(zip(*batch, strict=True))
            for index in flags:
                columns[index] = _flags(columns[index])
            batch = list(zip(*columns, strict=True))
        yield batch


def row_batches(conn: Connection, dataset: str, span: Span) -> tuple[list[str], Iterator[Batch]]:
    """The column names and the rows of a dataset, in batches of up to ``BATCH`` rows."""
    if dataset == "sales_by_region":
        window = Window(start=span.start or date.min, end=span.end or date.max)
        output = sales_by_region(conn, window)
        return output.columns, iter([output.rows] if output.rows else [])
    sqlite = conn.dialect.name == "sqlite"
    wide = sqlite and dataset == "orders" and span.start is not None and _wide(conn, span)
    query = export_query(dataset, span, full_scan=wide)
    columns = [f.name for f in DAT_LAYOUTS[dataset]]
    flags = [i for i, f in enumerate(DAT_LAYOUTS[dataset]) if f.kind == "flag"]
    if sqlite:
        # Not stream_results: SQLAlchemy's buffered strategy would take the first row off the cursor.
        result = conn.execute(query)
        return columns, _closing(result.cursor, result.close, flags)
    if conn.dialect.driver != "psycopg":
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        return columns, (list(map(tuple, rows)) for rows in result.partitions())
    # A server-side cursor on PostgreSQL, so memory stays flat whatever the size of the table.
    compiled = query.compile(dialect=conn.dialect)
    dbapi: Any = conn.connection.dbapi_connection
    cursor = dbapi.cursor(name=f"export_{dataset}")
    cursor.itersize = BATCH
    cursor.execute(str(compiled), compiled.params)
    return columns, _closing(cursor, cursor.close, [])


def _closing(cursor: Any, close: Callable[[], None], flags: list[int]) -> Iterator[Batch]:
    try:
        yield from _fetch(cursor, flags)
    finally:
        close()
