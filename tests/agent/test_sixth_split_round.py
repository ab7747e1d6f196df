"""What look 14 at the sixth fresh split (now dev_spent_fresh_test_6.jsonl) taught, in our own phrasings.

Every case failed on commit 1442b08, the one measured: a pdf named before "export", an old file to delete, a
memo to draft (all read as tool calls), a product "drop", a Turkish vocative after "done?", a
count after "and at", a name after "Who's", and an artifact id before a destination's name.
"""

from __future__ import annotations

from tests.utils.embedded import Earlier, calls_test, refusals_test

STARTED: Earlier = ("run_flow", {"flow": "customer_sync"}, 6120)
QUOTED: Earlier = ("quote_price", {"client_id": 1250, "product": "G100X", "quantity": 1000}, None)
FAILED_RUNS: Earlier = ("list_runs", {"status": "failed", "period": "last_week"}, None)


test_calls = calls_test(
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
    ]
)


test_work_no_tool_does_is_refused = refusals_test(
    [
        ("Customers pdf export please", None),
        ("delete the old products.json out of the inbox", None),
        ("Kindly draft a memo to the COO explaining the same failures.", FAILED_RUNS),
    ]
)
