"""Pricing with bulk_discount: discounts, quotes, order creation and credit-hold refusal."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.errors import BadInput, Forbidden, NotFound
from core.store.models import Order
from flows.config import BulkDiscount, Rulesets
from flows.sales.pricing import create_order, discount_for, order_value, quote_price
from tests.utils.factories import seed_basic

TODAY = date(2026, 11, 22)
RULES = Rulesets(bulk_discount=BulkDiscount(version="2026.1"))
_o = Order.__table__  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("quantity", "tier", "expected"),
    [
        (1, None, "0"),
        (99, None, "0"),
        (100, None, "0.05"),
        (999, None, "0.10"),
        (1000, None, "0.15"),
        (1, "gold", "0.03"),
        (100, "gold", "0.08"),
        (500, "silver", "0.11"),
        (100, "bronze", "0.05"),
    ],
)
def test_discount_for(quantity: int, tier: str | None, expected: str) -> None:
    assert discount_for(rules=RULES.bulk_discount, quantity=quantity, tier=tier) == Decimal(expected)


def test_quote_price(any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={2: {"tier": "gold"}})
    quote = quote_price(engine=any_engine, rulesets=RULES, client_id=1, sku=" a100x ", quantity=100)
    assert quote.model_dump() == {
        "client_id": 1,
        "customer": "Acme Logistics",
        "tier": None,
        "sku": "A100X",
        "product": "Widget A100X",
        "quantity": 100,
        "list_price": 10.0,
        "discount_pct": 5.0,
        "unit_price": 9.5,
        "line_total": 950.0,
        "rule_version": "2026.1",
    }
    assert quote.summary == (
        "100 × A100X for Acme Logistics (#1): 9.50 each after 5% off 10.00, total 950.00 "
        "(bulk_discount 2026.1)."
    )
    gold = quote_price(engine=any_engine, rulesets=RULES, client_id=2, sku="B200", quantity=500)
    assert (gold.discount_pct, gold.unit_price, gold.line_total) == (13.0, 21.75, 10875.0)
    # 4.50 × 0.95 = 4.275 rounds half-up to 4.28 per unit
    cable = quote_price(engine=any_engine, rulesets=RULES, client_id=1, sku="C-55", quantity=100)
    assert (cable.unit_price, cable.line_total) == (4.28, 428.0)
    assert order_value(engine=any_engine, rulesets=RULES, client_id=2, sku="B200", quantity=500) == 10875.0


def test_unknown_customer_sku_and_bad_quantity(engine: Engine) -> None:
    seed_basic(engine)
    with pytest.raises(NotFound, match="customer 999 does not exist"):
        quote_price(engine=engine, rulesets=RULES, client_id=999, sku="A100X", quantity=1)
    with pytest.raises(NotFound, match=r"unknown product 'A10X'; did you mean A100X\?"):
        quote_price(engine=engine, rulesets=RULES, client_id=1, sku="a10x", quantity=1)
    with pytest.raises(NotFound, match=r"^unknown product 'ZZZZZZ'$"):
        quote_price(engine=engine, rulesets=RULES, client_id=1, sku="zzzzzz", quantity=1)
    with pytest.raises(BadInput, match="quantity must be at least 1, got 0"):
        quote_price(engine=engine, rulesets=RULES, client_id=1, sku="A100X", quantity=0)


def test_create_order(any_engine: Engine) -> None:
    seed_basic(any_engine)
    created = create_order(
        engine=any_engine, rulesets=RULES, client_id=4, sku="b200", quantity=120, today=TODAY, actor="ana"
    )
    assert (created.order_id, created.region, created.status, created.order_date) == (
        10,
        "north_america",
        "open",
        TODAY,
    )
    with any_engine.connect() as conn:
        row = conn.execute(select(_o).where(_o.c.id == 10)).one()._asdict()
    assert row == {
        "id": 10,
        "customer_id": 4,
        "sku": "B200",
        "quantity": 120,
        "unit_price": 23.75,
        "total": 2850.0,
        "region": "north_america",
        "order_date": TODAY,
        "status": "open",
    }
    second = create_order(engine=any_engine, rulesets=RULES, client_id=1, sku="C-55", quantity=1, today=TODAY)
    assert second.order_id == 11


def test_credit_hold_refuses_orders(any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={2: {"credit_hold": True}})
    with pytest.raises(
        Forbidden, match=r"customer 2 \(Borealis Trading\) is on credit hold, so new orders are "
    ):
        create_order(engine=any_engine, rulesets=RULES, client_id=2, sku="B200", quantity=1, today=TODAY)
    with any_engine.connect() as conn:
        assert conn.execute(select(_o.c.id).order_by(_o.c.id.desc()).limit(1)).scalar_one() == 9


def test_concurrent_orders_get_distinct_ids(any_engine: Engine) -> None:
    seed_basic(any_engine)
    ids: list[int] = []
    errors: list[BaseException] = []

    def place() -> None:
        try:
            order = create_order(
                engine=any_engine, rulesets=RULES, client_id=1, sku="B200", quantity=1, today=TODAY
            )
            ids.append(order.order_id)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=place) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(ids) == list(range(10, 16))
