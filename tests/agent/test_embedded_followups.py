"""Follow-ups on the shipped embedded backend: a change to the previous call keeps what it does not mention."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agent.backends.base import DecideRequest, Decision, Turn
from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.factory import build_embedded
from switchboard.settings import Settings
from tools.registry import build_registry


@pytest.fixture
def backend(settings: Settings) -> EmbeddedBackend:
    return build_embedded(settings, registry=build_registry())


def _after(backend: EmbeddedBackend, user: str, tool: str, args: dict[str, Any], text: str) -> Decision:
    context = [Turn(role="user", text=user), Turn(role="assistant", tool=tool, args=args)]
    return backend.decide(DecideRequest(text=text, context=context, today=date(2026, 11, 22)))


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("only on weekdays", "30 9 * * 1-5"),
        ("make it weekdays instead", "30 9 * * 1-5"),
        ("switch it to weekends", "30 9 * * 0,6"),
        ("same but at 17:00", "0 17 * * 1"),
    ],
)
def test_a_partial_schedule_change_keeps_the_rest_of_the_cron(
    backend: EmbeddedBackend, text: str, cron: str
) -> None:
    decision = _after(
        backend,
        "schedule the invoice run every monday at 9:30",
        "schedule_flow",
        {"flow": "invoice_run", "cron": "30 9 * * 1"},
        text,
    )
    assert (decision.tool, decision.args, decision.followup) == (
        "schedule_flow",
        {"flow": "invoice_run", "cron": cron},
        True,
    )


def test_a_full_schedule_in_a_follow_up_replaces_the_cron(backend: EmbeddedBackend) -> None:
    decision = _after(
        backend,
        "run the nightly sales export every night at 2",
        "schedule_flow",
        {"flow": "nightly_sales_export", "cron": "0 2 * * *"},
        "actually every monday at 7:15 instead",
    )
    assert decision.args == {"flow": "nightly_sales_export", "cron": "15 7 * * 1"}


def test_a_value_carries_over_to_a_differently_named_argument(backend: EmbeddedBackend) -> None:
    decision = _after(
        backend,
        "sales by region last month",
        "run_report",
        {"report": "sales_by_region", "period": "last_month"},
        "export that as xml",
    )
    assert (decision.tool, decision.args) == (
        "export_dataset",
        {"dataset": "sales_by_region", "format": "xml", "period": "last_month"},
    )


def test_a_request_the_previous_call_can_complete_inherits_it(backend: EmbeddedBackend) -> None:
    decision = _after(backend, "status of run 4410", "get_run_status", {"run_id": 4410}, "try again")
    assert (decision.tool, decision.args, decision.missing) == ("retry_run", {"run_id": 4410}, [])
