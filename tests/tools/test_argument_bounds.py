"""Every tool validates before anything is written (issue 15, findings 2 and 4): arguments that cannot execute are
refused with a clear message, and leave no approval request, run or schedule behind: only the ``tool.rejected``
audit record of the refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.errors import BadInput, NotFound
from core.store.approvals import ApprovalRequest
from core.store.audit import AuditLog
from core.store.models import Order, Schedule
from core.store.runs import Run
from core.text import MESSAGE_LIMIT
from flows.export.exporter import find_artifact
from flows.operations.schedules import canonical_cron, next_fire
from switchboard.settings import Settings
from tests.utils.factories import seed_basic
from tools.registry import build_registry
from tools.runtime import ToolRunner

HUGE = 99999999999999999999

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    (
        "create_order",
        {"client_id": 1, "product": "A100X", "quantity": HUGE},
        "create_order: 'quantity' should be less than or equal to 1000000",
    ),
    (
        "create_order",
        {"client_id": HUGE, "product": "A100X", "quantity": 3},
        "create_order: 'client_id' should be less than or equal to 2147483647",
    ),
    (
        "quote_price",
        {"client_id": 1, "product": "A100X", "quantity": 1_000_001},
        "quote_price: 'quantity' should be less than or equal to 1000000",
    ),
    (
        "quote_price",
        {"client_id": 1, "product": "A1" * 40, "quantity": 1},
        "quote_price: 'product' String should have at most 64 characters",
    ),
    (
        "get_run_status",
        {"run_id": 2**31},
        "get_run_status: 'run_id' should be less than or equal to 2147483647",
    ),
    ("retry_run", {"run_id": HUGE}, "retry_run: 'run_id' should be less than or equal to 2147483647"),
    (
        "lookup_customer",
        {"query": "Acme\x00 Corp"},
        "lookup_customer: 'query': must not contain control characters (found U+0000)",
    ),
    (
        "lookup_customer",
        {"query": "a" * 201},
        "lookup_customer: 'query' String should have at most 200 characters",
    ),
    (
        "ingest_file",
        {"path": "orders\x00.csv", "dataset": "orders"},
        "ingest_file: 'path': must not contain control characters (found U+0000)",
    ),
    (
        "deliver_file",
        {"file": "latest\x1b[2J", "destination": "finance_share"},
        "deliver_file: 'file': must not contain control characters (found U+001B)",
    ),
    (
        "deliver_file",
        {"file": str(HUGE), "destination": "finance_share"},
        "deliver_file: 'file': an artifact id is at most 2,147,483,647",
    ),
    (
        "send_notification",
        {"channel": "email", "recipient": "ops@example.com\r\nBcc: x@example.com", "message": "hi"},
        "send_notification: 'recipient': must not contain control characters (found U+000D)",
    ),
    (
        "send_notification",
        {"channel": "email", "recipient": "ops", "message": "the export\x00 is late"},
        "send_notification: 'message': must not contain control characters (found U+0000)",
    ),
    (
        "schedule_flow",
        {"flow": "customer_sync", "cron": "0 0 31 2 *"},
        "schedule_flow: 'cron': cron '0 0 31 2 *' never fires: none of the months it names has that day (February "
        "has at most 29 days; April, June, September and November have 30)",
    ),
    (
        "schedule_flow",
        {"flow": "customer_sync", "cron": "0 0 " + "1," * 5_000 + "1 * *"},
        "schedule_flow: 'cron': cron '0 0 1,1,1,1,1,1,1,1,1,1,1,1… 9,981 more characters is longer than the limit of 100 "
        "characters",
    ),
]


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize(
    ("tool", "args", "message"), REFUSED, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(REFUSED)]
)
def test_arguments_that_cannot_execute_are_refused_before_anything_is_written(
    settings: Settings, any_engine: Engine, tool: str, args: dict[str, Any], message: str
) -> None:
    seed_basic(any_engine)
    runner = ToolRunner(settings=settings, engine=any_engine, registry=build_registry())

    with pytest.raises(BadInput) as refused:
        runner.call(tool, args, actor="olive", source="cli")

    assert refused.value.message == message
    assert [count(any_engine, model) for model in (Run, ApprovalRequest, Schedule, Order)] == [0, 0, 0, 9]
    records = list(AuditLog(any_engine).iter_records())
    assert [(r.event, json.loads(r.data)) for r in records] == [("tool.rejected", {"error": message})]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (str(HUGE), "customer 99999999999999999999 does not exist"),
        ("#3000000000", "customer 3000000000 does not exist"),
        ("²", "no customer name is close to '²'"),
    ],
)
def test_a_customer_id_no_column_can_hold_is_not_found(
    settings: Settings, any_engine: Engine, query: str, message: str
) -> None:
    seed_basic(any_engine)
    runner = ToolRunner(settings=settings, engine=any_engine, registry=build_registry())
    # A search that finds nothing is an answer, not a failure.
    result = runner.call("lookup_customer", {"query": query}, actor="olive").result
    assert (result.summary, result.table) == (message[0].upper() + message[1:] + ".", None)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("2147483648", "artifact 2147483648 does not exist"),
        ("²", "no artifact named '²'; use an artifact id, its file name, or 'latest'"),
    ],
)
def test_an_artifact_id_no_column_can_hold_is_not_found(any_engine: Engine, ref: str, message: str) -> None:
    with pytest.raises(NotFound) as caught:
        find_artifact(any_engine, ref)
    assert caught.value.message == message


def test_the_largest_quantity_still_executes(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine)
    runner = ToolRunner(settings=settings, engine=any_engine, registry=build_registry())
    quote = runner.call(
        "quote_price", {"client_id": 1, "product": "A100X", "quantity": 1_000_000}, actor="olive"
    )
    assert quote.result.summary.startswith("1000000 × A100X for Acme Logistics (#1)")


def test_cron_dates_that_never_occur_are_refused_and_rare_ones_kept() -> None:
    for cron in ("0 0 31 2 *", "0 0 30 2 *", "15 6 31 4,6 *"):
        with pytest.raises(BadInput, match=r"never fires: none of the months it names has that day"):
            canonical_cron(cron)
    assert canonical_cron("0  0 29 2 *") == "0 0 29 2 *"  # every four years
    assert canonical_cron("0 0 31 2 1") == "0 0 31 2 1"  # day or weekday: every Monday in February
    assert len(BadInput("x" * 10 * MESSAGE_LIMIT).message) <= MESSAGE_LIMIT


def test_a_schedule_stored_before_the_check_has_no_next_run() -> None:
    from datetime import UTC, datetime

    assert next_fire("0 0 31 2 *", after=datetime(2026, 1, 1, tzinfo=UTC)) is None
