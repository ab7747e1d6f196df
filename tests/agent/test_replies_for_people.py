"""Issue 17's replies, on the shipped embedded backend and the demo data: words a person reads, and the buttons offered.

Small talk gets an answer, requests no tool performs get a reason and the nearest thing, near misses get "Did you
mean", empty results read as answers, "that file" is the file just made, and every write's confirmation says what
its dry run found. No reply shows a call as code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from agent.backends.base import Alternative, DecideRequest, Decision
from agent.backends.factory import build_embedded
from agent.service import Switchboard, open_switchboard
from agent.state import Reply
from core.store.runs import RunStatus
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tools.registry import build_registry

TODAY = date(2026, 11, 22)
CODE = re.compile(r"\b[a-z]+_[a-z_]+\(|\w+=\w+")  # run_flow(flow=…) or dataset=orders


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Engine]]:
    """One demo database for the module: the replies read it, and each test uses threads of its own."""
    from core.store.db import make_engine
    from core.store.schema import init_db
    from switchboard.settings import load_settings

    var = tmp_path_factory.mktemp("replies") / "var"
    (var / "inbox").mkdir(parents=True)
    settings = load_settings(
        database_url=f"sqlite:///{var / 'switchboard.db'}", var_dir=var, reference_date=TODAY.isoformat()
    )
    engine = make_engine(settings.database_url)
    init_db(engine)
    load_demo(engine=engine, settings=settings, today=TODAY)
    yield settings, engine
    engine.dispose()


@pytest.fixture(scope="module")
def sb(demo: tuple[Settings, Engine]) -> Iterator[Switchboard]:
    settings, engine = demo
    with open_switchboard(settings, engine) as service:
        yield service


def _say(sb: Switchboard, thread: str, *texts: str) -> Reply:
    reply = None
    for text in texts:
        reply = sb.chat(thread_id=thread, user="olga", role="operator", text=text)
    assert reply is not None
    assert not CODE.search(reply.text), reply.text
    return reply


@pytest.mark.parametrize(
    ("text", "words", "buttons"),
    [
        (
            "hey there 👋",
            "Hi olga! What can I do for you? You could ask for a report, load a file, or check last night's runs.",
            ["show last month's sales by region", "list failed runs"],
        ),
        (
            "Good morning",
            "Hi olga! What can I do for you? You could ask for a report, load a file, or check last night's runs.",
            ["show last month's sales by region", "list failed runs"],
        ),
        (
            "how are you?",
            "All good here, thanks for asking. What can I do for you?",
            ["list failed runs", "help"],
        ),
        ("thanks, that's all", "You're welcome. I'm here whenever you need another run, report or file.", []),
        ("cheers!", "You're welcome. I'm here whenever you need another run, report or file.", []),
        ("bye", "Bye for now. Anything that is still running will report back in this chat.", []),
    ],
)
def test_small_talk_gets_a_short_friendly_answer(
    sb: Switchboard, text: str, words: str, buttons: list[str]
) -> None:
    reply = _say(sb, f"talk-{text}", text)
    assert (reply.kind, reply.text, reply.buttons) == ("info", words, buttons)
    assert reply.decision is not None and reply.decision.tool is None


@pytest.mark.parametrize(
    ("text", "words", "buttons"),
    [
        (
            "delete all orders",
            "I can't delete data: nothing I do removes records, apart from a clean-up that merges duplicates, which "
            "asks you first. I can export the data or report on it.",
            ["export orders as csv", "show the data quality report"],
        ),
        (
            "drop the customers table",
            "I can't drop data: nothing I do removes records, apart from a clean-up that merges duplicates, which "
            "asks you first. I can export the data or report on it.",
            ["export orders as csv", "show the data quality report"],
        ),
        (
            "cancel run 12",
            "I can't cancel a run once it has started: runs finish or fail on their own, and a failed one can be "
            "retried. I can show you where it stands.",
            ["list running runs", "list failed runs"],
        ),
        (
            "purge the audit log",
            "I can't purge the audit log, and nobody can: it is append-only and signed, so it can be trusted. "
            "Admins can read and verify it on the Audit page.",
            ["list runs of last 7 days"],
        ),
        (
            "unschedule the nightly export",
            "I can't unschedule a schedule from chat. An admin can pause one with “switchboard schedules pause ID”. "
            "I can run a flow now or add a schedule.",
            ["list runs of last 7 days"],
        ),
        (
            "approve all pending requests",
            "I can't approve requests in bulk: each one is decided on its own by an approver, in the approvals "
            "inbox or from the Telegram buttons.",
            ["list pending approvals"],
        ),
    ],
)
def test_a_destructive_request_gets_a_reason_and_the_nearest_thing(
    sb: Switchboard, text: str, words: str, buttons: list[str]
) -> None:
    reply = _say(sb, f"no-{text}", text)
    assert (reply.kind, reply.text, reply.buttons) == ("info", words, buttons)
    assert sb.runner.runs.list(name="normalize_dataset") == []


def test_every_offered_button_is_a_request_the_router_understands(
    demo: tuple[Settings, Engine], sb: Switchboard
) -> None:
    settings, engine = demo
    backend = build_embedded(settings, registry=build_registry(), engine=engine)
    wording = sb.prompts.wording
    offered = {button for rule in [*wording.talk, *wording.refusals] for button in rule.try_}
    offered = (offered | set(wording.starters)) - {"help"}
    decided = {text: backend.decide(DecideRequest(text=text, today=TODAY)).tool for text in sorted(offered)}
    assert None not in decided.values(), decided


# Two close tools: which phrasings the router finds torn between two moves with every retraining, so the reply is
# tested on a scripted decision with a close runner-up.
TORN = "everything needing a look"
CHOICE = re.compile(r"^Did you mean to (?P<a>[^_{}?]+) or (?P<b>[^_{}?]+)\?$")


@pytest.fixture
def torn(demo: tuple[Settings, Engine]) -> Iterator[Switchboard]:
    settings, engine = demo
    close = [Alternative(tool="lookup_customer", probability=0.41)]
    scripted = ScriptedBackend(
        {
            TORN: Decision(
                tool="list_pending_approvals", confidence=0.55, tool_probability=0.55, alternatives=close
            )
        }
    )
    with open_switchboard(settings, engine, backend=scripted) as service:
        yield service


def test_two_close_tools_are_offered_as_one_tap_choices(torn: Switchboard) -> None:
    reply = _say(torn, "near-both", TORN)
    match = CHOICE.match(reply.text)
    assert match, reply.text
    assert reply.kind == "question"
    assert reply.buttons == [match["a"].capitalize(), match["b"].capitalize(), "neither"]
    assert reply.buttons[:2] == ["List approvals waiting", "Look up a customer"]


# Phrasings near a tool's edge. Which of them lands in the did-you-mean band moves with every retraining, so the
# test asks that some do, and that each that does reads as a yes/no question naming the call in words.
NEAR_MISSES = (
    "did the transfer go okay",
    "did the transfer go fine",
    "was the upload alright",
    "Lumen Freight?",
    "where is Lumen Freight based",
    "Lumen Freight, where are they",
    "that export thing from before",
    "numbers for emea?",
    "whats up with Lumen Freight",
)
DID_YOU_MEAN = re.compile(r"^I'm not sure I understood\. Did you mean: (?P<call>[^_{}]+)\?$")


def test_a_near_miss_gets_did_you_mean_with_yes_and_no(sb: Switchboard) -> None:
    replies = {text: _say(sb, f"near-{text}", text) for text in NEAR_MISSES}
    offered = {text: reply for text, reply in replies.items() if reply.text.startswith("I'm not sure")}
    assert offered, {text: reply.text for text, reply in replies.items()}
    for text, reply in offered.items():
        assert DID_YOU_MEAN.match(reply.text), reply.text
        assert (reply.kind, reply.buttons) == ("question", ["yes", "no"])
        if "Lumen" in text and "look up" in reply.text:
            assert "“Lumen Freight”" in reply.text  # the name as typed, quoted


def test_tapping_a_did_you_mean_choice_runs_that_tool(torn: Switchboard) -> None:
    _say(torn, "tap", TORN)
    reply = _say(torn, "tap", "List approvals waiting")
    assert reply.decision is not None
    assert (reply.kind, reply.decision.tool) == ("answer", "list_pending_approvals"), reply.text


def test_an_empty_result_reads_as_an_answer(sb: Switchboard) -> None:
    never = _say(sb, "empty", "status of the invoice run flow")
    assert (never.kind, never.text) == ("answer", "invoice_run hasn't run yet.")
    none = _say(sb, "empty", "list failed runs")
    assert (none.kind, none.text, none.table) == ("answer", "No failed runs in the last 7 days.", None)


def test_that_file_after_an_export_is_the_file_just_made(sb: Switchboard) -> None:
    asked = _say(sb, "file", "export orders for last month as csv")
    assert (asked.kind, asked.text) == (
        "confirm",
        "Shall I export orders for last month as CSV? It would write 1,382 rows of orders to orders_2026-10.csv.",
    )
    made = _say(sb, "file", "yes")
    assert made.run_id is not None
    push = _say(sb, "file", "now push that file to the finance share")
    [request] = [r for r in sb.approvals.pending() if r.id == push.approval_id]
    artifact = sb.runner.runs.get(made.run_id).output["result"]["data"]["artifact_id"]
    # The approver is shown the very artifact the thread made (pinned by id), not whichever is newest then.
    assert (push.kind, request.tool, request.args) == (
        "waiting",
        "deliver_file",
        {"file": str(artifact), "destination": "finance_share"},
    )
    assert push.text.startswith(
        "To send orders_2026-10.csv to finance share I need an approver's sign-off (external action needs an "
        "approver)."
    )
    assert push.notes == [
        f"Using orders_2026-10.csv, the file made by run {made.run_id}, from earlier in this chat."
    ]


def test_same_again_repeats_the_last_call(sb: Switchboard) -> None:
    first = _say(sb, "again", "list failed runs")
    again = _say(sb, "again", "same again")
    assert again.decision is not None and first.decision is not None
    assert (again.kind, again.text, again.decision.tool, again.decision.args) == (
        "answer",
        first.text,
        "list_runs",
        first.decision.args,
    )
    assert again.notes == [
        "Using the last request (list the failed runs of the last 7 days), from earlier in this chat."
    ]


def test_the_one_that_failed_is_the_latest_failed_run(sb: Switchboard) -> None:
    _say(sb, "failed", "order 5 hex bolts for customer 999999", "yes")
    [failed] = sb.runner.runs.list(statuses=(RunStatus.FAILED,), name="create_order")
    retry = _say(sb, "failed", "retry the one that failed")
    assert retry.decision is not None
    assert (retry.kind, retry.decision.tool, retry.decision.args) == (
        "confirm",
        "retry_run",
        {"run_id": failed.id},
    )
    assert retry.notes == [f"Using run {failed.id} (create_order), which failed: the latest one."]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "order 2 hex bolts for Cobalt Foods",
            "Shall I order 2 × A100X for customer 1163? It would order 2 × A100X for Cobalt Foods (#1163): 333.49 "
            "each, total 666.98 (bulk_discount 2026.1).",
        ),
        (
            "apply vip tiering",
            "Shall I apply the vip tiering rules? A dry run of the vip tiering rules (version 2026.1) found 211 of "
            "500 customers would change; nothing was written.",
        ),
        (
            "load orders_today.csv into orders",
            "Shall I load orders_today.csv into orders, adding to the rows already there? It would add up to 50 "
            "rows to orders from orders_today.csv (2.8 KB).",
        ),
        (
            "normalize orders",
            "Shall I clean up orders? A dry run on orders found that 368 rows would change; nothing was written.",
        ),
        (
            "export products as json",
            "Shall I export products as JSON? It would write 40 rows of products to products_2026-11-22.json.",
        ),
        (
            "sync customers",
            "Shall I run the customer sync flow? It runs 2 steps: clean up customers, then apply the vip tiering "
            "rules.",
        ),
        (
            "retry run 999",
            "Shall I retry run 999? Checking it first found a problem, so it will probably fail: run 999 does not exist",
        ),
    ],
)
def test_every_write_confirmation_says_what_its_dry_run_found(sb: Switchboard, text: str, words: str) -> None:
    reply = _say(sb, f"write-{text}", text)
    assert (reply.kind, reply.text, reply.buttons) == ("confirm", words, ["yes", "no"])


def test_a_schedule_confirmation_says_when_it_would_first_run(sb: Switchboard) -> None:
    reply = _say(sb, "schedule", "schedule the nightly sales export every day at 6am")
    assert reply.kind == "confirm"
    assert re.fullmatch(
        r"Shall I schedule the nightly sales export flow at “0 6 \* \* \*”\? Its first run would be "
        r"\d{4}-\d\d-\d\d 06:00 UTC\.",
        reply.text,
    ), reply.text


def test_every_write_tool_has_a_dry_run_preview(sb: Switchboard) -> None:
    writes = [name for name in sb.registry if sb.registry[name].risk != "read"]
    assert [name for name in writes if sb.registry[name].preview is None] == []
