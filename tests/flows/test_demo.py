"""The demo distributor: deterministic data with the promised shape, loaded fast, plus usable inbox files."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.store.db import read_session
from core.store.models import Customer, Order, Product
from flows.demo.data import first_order_day, load_demo, make_customers, make_orders, make_products
from flows.ingest.pipeline import ingest_file
from flows.ingest.readers import open_rows
from switchboard.settings import Settings

TODAY = date(2026, 11, 22)


def generate(seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    customers, products = make_customers(rng), make_products(rng)
    for row in customers:
        row.pop("created_at")
    return customers, products, make_orders(rng, customers, products, TODAY)


def test_same_seed_same_data_and_another_seed_differs() -> None:
    assert generate(7) == generate(7)
    assert generate(7)[2] != generate(8)[2]


def test_generated_data_has_the_promised_shape() -> None:
    customers, products, orders = generate(7)
    assert len(customers) == 500
    assert customers[0]["name"] != "" and any(c["name"] == "Acme Logistics" for c in customers)
    assert {c["region"] for c in customers} == {"emea", "apac", "latam", "north_america"}
    by_email = Counter(c["email"].strip().lower() for c in customers)
    assert sum(count - 1 for count in by_email.values()) == 15
    messy = [c for c in customers if c["email"] != c["email"].strip().lower()]
    assert any(c["email"] != c["email"].strip() for c in messy) and any(c["email"].isupper() for c in messy)
    skus = {p["sku"] for p in products}
    assert len(products) == 40 and {"A100X", "B200", "C-55"} <= skus
    assert {p["price_tier"] for p in products} == {"economy", "standard", "premium"}
    assert len(orders) == 20_000
    assert orders[0]["order_date"] >= first_order_day(TODAY) == date(2025, 5, 23)
    assert orders[-1]["order_date"] <= TODAY
    assert {o["status"] for o in orders} == {"open", "shipped", "invoiced", "paid", "cancelled"}
    missing = sum(1 for o in orders if o["total"] is None)
    assert 0.01 * len(orders) < missing < 0.03 * len(orders)
    region_of = {c["id"]: c["region"] for c in customers}
    assert all(o["region"] == region_of[o["customer_id"]] for o in orders)
    assert all(o["total"] is None or o["total"] == round(o["quantity"] * o["unit_price"], 2) for o in orders)


def test_load_demo_fills_the_database_and_the_inbox(any_engine: Engine, settings: Settings) -> None:
    summary = load_demo(engine=any_engine, settings=settings, today=TODAY, seed=7)
    assert (summary.customers, summary.products, summary.orders, summary.duplicate_customers) == (
        500,
        40,
        20_000,
        15,
    )
    with read_session(any_engine) as session:

        def count(model: Any) -> int:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())

        assert (count(Customer), count(Product), count(Order)) == (500, 40, 20_000)
        mismatched = session.execute(
            select(func.count())
            .select_from(Order)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Customer.region != Order.region)
        ).scalar_one()
        assert mismatched == 0
        first, last = session.execute(select(func.min(Order.order_date), func.max(Order.order_date))).one()
        assert (first, last) == (summary.first_order_date, summary.last_order_date)
    assert sorted(p.name for p in settings.inbox.iterdir()) == [
        "customers_update.xlsx",
        "orders_bad.csv",
        "orders_today.csv",
        "products.json",
    ]
    results = {
        name: ingest_file(engine=any_engine, settings=settings, path=name, dataset=dataset).describe()
        for name, dataset in (
            ("orders_today.csv", "orders"),
            ("customers_update.xlsx", "customers"),
            ("products.json", "products"),
            ("orders_bad.csv", "orders"),
        )
    }
    assert results == {
        "orders_today.csv": "Loaded 50 orders from orders_today.csv (batch 1).",
        "customers_update.xlsx": "Loaded 21 customers from customers_update.xlsx (batch 2).",
        "products.json": "Loaded 5 products from products.json (batch 3).",
        "orders_bad.csv": "Loaded 6 orders from orders_bad.csv; 4 rows quarantined (batch 4).",
    }


def test_todays_orders_are_dated_today_with_fresh_ids(engine: Engine, settings: Settings) -> None:
    load_demo(engine=engine, settings=settings, today=TODAY)
    with open_rows(settings.inbox / "orders_today.csv", "csv", name="orders_today.csv") as source:
        rows = [dict(zip(source.columns or [], values, strict=True)) for _, values, _ in source.rows]
    assert len(rows) == 50
    assert {row["order_date"] for row in rows} == {TODAY.isoformat()}
    assert min(int(row["id"]) for row in rows) == 20_001
    assert sum(1 for row in rows if row["total"] == "") == 2
    products = json.loads((settings.inbox / "products.json").read_text())
    assert [p["sku"] for p in products] == ["J100X", "J200", "J-55", "K300", "K-10"]


def test_reload_resets_and_keep_leaves_data(engine: Engine, settings: Settings) -> None:
    load_demo(engine=engine, settings=settings, today=TODAY)
    ingest_file(engine=engine, settings=settings, path="orders_today.csv", dataset="orders")
    kept = load_demo(engine=engine, settings=settings, today=TODAY, reset=False)
    assert kept.kept_existing and kept.describe().startswith("Kept the existing data; wrote orders_today.csv")
    with read_session(engine) as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 20_050
    again = load_demo(engine=engine, settings=settings, today=TODAY)
    assert not again.kept_existing
    with read_session(engine) as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 20_000
    assert (
        ingest_file(engine=engine, settings=settings, path="orders_today.csv", dataset="orders").rows_loaded
        == 50
    )
