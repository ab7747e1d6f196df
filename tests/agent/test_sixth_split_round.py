"""What look 14 at the sixth fresh split (now dev_spent_fresh_test_6.jsonl) taught, in our own phrasings.

Every case failed on commit 1442b08, the one measured: a pdf named before "export", an old file to delete, a
memo to draft (all read as tool calls), a product "drop", a Turkish vocative after "done?", a
count after "and at", a name after "Who's", and an artifact id before a destination's name.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from tests.utils.embedded import Earlier, assert_call, decide

STARTED: Earlier = ("run_flow", {"flow": "customer_sync"}, 6120)
QUOTED: Earlier = ("quote_price", {"client_id": 1250, "product": "G100X", "quantity": 1000}, None)
FAILED_RUNS: Earlier = ("list_runs", {"status": "failed", "period": "last_week"}, None)


@pytest.mark.parametrize(
    ("text", "tool", "expected", "after"),
    [
        (
            "load products.json into products, new drop of SKUs today",
            "ingest_file",
            {"path": "products.json", "dataset": "products"},
            None,
        ),
        ("Done? abi", "get_run_status", {"run_id": 6120}, STARTED),
        ("and at 250?", "quote_price", {"client_id": 1250, "quantity": 250}, QUOTED),
        (
            "Who's Stark Industries?? never heard of them",
            "lookup_customer",
            {"query": "Stark Industries"},
            None,
        ),
        (
            "Artifact 312 bank sftp send please",
            "deliver_file",
            {"file": "312", "destination": "bank_sftp"},
            None,
        ),
    ],
)
def test_calls(
    db_backend: EmbeddedBackend, text: str, tool: str, expected: dict[str, Any], after: Earlier | None
) -> None:
    assert_call(db_backend, text, tool, expected, after)


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("Customers pdf export please", None),
        ("delete the old products.json out of the inbox", None),
        ("Kindly draft a memo to the COO explaining the same failures.", FAILED_RUNS),
    ],
)
def test_work_no_tool_does_is_refused(db_backend: EmbeddedBackend, text: str, after: Earlier | None) -> None:
    assert decide(db_backend, text, after).tool is None
