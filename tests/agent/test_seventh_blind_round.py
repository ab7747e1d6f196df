"""What the seventh blind dev set of 2026-12-05 (dev_blind_12.jsonl) taught, in our own phrasings.

Every case failed on commit 8640f19, the one measured, except the guards (typed text left alone, our own people
still notified): dictation ("client ten forty two", "bee two hundred",
"dot csv", "e m e a"), follow-ups that change a value in words or point back without a keyword ("make that seven
hundred", "done already?", "the one after that", "stick that in the finance share"), list numbering read as a
value, a labelled id, a message meant for a customer, and a worry read as an order not to act.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.extract.spoken import spoken_digits, unspoken
from tests.utils.embedded import Earlier, assert_call, decide

SKUS = ("A100X", "B200", "C300", "G-55", "K-20")


@pytest.mark.parametrize(
    ("said", "typed"),
    [
        ("check the status of job six forty", "check the status of job 640"),
        ("pull up client twelve oh five please", "pull up client 1205 please"),
        ("is run seven hundred and three still going", "is run 703 still going"),
        ("load returns underscore week dot csv", "load returns_week.csv"),
        ("look up accounts at hooli dot com", "look up accounts@hooli.com"),
        ("the e m e a numbers as j s o n", "the emea numbers as json"),
        ("price for forty of the k dash twenty", "price for forty of the K-20"),
        ("fifty units of see three hundred", "fifty units of C300"),
        ("uh start the in voice run", "start the invoice run"),
    ],
)
def test_dictation_is_read_as_typed(said: str, typed: str) -> None:
    assert unspoken(said, SKUS) == typed


@pytest.mark.parametrize(
    "typed",
    [
        "I see three hundred orders stuck in invoiced",
        "run three exports please",
        "give me a hundred units of A100X for 1042",
        "email ops at 9 about the bank file",
        "customer 1042 wants 500 x A100X",
    ],
)
def test_typed_text_is_left_alone(typed: str) -> None:
    assert unspoken(typed, SKUS) == typed


def test_read_out_ids_join_their_groups() -> None:
    assert [spoken_digits(p) for p in ("ten forty two", "one oh seven", "two fifty", "twelve hundred")] == [
        "1042",
        "107",
        "250",
        "1200",
    ]


@pytest.mark.parametrize(
    ("text", "tool", "expected"),
    [
        (
            "how much are three hundred of the bee two hundred for client ten forty two",
            "quote_price",
            {"client_id": 1042, "product": "B200", "quantity": 300},
        ),
        ("retry job one oh nine", "retry_run", {"run_id": 109}),
        (
            "sales buy product for e m e a last month",
            "run_report",
            {"report": "sales_by_product", "region": "emea"},
        ),
        (
            "1) Top customers 2) APAC only 3) last quarter 4) top 30 - for the board pack",
            "run_report",
            {"report": "top_customers", "region": "apac", "limit": 30},
        ),
        ("Request: customer lookup / ID: 1190 / Reason: renewal prep", "lookup_customer", {"query": "1190"}),
        (
            "please deliver the newest export to the bank. I do not want to send it to the wrong place",
            "deliver_file",
            {"destination": "bank_sftp"},
        ),
    ],
)
def test_single_messages(db_backend: EmbeddedBackend, text: str, tool: str, expected: dict[str, Any]) -> None:
    assert_call(db_backend, text, tool, expected)


QUOTE: Earlier = ("quote_price", {"client_id": 1042, "product": "B200", "quantity": 100}, None)
TOP: Earlier = ("run_report", {"report": "top_customers", "limit": 10}, None)
STARTED: Earlier = ("run_flow", {"flow": "customer_sync"}, 77)
STATUS: Earlier = ("get_run_status", {"run_id": 300}, None)
EXPORTED: Earlier = ("export_dataset", {"dataset": "orders", "format": "csv"}, None)
SCHEDULED: Earlier = ("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * 1-5"}, None)
REGIONAL: Earlier = ("run_report", {"report": "sales_by_region", "period": "2026-10-01..2026-10-31"}, None)
PREVIEWED: Earlier = ("apply_rules", {"ruleset": "credit_hold", "dry_run": True}, None)


@pytest.mark.parametrize(
    ("after", "text", "tool", "expected"),
    [
        (QUOTE, "alright make that seven hundred", "quote_price", {"quantity": 700, "client_id": 1042}),
        (TOP, "show me 15 rather than 10", "run_report", {"limit": 15, "report": "top_customers"}),
        (STARTED, "is it already done?", "get_run_status", {"run_id": 77}),
        (STATUS, "and the one after that?", "get_run_status", {"run_id": 301}),
        (STATUS, "the one before it?", "get_run_status", {"run_id": 299}),
        (
            EXPORTED,
            "and pop that onto the bank sftp while you're in there",
            "deliver_file",
            {"destination": "bank_sftp"},
        ),
        (
            QUOTE,
            "perfect, raise the PO",
            "create_order",
            {"client_id": 1042, "product": "B200", "quantity": 100},
        ),
        (
            SCHEDULED,
            "no wait, make it half seven, the warehouse opens at eight",
            "schedule_flow",
            {"cron": "30 7 * * 1-5"},
        ),
        (
            REGIONAL,
            "Cheers! Could we also have the month before that? Need to compare.",
            "run_report",
            {"period": "2026-09-01..2026-09-30"},
        ),
        (PREVIEWED, "yep that looks fine, go ahead and apply it for real", "apply_rules", {"dry_run": False}),
    ],
)
def test_follow_ups(
    backend: EmbeddedBackend, after: Earlier, text: str, tool: str, expected: dict[str, Any]
) -> None:
    assert_call(backend, text, tool, expected, after)


@pytest.mark.parametrize(
    "text",
    [
        "email Acme Logistics their account details please",
        "notify Acme Logistics on telegram that the order shipped",
        "send the customers in LATAM a telegram about the holidays",
    ],
)
def test_a_message_meant_for_a_customer_is_refused(db_backend: EmbeddedBackend, text: str) -> None:
    assert decide(db_backend, text).tool is None


@pytest.mark.parametrize(
    "text",
    [
        "ping sales on telegram so they can tell the customers",
        "email finance that Acme Logistics paid",
        "email the customer list to finance",
    ],
)
def test_our_own_people_are_still_notified(db_backend: EmbeddedBackend, text: str) -> None:
    assert decide(db_backend, text).tool == "send_notification"


def test_the_refusal_says_whom_a_notification_can_reach(db_backend: EmbeddedBackend) -> None:
    decision = decide(db_backend, "email Acme Logistics their account details please")
    assert decision.tool is None
    assert decision.refusal is not None and "your own teams" in decision.refusal, decision
