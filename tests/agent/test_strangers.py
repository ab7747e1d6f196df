"""Issue 16's seven error patterns, in our own phrasings, on the shipped embedded backend.

Each case failed on main before issue 16 (commit 3e29391). The ones that need the database's names run against
the demo data (seed 7); the rest run without a database, as the eval's database-free mode does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agent.backends.base import DecideRequest, Decision, Turn
from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.factory import build_embedded
from agent.service import Switchboard, open_switchboard
from core.store.models import Customer
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tools.registry import build_registry

TODAY = date(2026, 11, 22)
AUTO_EXECUTE = 0.9  # below every risk's execute threshold in switchboard/defaults.yaml


@pytest.fixture
def backend(settings: Settings) -> EmbeddedBackend:
    return build_embedded(settings, registry=build_registry())


@pytest.fixture
def with_db(settings: Settings, engine: Engine) -> EmbeddedBackend:
    load_demo(engine=engine, settings=settings, today=TODAY)
    return build_embedded(settings, registry=build_registry(), engine=engine)


def _decide(
    backend: EmbeddedBackend, text: str, after: tuple[str, str, dict[str, Any]] | None = None
) -> Decision:
    context: list[Turn] = []
    if after is not None:
        user, tool, args = after
        context = [Turn(role="user", text=user), Turn(role="assistant", tool=tool, args=args)]
    return backend.decide(DecideRequest(text=text, context=context, today=TODAY))


# ---- 1. names: a proper noun is not a lookup by itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "customer", "tool", "args"),
    [
        (
            "Cobalt Foods wants 120 of the E-55, put the order through",
            "Cobalt Foods",
            "create_order",
            {"product": "E-55", "quantity": 120},
        ),
        (
            "book 35 torque wrenches for Keystone Retail",
            "Keystone Retail",
            "create_order",
            {"product": "C-55", "quantity": 35},
        ),
        (
            "what would Vertex Components pay for 250 hex bolts m8",
            "Vertex Components",
            "quote_price",
            {"product": "A100X", "quantity": 250},
        ),
        ("who is keystone retial", None, "lookup_customer", {}),
        ("any idea who Cobalt Foods are", None, "lookup_customer", {}),
    ],
)
def test_a_message_led_by_a_customer_name_goes_to_the_tool_it_asks_for(
    with_db: EmbeddedBackend, engine: Engine, text: str, customer: str | None, tool: str, args: dict[str, Any]
) -> None:
    decision = _decide(with_db, text)
    assert decision.tool == tool
    assert {k: decision.args.get(k) for k in args} == args
    if customer is not None:
        with Session(engine) as session:
            ids = set(session.exec(select(Customer.id).where(Customer.name == customer)))
        assert ids and decision.args.get("client_id") in ids


@pytest.mark.parametrize(
    "text",
    [
        "raise Sterling Works' credit limit to 80k",
        "give Beacon Trading 15% off their next order",
        "who has the pager tonight",
        "merge the two Atlas Foods accounts into one",
    ],
)
def test_a_name_in_a_request_no_tool_can_do_is_refused(with_db: EmbeddedBackend, text: str) -> None:
    assert _decide(with_db, text).tool is None


def test_a_quantity_is_never_read_as_the_customer_id(backend: EmbeddedBackend) -> None:
    decision = _decide(backend, "Soylent Works is asking for 60 of the B200, please book it for them")
    assert decision.tool == "create_order"
    assert decision.args.get("quantity") == 60 and decision.args.get("client_id") != 60
    assert "client_id" in decision.missing and decision.confidence < AUTO_EXECUTE


def test_thanks_after_a_lookup_is_not_another_lookup(backend: EmbeddedBackend) -> None:
    decision = _decide(
        backend, "great, ta", ("look up Wonka Foods", "lookup_customer", {"query": "wonka foods"})
    )
    assert decision.tool is None


# ---- 2. referential follow-ups ---------------------------------------------------------------------------------


def test_how_did_it_go_asks_for_the_status_of_the_run_just_started(backend: EmbeddedBackend) -> None:
    context = [
        Turn(role="user", text="kick off the invoice run"),
        Turn(role="assistant", tool="run_flow", args={"flow": "invoice_run"}, run_id=812),
    ]
    decision = backend.decide(DecideRequest(text="so did that work?", context=context, today=TODAY))
    assert (decision.tool, decision.args.get("run_id")) == ("get_run_status", 812)


def test_go_ahead_after_a_dry_run_applies_the_same_rules(backend: EmbeddedBackend) -> None:
    decision = _decide(
        backend,
        "looks fine, go ahead with it",
        ("preview the vip tiering", "apply_rules", {"ruleset": "vip_tiering", "dry_run": True}),
    )
    assert (decision.tool, decision.args.get("ruleset"), decision.args.get("dry_run")) == (
        "apply_rules",
        "vip_tiering",
        False,
    )


def test_clean_it_up_after_a_load_normalizes_that_dataset(backend: EmbeddedBackend) -> None:
    decision = _decide(
        backend,
        "now tidy it up",
        ("load customers_new.xlsx", "ingest_file", {"path": "customers_new.xlsx", "dataset": "customers"}),
    )
    assert (decision.tool, decision.args.get("dataset")) == ("normalize_dataset", "customers")


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("and the week before?", "2026-11-02..2026-11-08"),
        ("what about the one before that", "2026-11-02..2026-11-08"),
    ],
)
def test_the_period_before_shifts_the_previous_report_back(
    backend: EmbeddedBackend, text: str, period: str
) -> None:
    decision = _decide(
        backend,
        text,
        ("sales by region last week", "run_report", {"report": "sales_by_region", "period": "last_week"}),
    )
    assert (decision.tool, decision.args.get("report"), decision.args.get("period")) == (
        "run_report",
        "sales_by_region",
        period,
    )


# ---- 3. negations and conditions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "run the credit hold rules but leave the data untouched",
        "apply vip tiering, though nothing should actually be changed",
        "go through the credit holds without committing anything",
    ],
)
def test_apply_rules_without_changing_anything_is_a_dry_run(backend: EmbeddedBackend, text: str) -> None:
    decision = _decide(backend, text)
    assert (decision.tool, decision.args.get("dry_run")) == ("apply_rules", True)


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("don't kick off any jobs, I only need to know if the 2am export went through", "get_run_status"),
        ("hold off on the delivery, just make me an xml extract of customers", "export_dataset"),
        ("order 40 A100X for customer 1042 but don't place it yet, just quote", "quote_price"),
        ("no need to run anything, only show me which runs failed this week", "list_runs"),
    ],
)
def test_the_intent_comes_from_the_clause_that_asks(backend: EmbeddedBackend, text: str, tool: str) -> None:
    assert _decide(backend, text).tool == tool


def test_a_message_that_only_says_what_not_to_do_gets_no_tool(backend: EmbeddedBackend) -> None:
    assert _decide(backend, "please don't send anything to the bank today").tool is None


# ---- 4. argument filling ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("start the synchronisation of the customer records", "run_flow", {"flow": "customer_sync"}),
        ("sales for the second half of October", "run_report", {"period": "2026-10-16..2026-10-31"}),
        ("sales for the first half of november", "run_report", {"period": "2026-11-01..2026-11-15"}),
        ("quote sixty units of D200 for customer 1042", "quote_price", {"product": "D200", "quantity": 60}),
        (
            "could you be so kind as to let the warehouse team know by email at wh@example.com that stock is in",
            "send_notification",
            {"channel": "email", "recipient": "wh@example.com"},
        ),
        (
            "would you mind pinging the ops folks on Telegram to say the upload is finished",
            "send_notification",
            {"channel": "telegram", "recipient": "ops", "message": "the upload is finished"},
        ),
        (
            "please email sales@acme.example letting them know prices change on monday",
            "send_notification",
            {"channel": "email", "recipient": "sales@acme.example", "message": "prices change on monday"},
        ),
    ],
)
def test_arguments_strangers_state_are_filled(
    backend: EmbeddedBackend, text: str, tool: str, args: dict[str, Any]
) -> None:
    decision = _decide(backend, text)
    assert decision.tool == tool
    assert {k: decision.args.get(k) for k in args} == args


# ---- 5. on-call jargon -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("bounce 512", "retry_run", {"run_id": 512}),
        ("kick run 77 again", "retry_run", {"run_id": 77}),
        ("what's in flight atm", "list_runs", {"status": "running"}),
        ("anything wedged in the queue", "list_runs", {"status": "pending"}),
    ],
)
def test_on_call_jargon(backend: EmbeddedBackend, text: str, tool: str, args: dict[str, Any]) -> None:
    decision = _decide(backend, text)
    assert decision.tool == tool
    assert {k: decision.args.get(k) for k in args} == args


# ---- 6. confidence accounts for what was not filled ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["place an order for 25 units please", "send the file over", "retry the failed one"],
)
def test_a_missing_required_argument_caps_confidence_below_auto_execution(
    backend: EmbeddedBackend, text: str
) -> None:
    decision = _decide(backend, text)
    assert decision.tool is not None and decision.missing
    assert decision.confidence < AUTO_EXECUTE


# ---- 7. follow-ups and clarifications can't be hijacked --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["<img src=x onerror=alert(1)>", "'; drop table runs; --", "{{7*7}}", "lol"],
)
def test_junk_in_a_thread_is_not_a_follow_up(backend: EmbeddedBackend, text: str) -> None:
    after = (
        "send the latest export to the bank",
        "deliver_file",
        {"file": "latest", "destination": "bank_sftp"},
    )
    decision = _decide(backend, text, after)
    assert decision.tool is None or (decision.confidence < 0.5 and not decision.followup)


@pytest.mark.parametrize("text", ["do the same for last month", "now the same for this month"])
def test_a_period_after_a_lookup_is_not_a_customer_name(backend: EmbeddedBackend, text: str) -> None:
    decision = _decide(backend, text, ("look up Wonka Foods", "lookup_customer", {"query": "wonka foods"}))
    assert decision.tool != "lookup_customer"


@pytest.fixture
def sb(settings: Settings, engine: Engine) -> Iterator[Switchboard]:
    load_demo(engine=engine, settings=settings, today=TODAY)
    with open_switchboard(settings, engine) as service:
        yield service


def test_a_new_request_in_answer_to_a_question_is_decided_on_its_own(sb: Switchboard) -> None:
    asked = sb.chat(thread_id="t", user="olive", role="operator", text="ship the latest export")
    assert asked.decision is not None and asked.decision.action == "clarify"
    assert "destination" in asked.text.lower()
    answer = sb.chat(
        thread_id="t", user="olive", role="operator", text="email finance that the month end report is late"
    )
    assert answer.decision is not None
    assert answer.decision.tool != "deliver_file"


def test_a_short_answer_still_fills_the_slot_that_was_asked(sb: Switchboard) -> None:
    sb.chat(thread_id="t", user="olive", role="operator", text="ship the latest export")
    answer = sb.chat(thread_id="t", user="olive", role="operator", text="the finance share")
    assert answer.decision is not None
    assert (answer.decision.tool, answer.decision.args.get("destination")) == (
        "deliver_file",
        "finance_share",
    )
