"""The rollups agree with the order lines after any mix of ingests, normalizes, rules and hand-written changes.

The property: whatever sequence of changes reaches the orders, every report over the rollups equals the same
report over the order lines (``source=ORDER_LINES``), for periods of whole months, ragged ends and single days,
and ``rollups.check`` finds no bucket that differs. It runs on SQLite and PostgreSQL, where the triggers differ.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Table, func, select, text, true
from sqlalchemy.engine import Engine

from core.errors import BadInput
from core.store import rollups
from core.store.db import utcnow, write_session
from core.store.models import Customer, IngestBatch, Order, Product
from flows.config import NormalizeRules
from flows.ingest.pipeline import ingest_records
from flows.reports.queries import QUERIES
from flows.reports.sources import ORDER_LINES, ROLLUPS, Window, split
from flows.rules.normalize import normalize_dataset
from flows.rules.rulesets import apply_ruleset
from switchboard.settings import Settings

_orders: Table = Order.__table__  # type: ignore[attr-defined]
ONE_ORDER = {
    "customer_id": 1,
    "sku": "B200",
    "quantity": 2,
    "unit_price": 5.0,
    "total": None,
    "region": "emea",
    "order_date": date(2026, 3, 3),
    "status": "open",
}

TODAY = date(2026, 11, 22)
FIRST = date(2025, 10, 1)
SKUS = ("A100X", "B200", "C-55")
STATUSES = ("open", "shipped", "invoiced", "cancelled", " Cancelled", "Open")
REGIONS = ("emea", "apac", "latam", "EMEA")
WINDOWS = (
    (date(2025, 10, 1), date(2026, 11, 30)),  # whole months only
    (date(2025, 10, 17), date(2026, 3, 4)),  # ragged at both ends
    (date(2026, 2, 1), date(2026, 2, 20)),  # inside one month
    (date(2026, 1, 31), date(2026, 1, 31)),  # one day
    (date(2025, 12, 1), date(2026, 1, 15)),  # a whole month, then days
)
_ids = itertools.count(1)

orders = st.lists(
    st.fixed_dictionaries(
        {
            "customer_id": st.integers(1, 7),  # 6 and 7 are unknown customers
            "sku": st.sampled_from((*SKUS, "ZZ-9")),  # ZZ-9 is an unknown product
            "quantity": st.integers(1, 40),
            "unit_price": st.integers(1, 20_000).map(lambda cents: cents / 100),
            "total": st.none() | st.integers(1, 500_000).map(lambda cents: cents / 100),
            "region": st.sampled_from(REGIONS),
            "order_date": st.integers(0, 425).map(lambda days: FIRST + timedelta(days=days)),
            "status": st.sampled_from(STATUSES),
        }
    ),
    min_size=1,
    max_size=30,
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("ingest"), orders, st.sampled_from(("append", "append", "replace"))),
        st.tuples(st.just("normalize"), st.sampled_from(("orders", "customers"))),
        st.tuples(st.just("rules"), st.sampled_from(("vip_tiering", "credit_hold"))),
        st.tuples(
            st.just("sql"), st.sampled_from(("cancel", "reprice", "move", "delete")), st.integers(2, 5)
        ),
    ),
    min_size=1,
    max_size=6,
)
_SQL = {
    "cancel": "UPDATE \"order\" SET status = 'cancelled' WHERE id % :n = 0",
    "reprice": 'UPDATE "order" SET total = NULL, quantity = quantity + 1 WHERE id % :n = 1',
    "move": "UPDATE \"order\" SET customer_id = 1, sku = 'B200', region = 'apac' WHERE id % :n = 0",
    "delete": 'DELETE FROM "order" WHERE id % :n = 0',
}


def _reset(engine: Engine) -> None:
    customers = [
        {"id": i, "name": f"Customer {i}", "email": email, "region": "emea", "created_at": utcnow()}
        for i, email in enumerate(("a@x.io", " A@x.io", "b@x.io", "c@x.io", "B@X.IO "), start=1)
    ]
    products = [{"sku": sku, "name": f"Product {sku}", "unit_price": 9.5} for sku in SKUS]
    with write_session(engine) as session:
        for model in (Order, Customer, Product, IngestBatch):
            session.execute(model.__table__.delete())  # type: ignore[attr-defined]
        session.execute(Customer.__table__.insert(), customers)  # type: ignore[attr-defined]
        session.execute(Product.__table__.insert(), products)  # type: ignore[attr-defined]
        rollups.rebuild(session.connection())


def _apply(engine: Engine, settings: Settings, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "ingest":
        rows = [{"id": next(_ids), **row} for row in step[1]]
        try:
            ingest_records(engine=engine, records=rows, dataset="orders", mode=step[2])
        except BadInput:  # e.g. every id already present: nothing written, which the check also covers
            pass
    elif kind == "normalize":
        normalize_dataset(engine=engine, settings=settings, dataset=step[1])
    elif kind == "rules":
        apply_ruleset(engine=engine, rulesets=settings.rulesets, ruleset=step[1], today=TODAY)
    else:
        with write_session(engine) as session:
            session.execute(text(_SQL[step[1]]), {"n": step[2]})


@pytest.fixture
def rollup_settings(settings: Settings) -> Settings:
    # Normalize rewrites the columns the rollups are keyed by, so its UPDATEs go through the triggers too.
    rules = dict(settings.normalize)
    rules["orders"] = NormalizeRules(trim=["status"], lowercase=["status", "region"], fill_total=True)
    return settings.model_copy(update={"normalize": rules})


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=steps)
def test_reports_over_the_rollups_equal_reports_over_the_order_lines(
    any_engine: Engine, rollup_settings: Settings, sequence: list[tuple[Any, ...]]
) -> None:
    _reset(any_engine)
    for step in sequence:
        _apply(any_engine, rollup_settings, step)

    with any_engine.connect() as conn:
        compared, mismatches = rollups.check(conn)
        assert mismatches == [], [str(m) for m in mismatches]
        for (start, end), region in itertools.product(WINDOWS, (None, "emea")):
            window = Window(start, end, region, limit=3)
            for name, query in QUERIES.items():
                assert query(conn, window, ROLLUPS) == query(conn, window, ORDER_LINES), (name, window)
        for start, end in [(None, None), *WINDOWS]:
            dated = _orders.c.order_date.between(start, end) if start else true()
            counted = conn.execute(select(func.count()).select_from(_orders).where(dated)).scalar_one()
            assert rollups.order_count(conn, start, end) == counted, (start, end)


def test_check_names_a_bucket_the_rollups_got_wrong(any_engine: Engine, rollup_settings: Settings) -> None:
    _reset(any_engine)
    _apply(any_engine, rollup_settings, ("ingest", [ONE_ORDER], "append"))
    with write_session(any_engine) as session:
        session.execute(text("UPDATE rollup_sku SET orders = orders + 1 WHERE grain = 'm'"))

    with any_engine.connect() as conn:
        _, mismatches = rollups.check(conn)
    assert [(m.table, str(m.key[1])[:10]) for m in mismatches] == [("rollup_sku", "2026-03-01")]
    assert "rollup_sku" in str(mismatches[0]) and "order table" in str(mismatches[0])

    with write_session(any_engine) as session:
        rollups.rebuild(session.connection())
    with any_engine.connect() as conn:
        assert rollups.check(conn)[1] == []


def test_a_bulk_load_that_fails_leaves_the_rollups_and_the_triggers_as_they_were(
    any_engine: Engine, rollup_settings: Settings
) -> None:
    _reset(any_engine)
    good = ONE_ORDER
    _apply(any_engine, rollup_settings, ("ingest", [good], "append"))
    with pytest.raises(BadInput):  # every record invalid: the transaction, pause row included, rolls back
        ingest_records(
            engine=any_engine, records=[{**good, "id": 10_000, "quantity": "many"}], dataset="orders"
        )

    with write_session(any_engine) as session:  # the triggers still work: a plain insert is counted
        assert session.execute(text("SELECT count(*) FROM rollup_pause")).scalar_one() == 0
        session.execute(
            text(
                'INSERT INTO "order" (id, customer_id, sku, quantity, unit_price, total, region, order_date, status) '
                "VALUES (20000, 2, 'A100X', 1, 3.0, NULL, 'apac', :day, 'open')"
            ),
            {"day": date(2026, 3, 4)},
        )
    with any_engine.connect() as conn:
        assert rollups.check(conn)[1] == []
        window = Window(date(2026, 3, 1), date(2026, 3, 31))
        assert QUERIES["order_status"](conn, window, ROLLUPS).rows == [["open", 2, 13.0, 100.0]]


@given(start=st.dates(date(2024, 1, 1), date(2026, 12, 31)), days=st.integers(0, 800))
def test_split_covers_each_day_of_the_window_exactly_once(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    months, edges = split(start, end)
    covered: list[date] = []
    if months is not None:
        first, last = months
        assert first.day == last.day == 1
        day = first
        while day <= last or (day.year, day.month) == (last.year, last.month):
            covered.append(day)
            day += timedelta(days=1)
    for a, b in edges:
        covered.extend(a + timedelta(days=n) for n in range((b - a).days + 1))
    assert sorted(covered) == [start + timedelta(days=n) for n in range(days + 1)]
    assert len(edges) <= 2
