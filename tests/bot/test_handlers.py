"""Handler units through PTB's offline update processing (Application.process_update); sends hit the fake."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agent.backends.base import Alternative, Backend
from agent.service import Switchboard, open_switchboard
from bot.store import ProcessedUpdate
from core.store.audit import AuditLog
from switchboard.settings import Settings
from tests.bot.conftest import ANN, OLIVE, STRANGER, Harness, full_registry, make_harness, run, running
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.telegram_api import TelegramApi

REFUSAL = (
    "Hello! I'm Switchboard, a private assistant for this team's automation flows. I don't know your "
    "Telegram account, so I can't help here. Ask an admin to link it with "
    f"<code>switchboard users link-telegram NAME {STRANGER}</code>."
)


def test_unknown_user_gets_one_refusal_per_chat_and_no_agent_call(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    async def scenario() -> None:
        async with running(harness):
            await harness.text(STRANGER, "show me sales")
            await harness.text(STRANGER, "hello??")
            await harness.process(harness.api.document_update(STRANGER, "orders.csv", b"a,b\n1,2\n"))

    run(scenario())
    assert harness.texts_to(STRANGER) == [REFUSAL]
    assert backend.requests == []
    refused = [r for r in AuditLog(sb.engine).iter_records() if r.event == "bot.refused"]
    assert [(r.actor, r.subject) for r in refused] == [
        (f"telegram:{STRANGER}", f"telegram_chat:{STRANGER}")
    ] * 3
    assert '"reason":"unknown_user"' in refused[0].data
    assert not (sb.settings.inbox / "orders.csv").exists()
    assert AuditLog(sb.engine).verify().ok


def test_free_text_goes_to_the_agent_with_typing_and_what_i_ran(
    harness: Harness, backend: ScriptedBackend
) -> None:
    backend.enqueue("list_runs", {}, confidence=0.97)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "list the runs")

    run(scenario())
    assert [r.text for r in backend.requests] == ["list the runs"]
    actions = harness.api.sent_params("sendChatAction")
    assert actions and actions[0] == {"chat_id": OLIVE, "action": "typing"}
    (reply,) = harness.texts_to(OLIVE)
    assert reply.startswith("No runs in the last 7 days.")
    assert reply.endswith(
        "<i>What I ran: list_runs(period=last_7_days) · confidence 0.97 · execute · embedded</i>"
    )


def test_duplicate_update_is_processed_once(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    backend.enqueue("list_runs", {}, confidence=0.97)
    backend.enqueue("list_runs", {}, confidence=0.97)
    update = harness.api.text_update(OLIVE, "list the runs")

    async def scenario() -> None:
        async with running(harness):
            await harness.process(update)
            await harness.process(update)

    run(scenario())
    assert len(backend.requests) == 1
    assert len(harness.texts_to(OLIVE)) == 1
    with Session(sb.engine) as session:
        claims = list(session.execute(select(ProcessedUpdate)).scalars())
    assert [(c.update_id, c.kind, c.chat_id, c.telegram_user_id) for c in claims] == [
        (update["update_id"], "message", OLIVE, OLIVE)
    ]


def test_duplicate_is_refused_across_a_restart(
    bot_settings: Settings, sb: Switchboard, telegram_api: TelegramApi, backend: ScriptedBackend
) -> None:
    backend.enqueue("list_runs", {}, confidence=0.97)
    update = telegram_api.text_update(OLIVE, "list the runs")

    async def once() -> None:
        async with running(make_harness(bot_settings, sb, telegram_api)) as h:
            await h.process(update)

    run(once())
    run(once())  # a new Application (a restart, or a second worker on the same database)
    assert len(backend.requests) == 1


def test_group_messages_need_a_mention_or_a_reply(
    bot_settings: Settings, sb: Switchboard, telegram_api: TelegramApi, backend: ScriptedBackend
) -> None:
    group = -100200
    settings = bot_settings.model_copy(update={"telegram_allowed_chats": [group]})
    h = make_harness(settings, sb, telegram_api)
    backend.enqueue("list_runs", {}, confidence=0.97)

    async def scenario() -> None:
        async with running(h):
            await h.text(OLIVE, "chatting with colleagues", chat_id=group)
            await h.text(OLIVE, "@switchboard_test_bot list the runs", chat_id=group)

    run(scenario())
    assert [r.text for r in backend.requests] == ["list the runs"]
    (sent,) = h.messages_to(group)
    assert sent["reply_parameters"]["message_id"] > 0


def test_group_not_on_the_allowlist_is_refused_once(harness: Harness, backend: ScriptedBackend) -> None:
    group = -100300

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "@switchboard_test_bot list the runs", chat_id=group)
            await harness.text(OLIVE, "/help@switchboard_test_bot", chat_id=group)

    run(scenario())
    assert harness.texts_to(group) == [
        "Sorry, I'm not allowed to work in this chat. Ask an admin to add it to the allowlist."
    ]
    assert backend.requests == []


def test_allowlist_excludes_other_private_chats(
    bot_settings: Settings, sb: Switchboard, telegram_api: TelegramApi, backend: ScriptedBackend
) -> None:
    h = make_harness(bot_settings.model_copy(update={"telegram_allowed_chats": [ANN]}), sb, telegram_api)

    async def scenario() -> None:
        async with running(h):
            await h.text(OLIVE, "list the runs")

    run(scenario())
    assert len(h.texts_to(OLIVE)) == 1 and "not allowed to work in this chat" in h.texts_to(OLIVE)[0]
    assert backend.requests == []


def test_start_and_help(harness: Harness) -> None:
    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "/start")
            await harness.text(OLIVE, "/help")

    run(scenario())
    start, help_text = harness.texts_to(OLIVE)
    assert start.startswith("Hi olive! I'm Switchboard.")
    assert (
        "You are signed in as <b>olive</b> (operator). Commands: /help, /runs, /pending, /cancel, /start."
        in start
    )
    assert help_text.splitlines()[0] == "Here is what you can ask me, olive (operator):"
    assert "• Run a report — e.g. “show me last month's sales by region”" in help_text.splitlines()


def test_runs_lists_recent_runs_in_monospace(harness: Harness, sb: Switchboard) -> None:
    sb.runner.call("list_runs", {}, actor="olive")
    sb.runner.call("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * *"}, actor="olive")

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "/runs")

    run(scenario())
    (reply,) = harness.texts_to(OLIVE)
    assert reply.startswith("The last 1 runs:\n\n<pre>id  name")
    assert "schedule_flow" in reply and "succeeded" in reply


def test_edits_stickers_and_unknown_commands_get_short_answers(
    harness: Harness, backend: ScriptedBackend
) -> None:
    async def scenario() -> None:
        async with running(harness):
            await harness.process(harness.api.message_update(OLIVE, kind="edited_message", text="list runs"))
            await harness.process(
                harness.api.message_update(
                    OLIVE,
                    sticker={
                        "file_id": "S1",
                        "file_unique_id": "s1",
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                    },
                )
            )
            await harness.text(OLIVE, "/frobnicate")

    run(scenario())
    assert harness.texts_to(OLIVE) == [
        "I only act on new messages, so I ignored that edit. Please send the corrected text as a new "
        "message.",
        "I can read text messages and CSV, XLSX or JSON files, but not stickers. Type /help to see what I "
        "do.",
        "I don't know /frobnicate. Try /help.",
    ]
    assert backend.requests == []


def test_document_upload_is_saved_safely_and_becomes_a_load_request(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    inbox = sb.settings.inbox
    (inbox / "orders_today.csv").write_bytes(b"someone else's file\n")
    content = b"order_id,customer_id,total\n1,10,99.5\n"

    async def scenario() -> None:
        async with running(harness):
            await harness.process(harness.api.document_update(OLIVE, "../../etc/orders_today.csv", content))
            await harness.process(harness.api.document_update(OLIVE, "orders_today.csv", content))
            await harness.process(harness.api.document_update(OLIVE, "notes.pdf", b"%PDF"))

    run(scenario())
    assert (inbox / "orders_today.csv").read_bytes() == b"someone else's file\n"
    assert (inbox / "orders_today-1.csv").read_bytes() == content
    assert sorted(p.name for p in inbox.iterdir()) == ["orders_today-1.csv", "orders_today.csv"]
    # The upload is the request, so its name is never read for what to do: the backend is not asked.
    assert backend.requests == []
    history = sb.history(thread_id=f"tg:{OLIVE}:{OLIVE}", user="olive")
    assert [m.text for m in history if m.role == "user"] == ["load orders_today-1.csv into orders"] * 2
    proposed = [m.payload["decision"] for m in history if m.role == "assistant"]
    assert [(d["tool"], d["args"]) for d in proposed] == [
        ("ingest_file", {"path": "orders_today-1.csv", "dataset": "orders", "mode": "append"})
    ] * 2
    texts = harness.texts_to(OLIVE)
    assert texts.count("Saved orders_today-1.csv in the inbox.") == 2
    assert texts[-1] == "I can only load CSV, XLSX or JSON files; notes.pdf is none of those."
    uploads = [r for r in AuditLog(sb.engine).iter_records() if r.event == "bot.upload"]
    assert len(uploads) == 2 and uploads[0].actor == "olive"


def test_quick_answer_buttons_are_single_use(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    backend.enqueue("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * *"}, confidence=0.95)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "run customer sync every day at 6")
            question = harness.messages_to(OLIVE)[-1]
            yes, no = harness.buttons(question)
            assert (yes["text"], no["text"]) == ("Yes", "No")
            assert len(yes["callback_data"].encode()) <= 64 and "schedule" not in yes["callback_data"]
            await harness.process(harness.api.callback_update(OLIVE, yes["callback_data"]))
            await harness.process(harness.api.callback_update(OLIVE, yes["callback_data"]))
            await harness.process(harness.api.callback_update(OLIVE, no["callback_data"]))

    run(scenario())
    assert [r.name for r in sb.runner.runs.list()] == ["schedule_flow"]
    assert harness.answers() == ["OK", "This button is no longer valid.", "This button is no longer valid."]
    assert harness.texts_to(OLIVE)[-1].startswith("Scheduled customer_sync at '0 6 * * *'")
    assert harness.api.sent_params("editMessageReplyMarkup")[0]["chat_id"] == OLIVE


def test_did_you_mean_offers_each_tool_as_a_button_that_answers_with_it(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    close = [
        Alternative(tool="list_runs", probability=0.5),
        Alternative(tool="list_pending_approvals", probability=0.4),
    ]
    backend.enqueue("list_runs", {}, confidence=0.5, alternatives=close)
    backend.enqueue("list_pending_approvals", {}, confidence=0.6)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "list everything that needs my ok")
            question = harness.messages_to(OLIVE)[-1]
            rows = (question.get("reply_markup") or {}).get("inline_keyboard", [])
            assert [[b["text"] for b in row] for row in rows] == [
                ["List runs"],
                ["List approvals waiting"],
                ["Neither"],
            ]
            pick = harness.buttons(question)[1]
            await harness.process(harness.api.callback_update(OLIVE, pick["callback_data"]))

    run(scenario())
    # Nothing ran yet, so the call is only a detail behind a spoiler, not "What I ran".
    assert harness.texts_to(OLIVE)[-2] == (
        "Did you mean to list runs or list approvals waiting?\n\n<i>Details:</i> <tg-spoiler>"
        "list_runs(period=last_7_days) · confidence 0.50 · clarify · embedded</tg-spoiler>"
    )
    assert harness.texts_to(OLIVE)[-1].startswith(
        "Nothing is waiting for approval.\n\n<i>What I ran: list_pending"
    )
    assert (backend.requests[-1].text, backend.requests[-1].allowed_tools) == (
        "list everything that needs my ok",
        ["list_pending_approvals"],
    )


def test_cancel_answers_no_to_the_pending_question(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    backend.enqueue("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * *"}, confidence=0.95)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "run customer sync every day at 6")
            await harness.text(OLIVE, "/cancel")
            await harness.text(OLIVE, "/cancel")

    run(scenario())
    assert harness.texts_to(OLIVE)[-2:] == ["OK, I won't run it.", "There is nothing to cancel."]
    assert sb.runner.runs.list() == []


def test_errors_are_logged_with_traceback_and_users_get_a_short_message(
    harness: Harness, backend: ScriptedBackend, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(request: object) -> None:
        raise RuntimeError("backend blew up")

    backend.decide = explode  # type: ignore[method-assign]
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "list the runs")

    run(scenario())
    assert harness.texts_to(OLIVE) == [
        "Sorry, something went wrong on my side. The team can find the details in the server log."
    ]
    logged = [r for r in caplog.records if r.name == "bot.app" and r.exc_info]
    assert logged and "backend blew up" in str(logged[0].exc_info[1])
    everything = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert harness.api.token not in everything
    assert "Traceback" not in "".join(harness.texts_to(OLIVE))


def test_inbox_is_created_when_missing(harness: Harness, sb: Switchboard, backend: ScriptedBackend) -> None:
    inbox: Path = sb.settings.inbox
    for item in inbox.iterdir():
        item.unlink()
    inbox.rmdir()

    async def scenario() -> None:
        async with running(harness):
            await harness.process(harness.api.document_update(OLIVE, "customers new.xlsx", b"PK\x03\x04data"))

    run(scenario())
    assert (inbox / "customers_new.xlsx").read_bytes() == b"PK\x03\x04data"
    history = sb.history(thread_id=f"tg:{OLIVE}:{OLIVE}", user="olive")
    assert [m.text for m in history if m.role == "user"] == ["load customers_new.xlsx into customers"]
    assert backend.requests == []


def test_a_429_storm_still_delivers_the_reply_once(harness: Harness, backend: ScriptedBackend) -> None:
    backend.enqueue("list_runs", {}, confidence=0.97)
    harness.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=4)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "list the runs")

    run(scenario())
    assert harness.sleeps == [1.0, 1.0, 1.0, 1.0]
    assert len(harness.texts_to(OLIVE)) == 1
    assert [c.error_code for c in harness.api.calls if c.method == "sendMessage"] == [
        429,
        429,
        429,
        429,
        None,
    ]


def test_an_uploaded_file_is_loaded_only_after_the_operator_confirms(
    bot_settings: Settings,
    engine: Engine,
    people: dict[str, int],
    telegram_api: TelegramApi,
    embedded_backend: Backend,
) -> None:
    content = (
        b"id,name,email,region\n501,Acme Ltd,ops@acme.example,emea\n502,Bolt GmbH,hi@bolt.example,emea\n"
    )

    async def scenario(h: Harness, sb: Switchboard) -> None:
        async with running(h):
            await h.process(h.api.document_update(OLIVE, "customers_new.csv", content))
            assert sb.runner.runs.list() == []  # a write: nothing runs before "yes"
            yes, _ = h.buttons(h.messages_to(OLIVE)[-1])
            await h.process(h.api.callback_update(OLIVE, yes["callback_data"]))

    with open_switchboard(bot_settings, engine, backend=embedded_backend, registry=full_registry()) as sb:
        h = make_harness(bot_settings, sb, telegram_api)
        run(scenario(h, sb))
        runs = [(r.name, r.status.value, r.actor) for r in sb.runner.runs.list()]
    saved, question = h.texts_to(OLIVE)[:2]
    assert saved == "Saved customers_new.csv in the inbox."
    assert question.startswith(
        "Shall I load customers_new.csv into customers, adding to the rows already there?"
    )
    assert runs == [("ingest_file", "succeeded", "olive")]
