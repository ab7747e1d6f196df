"""Short messages read against the thread: go-aheads, status checks, shifted slices, pronouns and answers.

Each family is tested in our own phrasings on the shipped embedded backend, next to the hijack protections that
keep a full new request, a thank-you or nonsense from being taken as a follow-up.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agent.backends.base import DecideRequest, Decision, Turn
from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.factory import build_embedded
from core.store.models import Customer
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tools.registry import build_registry

TODAY = date(2026, 11, 22)


@pytest.fixture
def backend(settings: Settings) -> EmbeddedBackend:
    return build_embedded(settings, registry=build_registry())


def _after(
    backend: EmbeddedBackend, text: str, tool: str, args: dict[str, Any], run_id: int | None = None
) -> Decision:
    context = [Turn(role="user", text="..."), Turn(role="assistant", tool=tool, args=args, run_id=run_id)]
    return backend.decide(DecideRequest(text=text, context=context, today=TODAY))


def _call(decision: Decision) -> tuple[str | None, dict[str, Any]]:
    return decision.tool, dict(decision.args)


# ---- go-aheads after a preview, a quote, an export or a failed run ---------------------------------------------

QUOTE = {"client_id": 1187, "product": "B200", "quantity": 640}


@pytest.mark.parametrize(
    ("text", "tool", "args", "expected"),
    [
        (
            "alright, do it properly now",
            "normalize_dataset",
            {"dataset": "orders", "dry_run": True},
            ("normalize_dataset", {"dataset": "orders", "dry_run": False}),
        ),
        (
            "fine, pull the trigger",
            "apply_rules",
            {"ruleset": "credit_hold", "dry_run": True},
            ("apply_rules", {"ruleset": "credit_hold", "dry_run": False}),
        ),
        (
            "right, now apply it for real",
            "explain_rule",
            {"rule": "vip_customer"},
            ("apply_rules", {"ruleset": "vip_tiering", "dry_run": False}),
        ),
        ("perfect, raise it", "quote_price", QUOTE, ("create_order", QUOTE)),
        ("sure, go ahead with this one", "quote_price", QUOTE, ("create_order", QUOTE)),
        (
            "now ship it to the finance share",
            "export_dataset",
            {"dataset": "customers", "format": "csv"},
            ("deliver_file", {"destination": "finance_share"}),
        ),
        (
            "please re-submit that",
            "get_run_status",
            {"run_id": 6120},
            ("retry_run", {"run_id": 6120}),
        ),
    ],
)
def test_a_go_ahead_takes_the_next_step_of_the_previous_call(
    backend: EmbeddedBackend,
    text: str,
    tool: str,
    args: dict[str, Any],
    expected: tuple[str, dict[str, Any]],
) -> None:
    decision = _after(backend, text, tool, args)
    assert (decision.tool, {k: v for k, v in decision.args.items() if k != "file"}) == expected
    assert decision.followup


# ---- status after starting something ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["how's it coming along", "progress?", "hows that lookin", "any news?"])
def test_a_status_question_asks_about_the_flow_just_started(backend: EmbeddedBackend, text: str) -> None:
    decision = _after(backend, text, "run_flow", {"flow": "customer_sync"})
    assert _call(decision) == ("get_run_status", {"flow": "customer_sync"})


def test_a_status_question_prefers_the_run_the_thread_started(backend: EmbeddedBackend) -> None:
    decision = _after(backend, "where are we with it?", "run_flow", {"flow": "invoice_run"}, run_id=931)
    assert _call(decision) == ("get_run_status", {"run_id": 931})


# ---- shifted or changed slices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period", "shifted"),
    [
        ("and the mth before", "last_month", "2026-09-01..2026-09-30"),
        ("Brilliant, thanks! Can you also do the quarter before?", "last_quarter", "2026-04-01..2026-06-30"),
        ("and the week after that", "last_week", "2026-11-16..2026-11-22"),
    ],
)
def test_a_shifted_period_keeps_the_rest_of_the_report(
    backend: EmbeddedBackend, text: str, period: str, shifted: str
) -> None:
    decision = _after(
        backend, text, "run_report", {"report": "sales_by_product", "period": period, "region": "apac"}
    )
    assert _call(decision) == (
        "run_report",
        {"report": "sales_by_product", "period": shifted, "region": "apac"},
    )


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("push it to 5pm instead", "0 17 * * *"),
        ("change it to 6:45", "45 6 * * *"),
        ("make it 11 instead", "0 11 * * *"),
    ],
)
def test_a_new_time_moves_the_schedule_just_made(backend: EmbeddedBackend, text: str, cron: str) -> None:
    decision = _after(backend, text, "schedule_flow", {"flow": "invoice_run", "cron": "0 3 * * *"})
    assert _call(decision) == ("schedule_flow", {"flow": "invoice_run", "cron": cron})


def test_the_same_message_to_another_recipient_keeps_the_message(backend: EmbeddedBackend) -> None:
    previous = {"channel": "email", "recipient": "finance", "message": "Payroll is delayed."}
    decision = _after(backend, "send that same note to ops too", "send_notification", previous)
    assert _call(decision) == ("send_notification", {**previous, "recipient": "ops"})


# ---- pronouns for the thread's customer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("what would she pay for 40 B200", "quote_price", {"product": "B200", "quantity": 40}),
        ("book 25 A100X for this client", "create_order", {"product": "A100X", "quantity": 25}),
    ],
)
def test_a_pronoun_is_the_customer_just_looked_up(
    backend: EmbeddedBackend, text: str, tool: str, args: dict[str, Any]
) -> None:
    decision = _after(backend, text, "lookup_customer", {"query": "1187"})
    assert _call(decision) == (tool, {**args, "client_id": 1187})


def test_a_pronoun_after_a_lookup_by_name_is_that_customer(settings: Settings, engine: Engine) -> None:
    load_demo(engine=engine, settings=settings, today=TODAY)
    with Session(engine) as session:
        customer = session.exec(select(Customer).order_by(Customer.id)).first()
    assert customer is not None
    backend = build_embedded(settings, registry=build_registry(), engine=engine)
    decision = _after(
        backend, "how much would they pay for 300 B200", "lookup_customer", {"query": customer.name}
    )
    assert _call(decision) == ("quote_price", {"client_id": customer.id, "product": "B200", "quantity": 300})


# ---- answers to what the previous call lacked ------------------------------------------------------------------


def test_a_bare_number_answers_the_missing_client(backend: EmbeddedBackend) -> None:
    decision = _after(backend, "1187", "quote_price", {"product": "B200", "quantity": 640})
    assert _call(decision) == ("quote_price", QUOTE)


def test_a_handle_answers_the_missing_recipient(backend: EmbeddedBackend) -> None:
    previous = {"channel": "telegram", "message": "the sync is down"}
    decision = _after(backend, "@ops_oncall", "send_notification", previous)
    assert _call(decision) == ("send_notification", {**previous, "recipient": "@ops_oncall"})


# ---- what stays a message of its own ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["cool, thanks", "lol", "ok"])
def test_a_thank_you_or_nonsense_after_a_quote_orders_nothing(backend: EmbeddedBackend, text: str) -> None:
    decision = _after(backend, text, "quote_price", QUOTE)
    assert decision.tool != "create_order"
    assert decision.tool is None or decision.confidence < 0.5 or decision.tool == "quote_price"


def test_nonsense_does_not_answer_a_missing_recipient(backend: EmbeddedBackend) -> None:
    decision = _after(
        backend, "lol", "send_notification", {"channel": "telegram", "message": "the sync is down"}
    )
    assert decision.tool is None or not decision.followup


def test_a_full_request_after_a_question_is_decided_on_its_own(backend: EmbeddedBackend) -> None:
    decision = _after(
        backend,
        "email finance that the month end report is late",
        "quote_price",
        {"product": "B200", "quantity": 5},
    )
    assert decision.tool == "send_notification"


def test_a_full_request_for_the_previous_period_is_not_shifted_again(backend: EmbeddedBackend) -> None:
    decision = _after(
        backend,
        "run the invoice flow now",
        "run_report",
        {"report": "sales_by_region", "period": "last_week"},
    )
    assert decision.tool == "run_flow"


def test_a_new_quantity_after_a_quote_is_another_quote(backend: EmbeddedBackend) -> None:
    decision = _after(backend, "hmm, make it 90", "quote_price", QUOTE)
    assert _call(decision) == ("quote_price", {**QUOTE, "quantity": 90})


def test_every_switch_to_another_tool_reads_as_words_in_the_reply() -> None:
    from agent.backends.embedded.next_step import _SWITCH, _SWITCHED

    assert {target for _, target, _ in _SWITCH} == set(_SWITCHED)
    assert not any("_" in why for why in _SWITCHED.values())  # no tool names in a reply's note
