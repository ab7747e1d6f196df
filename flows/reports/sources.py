"""Where reports get their sums: the rollups (``ROLLUPS``, what reports use) or the order lines (``ORDER_LINES``).

Both answer the same questions, so a report is written once over either:

- ``grouped(conn, window, key, sales=…)``: (key, orders, units, revenue) per region, day, status, sku or customer
  in the window, without cancelled orders when ``sales``;
- ``order_checks(conn, window)``: the window's orders, those missing a total, and those whose customer or product
  is unknown.

The order lines are the reference: a property test holds the rollups to them (tests/flows/test_rollups.py), and
``switchboard rollups check`` compares the stored sums. Their cost grows with the orders in the window; the
rollups' with the days and months in it. A period reads whole months from the month rows and only its ragged
ends from the day rows (``split``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, Select, Table, and_, case, false, func, literal, select, union_all
from sqlalchemy.engine import Connection

from core.store.models import Customer, Order, Product
from core.store.rollup_tables import RollupCustomer, RollupDay, RollupSku

CANCELLED = "cancelled"
Cell = str | int | float | bool | None
Key = Literal["region", "order_date", "status", "sku", "customer_id"]

_o = Order.__table__  # type: ignore[attr-defined]
_c = Customer.__table__  # type: ignore[attr-defined]
_p = Product.__table__  # type: ignore[attr-defined]
_day: Table = RollupDay.__table__  # type: ignore[attr-defined]
_sku: Table = RollupSku.__table__  # type: ignore[attr-defined]
_customer: Table = RollupCustomer.__table__  # type: ignore[attr-defined]

REVENUE: ColumnElement[Any] = func.coalesce(_o.c.total, _o.c.quantity * _o.c.unit_price)
"""What an order line is worth: its total, or quantity × unit price while the total is missing."""


@dataclass(frozen=True)
class Window:
    """What a report covers: inclusive dates, an optional region and a row limit."""

    start: date
    end: date
    region: str | None = None
    limit: int = 10


Group = tuple[Any, int, int, float]
"""(key, orders, units, revenue)."""


@dataclass(frozen=True)
class OrderChecks:
    """Counts behind data quality's order checks (cancelled orders included)."""

    orders: int
    missing_total: int
    unknown_customer: int
    unknown_product: int


class Source(Protocol):
    """Sums of the orders in a window, grouped by one key."""

    def grouped(self, conn: Connection, window: Window, key: Key, *, sales: bool = True) -> list[Group]:
        """(key, orders, units, revenue) per value of ``key``; without cancelled orders when ``sales``."""
        ...

    def order_checks(self, conn: Connection, window: Window) -> OrderChecks:
        """The window's orders, those missing a total, and those of unknown customers or products."""
        ...


def _groups(conn: Connection, query: Select[Any]) -> list[Group]:
    return [(row[0], int(row[1]), int(row[2] or 0), float(row[3] or 0)) for row in conn.execute(query)]


class OrderLines:
    """Groups the order lines themselves (the reference; its cost grows with the orders in the window)."""

    def _where(self, window: Window, *, sales: bool) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [_o.c.order_date.between(window.start, window.end)]
        if sales:
            conditions.append(_o.c.status != CANCELLED)
        if window.region:
            conditions.append(_o.c.region == window.region)
        return conditions

    def grouped(self, conn: Connection, window: Window, key: Key, *, sales: bool = True) -> list[Group]:
        """Orders, units and revenue per ``key`` value."""
        column = _o.c[key]
        query = (
            select(column, func.count(), func.sum(_o.c.quantity), func.sum(REVENUE))
            .where(*self._where(window, sales=sales))
            .group_by(column)
        )
        return _groups(conn, query)

    def order_checks(self, conn: Connection, window: Window) -> OrderChecks:
        """Orders, missing totals, unknown customers and products, joining each line to its references."""
        query = (
            select(
                func.count(),
                func.sum(case((_o.c.total.is_(None), 1), else_=0)),
                func.sum(case((_c.c.id.is_(None), 1), else_=0)),
                func.sum(case((_p.c.sku.is_(None), 1), else_=0)),
            )
            .select_from(_o.outerjoin(_c, _c.c.id == _o.c.customer_id).outerjoin(_p, _p.c.sku == _o.c.sku))
            .where(*self._where(window, sales=False))
        )
        return OrderChecks(*(int(value or 0) for value in conn.execute(query).one()))


def _month_end(day: date) -> date:
    if day.month == 12:
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - timedelta(days=1)


def split(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole months inside [start, end] (as first-of-month bounds) and the day ranges left at either end."""
    first = start if start.day == 1 else _month_end(start) + timedelta(days=1)
    last = end if end == _month_end(end) else end.replace(day=1) - timedelta(days=1)
    if first > last:
        return None, [(start, end)]
    edges = [
        (a, b) for a, b in ((start, first - timedelta(days=1)), (last + timedelta(days=1), end)) if a <= b
    ]
    return (first, last.replace(day=1)), edges


class Rollups:
    """Reads the rollups (``core.store.rollups`` keeps them current); cost grows with days, not orders."""

    def _buckets(self, table: Table, window: Window, *, sales: bool, columns: list[Any]) -> Any:
        """The rollup rows of the window, whole months from the month grain and the ends from the day grain."""
        months, days = split(window.start, window.end)
        filters: list[ColumnElement[bool]] = []
        if sales:
            filters.append(table.c.cancelled == false())
        if window.region:
            filters.append(table.c.region == window.region)
        parts = [
            (grain, a, b) for grain, (a, b) in ([("m", months)] if months else []) + [("d", d) for d in days]
        ]
        return union_all(
            *(
                select(*columns).where(table.c.grain == grain, table.c.bucket.between(a, b), *filters)
                for grain, a, b in parts
            )
        ).subquery()

    def grouped(self, conn: Connection, window: Window, key: Key, *, sales: bool = True) -> list[Group]:
        """Orders, units and revenue per ``key`` value (units are not kept per customer: 0)."""
        if key in ("region", "order_date", "status"):
            column = _day.c.day if key == "order_date" else _day.c[key]
            conditions: list[ColumnElement[bool]] = [_day.c.day.between(window.start, window.end)]
            if sales:
                conditions.append(_day.c.status != CANCELLED)
            if window.region:
                conditions.append(_day.c.region == window.region)
            query = (
                select(column, func.sum(_day.c.orders), func.sum(_day.c.units), func.sum(_day.c.revenue))
                .where(*conditions)
                .group_by(column)
            )
        else:
            table = _sku if key == "sku" else _customer
            units = table.c.units if key == "sku" else literal(0).label("units")
            rows = self._buckets(
                table, window, sales=sales, columns=[table.c[key], table.c.orders, units, table.c.revenue]
            )
            query = select(
                rows.c[key], func.sum(rows.c.orders), func.sum(rows.c.units), func.sum(rows.c.revenue)
            )
            query = query.group_by(rows.c[key])
        # Buckets emptied by later changes keep a row of zeros; they are no group.
        return [group for group in _groups(conn, query) if group[1]]

    def order_checks(self, conn: Connection, window: Window) -> OrderChecks:
        """Orders and missing totals from the day rollup; unknown references by joining the few keys left."""
        conditions: list[ColumnElement[bool]] = [_day.c.day.between(window.start, window.end)]
        if window.region:
            conditions.append(_day.c.region == window.region)
        orders, missing = conn.execute(
            select(func.sum(_day.c.orders), func.sum(_day.c.missing_total)).where(*conditions)
        ).one()
        unknown = []
        for table, key, reference in ((_customer, "customer_id", _c.c.id), (_sku, "sku", _p.c.sku)):
            rows = self._buckets(table, window, sales=False, columns=[table.c[key], table.c.orders])
            query = (
                select(func.sum(rows.c.orders))
                .select_from(rows.outerjoin(reference.table, reference == rows.c[key]))
                .where(and_(reference.is_(None)))
            )
            unknown.append(int(conn.execute(query).scalar_one() or 0))
        return OrderChecks(int(orders or 0), int(missing or 0), *unknown)


ORDER_LINES: Source = OrderLines()
ROLLUPS: Source = Rollups()

__all__ = [
    "CANCELLED",
    "ORDER_LINES",
    "REVENUE",
    "ROLLUPS",
    "Cell",
    "OrderChecks",
    "Source",
    "Window",
    "split",
]
