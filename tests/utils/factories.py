"""A small deterministic data factory: a handful of customers, products and orders inserted with Core.

The rows are chosen so every report, export and rule has a value you can work out by hand (reference date
2026-11-22). ``seed_basic`` loads the standard set; the ``insert_*`` helpers load any rows you pass, filling
the columns you leave out with neutral defaults.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from core.store.db import make_engine, utcnow, write_session
from core.store.models import Customer, Order, Product
from core.store.schema import init_db

CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"id": 1, "name": "Acme Logistics", "email": "acme@example.com", "region": "emea", "country": "DE"},
    {
        "id": 2,
        "name": "Borealis Trading",
        "email": " Sales@Borealis.example ",
        "region": "apac",
        "country": "JP",
    },
    {"id": 3, "name": "Cobalt Supplies", "email": "cobalt@example.com", "region": "latam", "country": "BR"},
    {
        "id": 4,
        "name": "Delta Freight",
        "email": "delta@example.com",
        "region": "north_america",
        "country": "US",
    },
    {"id": 5, "name": "Acme Logistics GmbH", "email": "ACME@example.com", "region": "emea", "country": "AT"},
)
"""Customer 2 has a padded, mixed-case email; customer 5 duplicates customer 1's email once normalised."""

PRODUCTS: tuple[dict[str, Any], ...] = (
    {"sku": "A100X", "name": "Widget A100X", "category": "widgets", "unit_price": 10.0},
    {"sku": "B200", "name": "Bracket B200", "category": "hardware", "unit_price": 25.0},
    {"sku": "C-55", "name": "Cable C-55", "category": "cables", "unit_price": 4.5},
)

ORDERS: tuple[dict[str, Any], ...] = (
    # last_30_days on 2026-11-22 is 2026-10-24..2026-11-22
    {
        "id": 1,
        "customer_id": 1,
        "sku": "A100X",
        "quantity": 10,
        "unit_price": 10.0,
        "total": 100.0,
        "region": "emea",
        "order_date": date(2026, 11, 20),
        "status": "shipped",
    },
    {
        "id": 2,
        "customer_id": 1,
        "sku": "B200",
        "quantity": 4,
        "unit_price": 25.0,
        "total": None,
        "region": "emea",
        "order_date": date(2026, 11, 21),
        "status": "open",
    },
    {
        "id": 3,
        "customer_id": 2,
        "sku": "C-55",
        "quantity": 100,
        "unit_price": 4.5,
        "total": 450.0,
        "region": "apac",
        "order_date": date(2026, 11, 1),
        "status": "invoiced",
    },
    {
        "id": 4,
        "customer_id": 3,
        "sku": "A100X",
        "quantity": 5,
        "unit_price": 10.0,
        "total": 50.0,
        "region": "latam",
        "order_date": date(2026, 11, 10),
        "status": "cancelled",
    },
    {
        "id": 5,
        "customer_id": 4,
        "sku": "B200",
        "quantity": 20,
        "unit_price": 25.0,
        "total": 500.0,
        "region": "north_america",
        "order_date": date(2026, 10, 30),
        "status": "paid",
    },
    {
        "id": 6,
        "customer_id": 5,
        "sku": "A100X",
        "quantity": 3,
        "unit_price": 10.0,
        "total": 30.0,
        "region": "emea",
        "order_date": date(2026, 11, 22),
        "status": "open",
    },
    # older orders
    {
        "id": 7,
        "customer_id": 2,
        "sku": "B200",
        "quantity": 100,
        "unit_price": 25.0,
        "total": 2500.0,
        "region": "apac",
        "order_date": date(2026, 8, 15),
        "status": "invoiced",
    },
    {
        "id": 8,
        "customer_id": 1,
        "sku": "A100X",
        "quantity": 1000,
        "unit_price": 10.0,
        "total": 10000.0,
        "region": "emea",
        "order_date": date(2026, 3, 1),
        "status": "paid",
    },
    {
        "id": 9,
        "customer_id": 4,
        "sku": "C-55",
        "quantity": 10,
        "unit_price": 4.5,
        "total": None,
        "region": "north_america",
        "order_date": date(2025, 6, 1),
        "status": "paid",
    },
)
"""Order 2 and 9 miss their total; order 4 is cancelled; order 7 is invoiced and 99 days old on 2026-11-22."""


@dataclass(frozen=True)
class Seeded:
    """What ``seed_basic`` inserted."""

    customers: int
    products: int
    orders: int


def _with_defaults(rows: Iterable[Mapping[str, Any]], defaults: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**defaults, **row} for row in rows]


def insert_customers(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert customers (Core executemany); missing columns get neutral defaults."""
    data = _with_defaults(
        rows,
        {"country": None, "credit_limit": None, "tier": None, "credit_hold": False, "created_at": utcnow()},
    )
    with write_session(engine) as session:
        session.execute(Customer.__table__.insert(), data)  # type: ignore[attr-defined]
    return len(data)


def insert_products(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert products (Core executemany)."""
    data = _with_defaults(rows, {"category": None, "price_tier": "standard"})
    with write_session(engine) as session:
        session.execute(Product.__table__.insert(), data)  # type: ignore[attr-defined]
    return len(data)


def insert_orders(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert orders (Core executemany)."""
    data = _with_defaults(rows, {"total": None, "status": "open"})
    with write_session(engine) as session:
        session.execute(Order.__table__.insert(), data)  # type: ignore[attr-defined]
    return len(data)


def seed_basic(
    engine: Engine, *, customer_overrides: Mapping[int, Mapping[str, Any]] | None = None
) -> Seeded:
    """Insert the standard five customers, three products and nine orders.

    Args:
        engine: Target database (schema already created).
        customer_overrides: Per customer id, columns to change (e.g. ``{4: {"credit_hold": True}}``).
    """
    overrides = customer_overrides or {}
    customers = [{**row, **overrides.get(row["id"], {})} for row in CUSTOMERS]
    return Seeded(
        customers=insert_customers(engine, customers),
        products=insert_products(engine, PRODUCTS),
        orders=insert_orders(engine, ORDERS),
    )


@contextmanager
def seeded_database(folder: Path, postgres_url: str | None = None) -> Iterator[Engine]:
    """A database of its own holding ``seed_basic``'s rows, for module-scoped read-mostly fixtures.

    Args:
        folder: Where the SQLite file goes (when no PostgreSQL URL is given).
        postgres_url: The session's PostgreSQL test database; the tables then live in a schema of their own
            (much cheaper to create and drop than a database), so tests that reset the shared tables cannot
            disturb them.
    """
    schema = f"seeded_{uuid.uuid4().hex[:10]}"
    if postgres_url is None:
        engine = make_engine(f"sqlite:///{folder / 'seeded.db'}")
    else:
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        engine = make_engine(f"{postgres_url}?options=-csearch_path%3D{schema}")
    try:
        init_db(engine)
        seed_basic(engine)
        yield engine
    finally:
        engine.dispose()
        if postgres_url is not None:
            with psycopg.connect(_libpq(postgres_url), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
