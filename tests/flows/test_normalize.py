"""Normalize: the configured rules, dedupe re-pointing orders, dry runs that write nothing, idempotence."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.errors import ConfigError, NotFound
from core.store.audit import AuditLog
from core.store.db import read_session, utcnow, write_session
from core.store.models import Customer, Order, Product
from flows.config import NormalizeRules
from flows.rules.normalize import normalize_dataset
from switchboard.settings import Settings


def customer(id_: int, email: str, name: str = "Acme", region: str = "emea") -> dict[str, Any]:
    return {
        "id": id_,
        "name": name,
        "email": email,
        "region": region,
        "country": None,
        "credit_limit": None,
        "tier": None,
        "credit_hold": False,
        "created_at": utcnow(),
    }


def order(
    id_: int, customer_id: int, quantity: int = 2, unit_price: float = 2.5, total: float | None = None
) -> dict[str, Any]:
    return {
        "id": id_,
        "customer_id": customer_id,
        "sku": "A100X",
        "quantity": quantity,
        "unit_price": unit_price,
        "total": total,
        "region": "emea",
        "order_date": date(2026, 11, 1),
        "status": "open",
    }


def load(engine: Engine, customers: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
    with write_session(engine) as session:
        session.execute(Order.__table__.delete())
        session.execute(Customer.__table__.delete())
        if customers:
            session.execute(Customer.__table__.insert(), customers)
        if orders:
            session.execute(Order.__table__.insert(), orders)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with read_session(engine) as session:
        return {
            "customers": [
                tuple(r)
                for r in session.execute(
                    select(Customer.id, Customer.name, Customer.email).order_by(Customer.id)
                )
            ],
            "orders": [
                tuple(r)
                for r in session.execute(select(Order.id, Order.customer_id, Order.total).order_by(Order.id))
            ],
        }


def test_customers_are_trimmed_lowercased_and_deduplicated(any_engine: Engine, settings: Settings) -> None:
    load(
        any_engine,
        [
            customer(5, " B@X.com "),
            customer(3, "b@x.com", name=" Bee "),
            customer(9, "c@y.com"),
            customer(7, "B@x.COM"),
        ],
        [order(1, 5), order(2, 7), order(3, 9), order(4, 3)],
    )
    report = normalize_dataset(engine=any_engine, settings=settings, dataset="customers", actor="alice")
    assert (
        report.describe()
        == "Normalized customers: 3 rows changed, 2 duplicates removed (2 orders re-pointed)."
    )
    assert [(r.rule, r.field, r.rows_changed, r.duplicates_removed) for r in report.rules] == [
        ("trim", "name", 1, 0),
        ("trim", "email", 1, 0),
        ("lowercase", "email", 2, 0),
        ("dedupe_by", "email", 2, 2),
    ]
    assert [(e.key, e.before, e.after) for e in report.rules[2].examples] == [
        (5, "B@X.com", "b@x.com"),
        (7, "B@x.COM", "b@x.com"),
    ]
    assert [(e.key, e.after) for e in report.rules[3].examples] == [
        (5, "merged into 3"),
        (7, "merged into 3"),
    ]
    assert snapshot(any_engine) == {
        "customers": [(3, "Bee", "b@x.com"), (9, "Acme", "c@y.com")],
        "orders": [(1, 3, None), (2, 3, None), (3, 9, None), (4, 3, None)],
    }
    (event,) = [rec for rec in AuditLog(any_engine).iter_records() if rec.event == "normalize.applied"]
    assert (event.actor, event.subject) == ("alice", "dataset:customers")


def test_dry_run_reports_the_same_and_writes_nothing(any_engine: Engine, settings: Settings) -> None:
    load(
        any_engine,
        [customer(1, " A@X.com"), customer(2, "a@x.com"), customer(3, "z@z.com ")],
        [order(1, 2), order(2, 1, total=None)],
    )
    before = snapshot(any_engine)
    dry = normalize_dataset(engine=any_engine, settings=settings, dataset="customers", dry_run=True)
    assert snapshot(any_engine) == before
    assert dry.describe() == (
        "A dry run on customers found that 2 rows would change and 1 duplicate would be merged away, moving "
        "1 order; nothing was written."
    )
    real = normalize_dataset(engine=any_engine, settings=settings, dataset="customers")
    assert dry.model_dump(exclude={"dry_run"}) == real.model_dump(exclude={"dry_run"})
    assert snapshot(any_engine) != before


def test_orders_get_missing_totals(engine: Engine, settings: Settings) -> None:
    load(
        engine,
        [],
        [order(1, 1, quantity=3, unit_price=1.1), order(2, 1, total=99.0), order(3, 1, quantity=7)],
    )
    report = normalize_dataset(engine=engine, settings=settings, dataset="orders")
    assert report.describe() == "Normalized orders: 2 rows changed."
    assert snapshot(engine)["orders"] == [(1, 1, 3.3), (2, 1, 99.0), (3, 1, 17.5)]
    assert normalize_dataset(engine=engine, settings=settings, dataset="orders").describe() == (
        "Orders are already normalized (3 rows checked)."
    )


def test_products_names_are_trimmed(engine: Engine, settings: Settings) -> None:
    with write_session(engine) as session:
        session.execute(
            Product.__table__.insert(),
            [
                {
                    "sku": "A100X",
                    "name": " Hex Bolt ",
                    "category": None,
                    "unit_price": 1.0,
                    "price_tier": "standard",
                }
            ],
        )
    report = normalize_dataset(engine=engine, settings=settings, dataset="products")
    assert [(e.key, e.before, e.after) for e in report.rules[0].examples] == [
        ("A100X", " Hex Bolt ", "Hex Bolt")
    ]


def test_bad_rules_and_datasets_are_errors(engine: Engine, settings: Settings) -> None:
    with pytest.raises(NotFound, match="unknown dataset 'invoices'"):
        normalize_dataset(engine=engine, settings=settings, dataset="invoices")
    broken = settings.model_copy(update={"normalize": {"customers": NormalizeRules(trim=["nickname"])}})
    with pytest.raises(
        ConfigError, match="normalize.customers names column 'nickname', which customers does not"
    ):
        normalize_dataset(engine=engine, settings=broken, dataset="customers")
    numeric = settings.model_copy(update={"normalize": {"orders": NormalizeRules(lowercase=["quantity"])}})
    with pytest.raises(ConfigError, match="normalize.orders: 'quantity' is not a text column"):
        normalize_dataset(engine=engine, settings=numeric, dataset="orders")
    none = settings.model_copy(update={"normalize": {}})
    assert normalize_dataset(engine=engine, settings=none, dataset="orders").describe() == (
        "No normalisation rules are configured for orders; nothing to do."
    )


_ALPHABET = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_messy = st.builds(
    lambda pad_l, text, pad_r, upper: pad_l + (text.upper() if upper else text) + pad_r,
    st.sampled_from(["", " ", "  ", "\t", "\u00a0"]),
    st.text(_ALPHABET, min_size=0, max_size=8),
    st.sampled_from(["", " ", "\n", "\u2003"]),
    st.booleans(),
)
_emails = st.one_of(
    _messy, st.sampled_from(["a@x.com", " A@X.COM", "a@x.com  ", "B@Y.org", "ß@x.com", "SS@X.COM"])
)


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    emails=st.lists(st.tuples(_emails, _messy), min_size=0, max_size=12),
    orders=st.lists(
        st.tuples(
            st.integers(0, 11),
            st.integers(1, 500),
            st.floats(0, 1000, allow_nan=False, width=32),
            st.booleans(),
        ),
        max_size=15,
    ),
)
def test_normalize_twice_equals_normalize_once(
    any_engine: Engine,
    settings: Settings,
    emails: list[tuple[str, str]],
    orders: list[tuple[int, int, float, bool]],
) -> None:
    customers = [customer(100 + n, email, name=name) for n, (email, name) in enumerate(emails)]
    order_rows = [
        order(
            n + 1, 100 + who, quantity=qty, unit_price=price, total=None if missing else round(qty * price, 2)
        )
        for n, (who, qty, price, missing) in enumerate(orders)
    ]
    load(any_engine, customers, order_rows)
    for dataset in ("customers", "orders"):
        normalize_dataset(engine=any_engine, settings=settings, dataset=dataset)
    once = snapshot(any_engine)
    for dataset in ("customers", "orders"):
        again = normalize_dataset(engine=any_engine, settings=settings, dataset=dataset)
        assert not again.changed, again.rules
    assert snapshot(any_engine) == once
    keys = [email.strip().casefold() for _, _, email in once["customers"] if email.strip()]
    assert len(keys) == len(set(keys))
