"""The SQL behind each report: SQLAlchemy Core aggregates, grouped in the database.

Every query touches only the orders of the window (``order_date`` is indexed) and returns at most one row
per group, so a report over 20,000 orders never brings those orders into Python. Sales exclude cancelled
orders and value a line at ``total``, or ``quantity × unit_price`` where the total is still missing, so the
figures are right before normalize has filled the totals in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.engine import Connection

from core.store.models import Customer, IngestBatch, Order, Product, Quarantine
from core.vocabulary import REGIONS

CANCELLED = "cancelled"
Cell = str | int | float | bool | None

_o = Order.__table__  # type: ignore[attr-defined]
_c = Customer.__table__  # type: ignore[attr-defined]
_p = Product.__table__  # type: ignore[attr-defined]
_q = Quarantine.__table__  # type: ignore[attr-defined]
_b = IngestBatch.__table__  # type: ignore[attr-defined]

REVENUE: ColumnElement[Any] = func.coalesce(_o.c.total, _o.c.quantity * _o.c.unit_price)
"""What an order line is worth: its total, or quantity × unit price while the total is missing."""


@dataclass(frozen=True)
class Window:
    """What a report covers: inclusive dates, an optional region and a row limit."""

    start: date
    end: date
    region: str | None = None
    limit: int = 10


@dataclass(frozen=True)
class QueryOutput:
    """Columns and rows of one report, plus the data-quality score where there is one."""

    columns: list[str]
    rows: list[list[Cell]]
    score: float | None = None


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


def _orders_in(window: Window, *, sales: bool = True) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_o.c.order_date.between(window.start, window.end)]
    if sales:
        conditions.append(_o.c.status != CANCELLED)
    if window.region:
        conditions.append(_o.c.region == window.region)
    return conditions


def _share(part: float, whole: float) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def sales_by_region(conn: Connection, window: Window) -> QueryOutput:
    """Orders, units and revenue per region, with each region's share of revenue."""
    query = (
        select(_o.c.region, func.count(), func.sum(_o.c.quantity), func.sum(REVENUE))
        .where(*_orders_in(window))
        .group_by(_o.c.region)
    )
    found = {str(r[0]): (int(r[1]), int(r[2] or 0), _money(r[3])) for r in conn.execute(query)}
    wanted = [window.region] if window.region else list(REGIONS)
    for region in wanted:
        found.setdefault(region, (0, 0, 0.0))
    total = sum(item[2] for item in found.values())
    ordered = sorted(found.items(), key=lambda kv: (-kv[1][2], kv[0]))
    rows: list[list[Cell]] = [[k, n, u, rev, _share(rev, total)] for k, (n, u, rev) in ordered]
    return QueryOutput(["region", "orders", "units", "revenue", "share_pct"], rows)


def sales_by_product(conn: Connection, window: Window) -> QueryOutput:
    """The best-selling products by revenue (top ``limit``)."""
    # Aggregate first, then join the few surviving groups to their names.
    revenue = func.sum(REVENUE).label("revenue")
    totals = (
        select(_o.c.sku, func.count().label("orders"), func.sum(_o.c.quantity).label("units"), revenue)
        .where(*_orders_in(window))
        .group_by(_o.c.sku)
        .order_by(revenue.desc(), _o.c.sku)
        .limit(window.limit)
        .subquery()
    )
    query = (
        select(totals.c.sku, _p.c.name, totals.c.orders, totals.c.units, totals.c.revenue)
        .select_from(totals.outerjoin(_p, _p.c.sku == totals.c.sku))
        .order_by(totals.c.revenue.desc(), totals.c.sku)
    )
    rows: list[list[Cell]] = [
        [str(r[0]), r[1], int(r[2]), int(r[3] or 0), _money(r[4])] for r in conn.execute(query)
    ]
    return QueryOutput(["sku", "product", "orders", "units", "revenue"], rows)


def top_customers(conn: Connection, window: Window) -> QueryOutput:
    """The customers with the most revenue (top ``limit``)."""
    revenue = func.sum(REVENUE).label("revenue")
    totals = (
        select(_o.c.customer_id, func.count().label("orders"), revenue)
        .where(*_orders_in(window))
        .group_by(_o.c.customer_id)
        .order_by(revenue.desc(), _o.c.customer_id)
        .limit(window.limit)
        .subquery()
    )
    query = (
        select(totals.c.customer_id, _c.c.name, _c.c.region, totals.c.orders, totals.c.revenue)
        .select_from(totals.outerjoin(_c, _c.c.id == totals.c.customer_id))
        .order_by(totals.c.revenue.desc(), totals.c.customer_id)
    )
    rows: list[list[Cell]] = [[int(r[0]), r[1], r[2], int(r[3]), _money(r[4])] for r in conn.execute(query)]
    return QueryOutput(["customer_id", "customer", "region", "orders", "revenue"], rows)


def trend_granularity(window: Window) -> str:
    """Days for up to a month, weeks up to half a year, months beyond."""
    days = (window.end - window.start).days + 1
    return "day" if days <= 31 else "week" if days <= 183 else "month"


def _bucket(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def _label(bucket: date, granularity: str) -> str:
    return bucket.strftime("%Y-%m") if granularity == "month" else bucket.isoformat()


def revenue_trend(conn: Connection, window: Window) -> QueryOutput:
    """Orders and revenue per day, week (starting Monday) or month, with empty buckets as zero."""
    granularity = trend_granularity(window)
    # Grouping by day in the database keeps the query portable; at most a few hundred days come back.
    query = (
        select(_o.c.order_date, func.count(), func.sum(REVENUE))
        .where(*_orders_in(window))
        .group_by(_o.c.order_date)
    )
    buckets: dict[date, list[float]] = {}
    day = window.start
    while day <= window.end:
        buckets.setdefault(_bucket(day, granularity), [0, 0.0])
        day += timedelta(days=1)
    for order_date, count, revenue in conn.execute(query):
        slot = buckets[_bucket(order_date, granularity)]
        slot[0] += int(count)
        slot[1] += float(revenue or 0)
    rows: list[list[Cell]] = [
        [_label(key, granularity), int(value[0]), _money(value[1])] for key, value in sorted(buckets.items())
    ]
    return QueryOutput([granularity, "orders", "revenue"], rows)


def order_status(conn: Connection, window: Window) -> QueryOutput:
    """Orders and value per status (cancelled included), with each status's share of the orders."""
    query = (
        select(_o.c.status, func.count(), func.sum(REVENUE))
        .where(*_orders_in(window, sales=False))
        .group_by(_o.c.status)
    )
    found = [(str(r[0]), int(r[1]), _money(r[2])) for r in conn.execute(query)]
    total = sum(count for _, count, _ in found)
    ordered = sorted(found, key=lambda item: (-item[1], item[0]))
    rows: list[list[Cell]] = [[s, n, rev, _share(n, total)] for s, n, rev in ordered]
    return QueryOutput(["status", "orders", "revenue", "share_pct"], rows)


def _quality_rows(conn: Connection, window: Window) -> list[tuple[str, int, int]]:
    orders = (
        select(
            func.count(),
            func.sum(case((_o.c.total.is_(None), 1), else_=0)),
            func.sum(case((_c.c.id.is_(None), 1), else_=0)),
            func.sum(case((_p.c.sku.is_(None), 1), else_=0)),
        )
        .select_from(_o.outerjoin(_c, _c.c.id == _o.c.customer_id).outerjoin(_p, _p.c.sku == _o.c.sku))
        .where(*_orders_in(window, sales=False))
    )
    n_orders, missing_total, unknown_customer, unknown_product = (
        int(v or 0) for v in conn.execute(orders).one()
    )

    clean = func.lower(func.trim(_c.c.email))
    in_region = [_c.c.region == window.region] if window.region else []
    customers = (
        select(func.count(), func.sum(case((_c.c.email != clean, 1), else_=0)))
        .select_from(_c)
        .where(*in_region)
    )
    n_customers, unnormalised = (int(v or 0) for v in conn.execute(customers).one())
    groups = (
        select(func.count().label("n"))
        .select_from(_c)
        .where(*in_region)
        .group_by(clean)
        .having(func.count() > 1)
        .subquery()
    )
    duplicates = int(conn.execute(select(func.coalesce(func.sum(groups.c.n - 1), literal(0)))).scalar_one())

    since = datetime.combine(window.start, time(), tzinfo=UTC)
    until = datetime.combine(window.end + timedelta(days=1), time(), tzinfo=UTC)
    quarantined = int(
        conn.execute(
            select(func.count())
            .select_from(_q)
            .where(and_(_q.c.created_at >= since, _q.c.created_at < until))
        ).scalar_one()
    )
    loaded = conn.execute(
        select(func.coalesce(func.sum(_b.c.rows_loaded), literal(0))).where(
            and_(_b.c.created_at >= since, _b.c.created_at < until)
        )
    ).scalar_one()
    return [
        ("orders_missing_total", missing_total, n_orders),
        ("orders_unknown_customer", unknown_customer, n_orders),
        ("orders_unknown_product", unknown_product, n_orders),
        ("customers_unnormalised_email", unnormalised, n_customers),
        ("customers_duplicate_email", duplicates, n_customers),
        ("quarantined_rows", quarantined, quarantined + int(loaded or 0)),
    ]


def data_quality(conn: Connection, window: Window) -> QueryOutput:
    """Share of problem rows per check, and a score: 1 minus the mean share (1.0 = nothing wrong).

    Order checks cover the window's orders (cancelled included); customer checks cover every customer (of the
    region, when one is given); quarantine counts rows rejected by ingests run in the window, against all rows
    those ingests read.
    """
    checks = _quality_rows(conn, window)
    shares = [affected / total if total else 0.0 for _, affected, total in checks]
    score = round(1 - sum(shares) / len(shares), 4)
    rows: list[list[Cell]] = [
        [name, affected, total, _share(affected, total)] for name, affected, total in checks
    ]
    return QueryOutput(["check", "affected", "total", "share_pct"], rows, score=score)


QUERIES = {
    "sales_by_region": sales_by_region,
    "sales_by_product": sales_by_product,
    "top_customers": top_customers,
    "revenue_trend": revenue_trend,
    "order_status": order_status,
    "data_quality": data_quality,
}


def chart_series(report: str, output: QueryOutput) -> tuple[Sequence[str], Sequence[float], str]:
    """Labels, values and value name for a report's chart."""
    y = {"order_status": "orders", "data_quality": "share_pct"}.get(report, "revenue")
    y_index = output.columns.index(y)
    if report == "top_customers":
        labels = [str(row[1] or f"customer {row[0]}") for row in output.rows]
    else:
        labels = [str(row[0]) for row in output.rows]
    values = [float(row[y_index] or 0) for row in output.rows]
    return labels, values, y
