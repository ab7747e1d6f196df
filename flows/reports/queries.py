"""The six reports, each written once over a ``Source`` of sums (``flows.reports.sources``).

Reports read the rollups (``ROLLUPS``): their cost grows with the days and months in the period, not the orders
in it. Passing ``source=ORDER_LINES`` runs the same report over the order lines, the reference the rollups are
held to. Sales exclude cancelled orders and value a line at ``total``, or ``quantity × unit_price`` where the
total is still missing, so the figures are right before normalize has filled the totals in. Rankings sort on
the rounded money, then the key, so ties come out the same from either source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.engine import Connection

from core.store.models import Customer, IngestBatch, Product, Quarantine
from core.vocabulary import REGIONS
from flows.reports.sources import CANCELLED, REVENUE, ROLLUPS, Cell, Source, Window

_c = Customer.__table__  # type: ignore[attr-defined]
_p = Product.__table__  # type: ignore[attr-defined]
_q = Quarantine.__table__  # type: ignore[attr-defined]
_b = IngestBatch.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QueryOutput:
    """Columns and rows of one report, plus the data-quality score where there is one."""

    columns: list[str]
    rows: list[list[Cell]]
    score: float | None = None


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


def _share(part: float, whole: float) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def sales_by_region(conn: Connection, window: Window, source: Source = ROLLUPS) -> QueryOutput:
    """Orders, units and revenue per region, with each region's share of revenue."""
    found = {str(key): (n, u, _money(rev)) for key, n, u, rev in source.grouped(conn, window, "region")}
    wanted = [window.region] if window.region else list(REGIONS)
    for region in wanted:
        found.setdefault(region, (0, 0, 0.0))
    total = sum(item[2] for item in found.values())
    ordered = sorted(found.items(), key=lambda kv: (-kv[1][2], kv[0]))
    rows: list[list[Cell]] = [[k, n, u, rev, _share(rev, total)] for k, (n, u, rev) in ordered]
    return QueryOutput(["region", "orders", "units", "revenue", "share_pct"], rows)


def _ranked(groups: list[tuple[Any, int, int, float]], limit: int) -> list[tuple[Any, int, int, float]]:
    """The top ``limit`` groups by revenue to the cent, then key."""
    return sorted(groups, key=lambda group: (-_money(group[3]), group[0]))[:limit]


def sales_by_product(conn: Connection, window: Window, source: Source = ROLLUPS) -> QueryOutput:
    """The best-selling products by revenue (top ``limit``)."""
    top = _ranked(source.grouped(conn, window, "sku"), window.limit)
    names: dict[str, str] = dict(
        conn.execute(select(_p.c.sku, _p.c.name).where(_p.c.sku.in_([g[0] for g in top]))).all()
    )
    rows: list[list[Cell]] = [[str(sku), names.get(sku), n, u, _money(rev)] for sku, n, u, rev in top]
    return QueryOutput(["sku", "product", "orders", "units", "revenue"], rows)


def top_customers(conn: Connection, window: Window, source: Source = ROLLUPS) -> QueryOutput:
    """The customers with the most revenue (top ``limit``)."""
    top = _ranked(source.grouped(conn, window, "customer_id"), window.limit)
    query = select(_c.c.id, _c.c.name, _c.c.region).where(_c.c.id.in_([g[0] for g in top]))
    known = {row[0]: (row[1], row[2]) for row in conn.execute(query)}
    rows: list[list[Cell]] = [
        [int(key), *known.get(key, (None, None)), n, _money(rev)] for key, n, _, rev in top
    ]
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


def revenue_trend(conn: Connection, window: Window, source: Source = ROLLUPS) -> QueryOutput:
    """Orders and revenue per day, week (starting Monday) or month, with empty buckets as zero."""
    granularity = trend_granularity(window)
    buckets: dict[date, list[float]] = {}
    day = window.start
    while day <= window.end:
        buckets.setdefault(_bucket(day, granularity), [0, 0.0])
        day += timedelta(days=1)
    for order_date, count, _, revenue in source.grouped(conn, window, "order_date"):
        slot = buckets[_bucket(order_date, granularity)]
        slot[0] += count
        slot[1] += revenue
    rows: list[list[Cell]] = [
        [_label(key, granularity), int(value[0]), _money(value[1])] for key, value in sorted(buckets.items())
    ]
    return QueryOutput([granularity, "orders", "revenue"], rows)


def order_status(conn: Connection, window: Window, source: Source = ROLLUPS) -> QueryOutput:
    """Orders and value per status (cancelled included), with each status's share of the orders."""
    found = [
        (str(key), n, _money(rev)) for key, n, _, rev in source.grouped(conn, window, "status", sales=False)
    ]
    total = sum(count for _, count, _ in found)
    ordered = sorted(found, key=lambda item: (-item[1], item[0]))
    rows: list[list[Cell]] = [[s, n, rev, _share(n, total)] for s, n, rev in ordered]
    return QueryOutput(["status", "orders", "revenue", "share_pct"], rows)


def _quality_rows(conn: Connection, window: Window, source: Source) -> list[tuple[str, int, int]]:
    orders = source.order_checks(conn, window)
    n_orders = orders.orders

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
        ("orders_missing_total", orders.missing_total, n_orders),
        ("orders_unknown_customer", orders.unknown_customer, n_orders),
        ("orders_unknown_product", orders.unknown_product, n_orders),
        ("customers_unnormalised_email", unnormalised, n_customers),
        ("customers_duplicate_email", duplicates, n_customers),
        ("quarantined_rows", quarantined, quarantined + int(loaded or 0)),
    ]


def data_quality(conn: Connection, window: Window, source: Source = ROLLUPS) -> QueryOutput:
    """Share of problem rows per check, and a score: 1 minus the mean share (1.0 = nothing wrong).

    Order checks cover the window's orders (cancelled included); customer checks cover every customer (of the
    region, when one is given); quarantine counts rows rejected by ingests run in the window, against all rows
    those ingests read.
    """
    checks = _quality_rows(conn, window, source)
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


__all__ = [
    "CANCELLED",
    "QUERIES",
    "REVENUE",
    "Cell",
    "QueryOutput",
    "Window",
    "chart_series",
    "data_quality",
    "order_status",
    "revenue_trend",
    "sales_by_product",
    "sales_by_region",
    "top_customers",
]
