"""lookup_customer, quote_price and create_order through the ToolRunner."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.errors import BadInput, Forbidden, NotFound
from core.store.models import Order
from core.store.runs import RunStatus
from switchboard.settings import Settings
from tests.utils.factories import seed_basic
from tools import customers
from tools.customers import CreateOrderArgs, QuotePriceArgs
from tools.registry import Registry
from tools.runtime import ToolRunner

QUOTE_COLUMNS = [
    "client_id",
    "customer",
    "tier",
    "sku",
    "product",
    "quantity",
    "list_price",
    "discount_pct",
    "unit_price",
    "line_total",
]


def _runner(settings: Settings, engine: Engine) -> ToolRunner:
    return ToolRunner(settings=settings, engine=engine, registry=Registry(list(customers.TOOLS)))


def test_lookup_by_id_email_and_name(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={1: {"tier": "gold"}})
    runner = _runner(settings, any_engine)
    by_id = runner.call("lookup_customer", {"query": "4"}, actor="ana").result
    assert by_id.summary == "Found Delta Freight (#4, north_america)."
    assert by_id.table is not None
    assert by_id.table.columns == ["id", "name", "email", "region", "tier", "credit_hold", "score"]
    assert by_id.table.rows == [
        [4, "Delta Freight", "delta@example.com", "north_america", None, False, 100.0]
    ]

    by_email = runner.call("lookup_customer", {"query": "SALES@borealis.example"}, actor="ana").result
    assert by_email.table is not None
    assert [row[0] for row in by_email.table.rows] == [2]  # stored padded and mixed-case, still found

    duplicates = runner.call("lookup_customer", {"query": "acme@example.com"}, actor="ana").result
    assert duplicates.data == {"matches": [1, 5]}

    by_name = runner.call("lookup_customer", {"query": "acme logistic"}, actor="ana").result
    assert by_name.table is not None
    assert [row[:5] for row in by_name.table.rows] == [
        [1, "Acme Logistics", "acme@example.com", "emea", "gold"],
        [5, "Acme Logistics GmbH", "ACME@example.com", "emea", None],
    ]
    assert by_name.summary == "2 customers match 'acme logistic'; best is Acme Logistics (#1)."


def test_lookup_misses_are_clear_answers(settings: Settings, engine: Engine) -> None:
    seed_basic(engine)
    runner = _runner(settings, engine)
    summaries = [
        runner.call("lookup_customer", {"query": query}, actor="ana").result.summary
        for query in ("1042", "who@nowhere.example", "Zygote Qwerty")
    ]
    assert summaries == [
        "Customer 1042 does not exist.",
        "No customer has the e-mail address 'who@nowhere.example'.",
        "No customer name is close to 'Zygote Qwerty'.",
    ]
    with pytest.raises(BadInput, match="query"):
        runner.call("lookup_customer", {"query": "  "}, actor="ana")


def test_sku_is_normalised_and_quantity_validated() -> None:
    assert QuotePriceArgs(client_id=1, product=" a100x ", quantity=3).product == "A100X"
    assert CreateOrderArgs(client_id=1, product="c-55", quantity=1).product == "C-55"
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        QuotePriceArgs(client_id=1, product="A100X", quantity=0)


def test_quote_price_tool(settings: Settings, engine: Engine) -> None:
    seed_basic(engine)
    result = (
        _runner(settings, engine)
        .call("quote_price", {"client_id": 1, "product": "a100x", "quantity": 100}, actor="ana")
        .result
    )
    assert result.summary == (
        "100 × A100X for Acme Logistics (#1): 9.50 each after 5% off 10.00, total 950.00 "
        "(bulk_discount 2026.1)."
    )
    assert result.table is not None and result.table.columns == QUOTE_COLUMNS
    assert result.table.rows == [
        [1, "Acme Logistics", None, "A100X", "Widget A100X", 100, 10.0, 5.0, 9.5, 950.0]
    ]
    assert result.data["ruleset_version"] == "2026.1"
    with pytest.raises(NotFound, match=r"unknown product 'B20'; did you mean B200\?"):
        _runner(settings, engine).call(
            "quote_price", {"client_id": 1, "product": "b20", "quantity": 1}, actor="ana"
        )


def test_create_order_tool_records_a_run(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine)
    runner = _runner(settings, any_engine)
    spec = runner.registry["create_order"]
    args = CreateOrderArgs(client_id=1, product="b200", quantity=500)
    ctx = runner.context(actor="ana")
    assert spec.value_of is not None and spec.value_of(ctx, args) == 11250.0
    assert spec.preview is not None
    preview = spec.preview(ctx, args)
    assert (preview.value, preview.rows_affected) == (11250.0, 1)
    assert preview.summary.startswith(
        "It would order 500 × B200 for Acme Logistics (#1): 22.50 each after 10% off"
    )

    execution = runner.call("create_order", {"client_id": 1, "product": "b200", "quantity": 500}, actor="ana")
    assert execution.result.summary.startswith("Created order 10: 500 × B200 for Acme Logistics")
    assert execution.run is not None and execution.run.status == RunStatus.SUCCEEDED
    data = execution.run.output["result"]["data"]
    assert (data["order_id"], data["ruleset_version"], data["line_total"], data["order_date"]) == (
        10,
        "2026.1",
        11250.0,
        "2026-11-22",
    )
    with any_engine.connect() as conn:
        total = conn.execute(select(Order.total).where(Order.id == 10)).scalar_one()  # type: ignore[arg-type]
    assert total == 11250.0


def test_create_order_refused_on_credit_hold(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={2: {"credit_hold": True}})
    runner = _runner(settings, any_engine)
    with pytest.raises(Forbidden, match=r"customer 2 \(Borealis Trading\) is on credit hold"):
        runner.call("create_order", {"client_id": 2, "product": "B200", "quantity": 1}, actor="ana")
    failed = runner.runs.list(statuses=(RunStatus.FAILED,))
    assert [(run.name, run.error_code) for run in failed] == [("create_order", "forbidden")]
