"""Approvals on Telegram, offline: requests, buttons, double taps, wrong people, reject reasons, expiry.

Who gets buttons and whose tap counts follow the approval rule: four-eyes as the policy says, one vote each.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from agent.config import PolicyConfig, ToolPolicy
from agent.service import Switchboard
from bot import tokens
from bot.app import runtime_of
from core.store import approval_ops
from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.audit import AuditLog
from core.store.db import utcnow, write_session
from flows.config import RetryPolicy
from flows.export.exporter import export_dataset
from switchboard.settings import Settings
from tests.bot.conftest import ANN, BOB, OLIVE, OSCAR, Harness, make_harness, run, running, wait_until
from tests.conftest import REFERENCE_DATE
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.telegram_api import TelegramApi

DELIVER = {"file": "latest", "destination": "finance_share"}


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {}  # settings as configured; a test parametrizes ``overrides`` to change some


@pytest.fixture
def bot_settings(bot_settings: Settings, overrides: dict[str, Any]) -> Settings:
    return bot_settings.model_copy(update=overrides)


def _export(sb: Switchboard) -> str:
    """Seed data and export it; returns the call as the requester is told of it ("latest" is pinned to the id)."""
    seed_basic(sb.engine)
    result = export_dataset(
        engine=sb.engine,
        artifacts_dir=sb.settings.artifacts,
        dataset="customers",
        fmt="csv",
        period=None,
        today=REFERENCE_DATE,
    )
    return f"send artifact {result.artifact.id} to finance share"


async def _ask_for_delivery(h: Harness, backend: ScriptedBackend, who: int = OLIVE) -> str:
    backend.enqueue("deliver_file", DELIVER, confidence=0.95)
    await h.text(who, "send the latest export to the finance share")
    reply = h.texts_to(who)[-1]
    assert "is waiting for approval" in reply, reply
    return reply.split("Request ", 1)[1].split(" ", 1)[0]


def _request_message(h: Harness, chat_id: int) -> dict[str, Any]:
    found = [p for p in h.messages_to(chat_id) if "Approval needed" in str(p["text"])]
    assert found, h.texts_to(chat_id)
    return found[-1]


def _delivered(sb: Switchboard) -> list[str]:
    return [r.name for r in sb.runner.runs.list() if r.name == "deliver_file"]


def test_approvers_get_the_request_with_buttons(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    call = _export(sb)

    async def scenario() -> str:
        async with running(harness):
            return await _ask_for_delivery(harness, backend)

    approval_id = run(scenario())
    for approver in (ANN, BOB):
        message = _request_message(harness, approver)
        lines = str(message["text"]).splitlines()
        assert lines[0] == f"🔔 <b>Approval needed</b> · <code>{approval_id}</code>"
        assert "<b>Requested by:</b> olive" in lines
        assert "<b>Tool:</b> <code>deliver_file</code>" in lines
        assert lines[3:6] == [
            "<b>Arguments:</b>",
            f"<pre>file: {call.split()[2]}",
            "destination: finance_share</pre>",
        ]
        assert any(line.startswith("<b>Preview:</b> ") and "finance_share" in line for line in lines)
        assert any(line.startswith("<b>Why approval:</b> ") for line in lines)
        assert any(line.startswith("<b>Expires:</b> ") and line.endswith(" UTC") for line in lines)
        approve, reject, edit = harness.buttons(message)
        assert (approve["text"], reject["text"], edit["text"]) == ("✅ Approve", "❌ Reject", "✏️ Edit")
        assert edit["url"] == f"https://console.example.test/approvals/{approval_id}"
        assert all(
            len(b["callback_data"].encode()) <= 64 and approval_id not in b["callback_data"]
            for b in (approve, reject)
        )
    assert not [
        t for t in harness.texts_to(OLIVE) if "Approval needed" in t
    ]  # four-eyes: no buttons for olive


def test_double_tap_executes_once_and_edits_the_message(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    call = _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
            message = _request_message(harness, ANN)
            token = harness.buttons(message)[0]["callback_data"]
            await harness.process(harness.api.callback_update(ANN, token))
            await harness.process(harness.api.callback_update(ANN, token))
            bob_token = harness.buttons(_request_message(harness, BOB))[0]["callback_data"]
            await harness.process(harness.api.callback_update(BOB, bob_token))
            return approval_id

    approval_id = run(scenario())
    assert _delivered(sb) == ["deliver_file"]
    assert harness.answers() == ["Approved.", "Already decided by ann", "Already decided by ann"]
    edits = {p["chat_id"]: p for p in harness.api.sent_params("editMessageText")}
    assert set(edits) == {ANN, BOB}
    for edit in edits.values():
        assert str(edit["text"]).startswith(f"🔔 <b>Approval needed</b> · <code>{approval_id}</code>")
        assert "\n\n✅ Approved by ann · ran as run " in str(edit["text"])
        assert "reply_markup" not in edit
    told = harness.texts_to(OLIVE)[-1]
    assert told.startswith(f"Request {approval_id} ({call}) was approved by ann and has run:")
    events = [r.event for r in AuditLog(sb.engine).iter_records()]
    assert events.count("approval.approved") == 1 and events.count("approval.executed") == 1
    assert AuditLog(sb.engine).verify().ok


def test_a_tap_run_again_after_its_process_died_between_button_and_vote_still_approves(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    _export(sb)

    async def scenario() -> None:
        async with running(harness):
            await _ask_for_delivery(harness, backend)
            token = harness.buttons(_request_message(harness, ANN))[0]["callback_data"]
            tap = harness.api.callback_update(ANN, token)
            # The first run of this update used the button, then its process was killed before the vote.
            assert tokens.consume(sb.engine, token, telegram_user_id=ANN)
            await harness.process(tap)  # the durable intake runs the update again after the restart
            await harness.process(harness.api.callback_update(ANN, token))  # and a later double tap

    run(scenario())
    assert _delivered(sb) == ["deliver_file"]
    assert harness.answers() == ["Approved.", "Already decided by ann"]


def test_wrong_people_are_refused_without_using_the_button(
    bot_settings: Settings, sb: Switchboard, telegram_api: TelegramApi, backend: ScriptedBackend
) -> None:
    group = -100500
    h = make_harness(
        bot_settings.model_copy(update={"telegram_allowed_chats": [group, ANN, BOB]}), sb, telegram_api
    )
    _export(sb)

    async def scenario() -> None:
        async with running(h):
            await _ask_for_delivery(h, backend, who=BOB)  # an approver asks: four-eyes applies to him
            ann_token = h.buttons(_request_message(h, ANN))[0]["callback_data"]
            await h.process(h.api.callback_update(OSCAR, ann_token, chat_id=ANN))  # someone else's button
            await h.text(ANN, "/pending", chat_id=group)  # in a group: buttons for any approver
            group_token = h.buttons(_request_message(h, group))[0]["callback_data"]
            await h.process(h.api.callback_update(OSCAR, group_token, chat_id=group))  # an operator
            await h.process(h.api.callback_update(BOB, group_token, chat_id=group))  # the requester
            await h.process(h.api.callback_update(ANN, group_token, chat_id=group))  # an approver: decides

    run(scenario())
    assert h.answers() == [
        "This button belongs to another approver.",
        "Only approvers can decide",
        "You can't approve your own request (four-eyes)",
        "Approved.",
    ]
    assert not [t for t in h.texts_to(BOB) if "Approval needed" in t]
    assert _delivered(sb) == ["deliver_file"]
    assert sb.approvals.pending() == []


def test_reject_asks_for_the_reason_in_chat(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    call = _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
            reject = harness.buttons(_request_message(harness, ANN))[1]["callback_data"]
            await harness.process(harness.api.callback_update(ANN, reject))
            await harness.text(ANN, "not before the audit")
            return approval_id

    approval_id = run(scenario())
    assert harness.answers() == ["Send the reason in the chat."]
    ask, ack = harness.messages_to(ANN)[-2:]
    assert ask["text"] == (
        f'<a href="tg://user?id={ANN}">User{ANN}</a> Why are you rejecting '
        f"<code>{approval_id}</code>? Reply with the reason, or send /cancel."
    )
    assert ask["reply_markup"]["force_reply"] is True
    assert ack["text"] == f"Rejected {approval_id}. I told the requester."
    assert harness.texts_to(OLIVE)[-1] == (
        f"Request {approval_id} ({call}) was rejected by ann: not before the audit"
    )
    edited = {p["chat_id"]: str(p["text"]) for p in harness.api.sent_params("editMessageText")}
    assert edited[ANN].endswith("\n\n❌ Rejected by ann: not before the audit")
    assert _delivered(sb) == []
    assert (
        backend.requests[-1].text == "send the latest export to the finance share"
    )  # the reason never reached it


def test_cancel_drops_a_reject_reason(harness: Harness, backend: ScriptedBackend, sb: Switchboard) -> None:
    _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
            reject = harness.buttons(_request_message(harness, ANN))[1]["callback_data"]
            await harness.process(harness.api.callback_update(ANN, reject))
            await harness.text(ANN, "/cancel")
            return approval_id

    approval_id = run(scenario())
    assert harness.texts_to(ANN)[-1] == f"OK, I won't reject {approval_id}."
    assert [r.status for r in sb.approvals.pending()] == [ApprovalStatus.PENDING]


def test_expired_request_is_refused_then_swept(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    call = _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
            with write_session(sb.engine) as session:
                session.execute(
                    update(ApprovalRequest)
                    .where(ApprovalRequest.id == approval_id)  # type: ignore[arg-type]
                    .values(expires_at=utcnow() - timedelta(minutes=1))
                )
            token = harness.buttons(_request_message(harness, ANN))[0]["callback_data"]
            await harness.process(harness.api.callback_update(ANN, token))
            await runtime_of(harness.app).sweep()
            await runtime_of(harness.app).drain()
            return approval_id

    approval_id = run(scenario())
    assert harness.answers() == ["This request has expired."]
    assert _delivered(sb) == []
    assert harness.texts_to(OLIVE)[-1] == (
        f"Request {approval_id} ({call}) expired before anyone decided, so it did not run."
    )
    edited = {p["chat_id"]: str(p["text"]) for p in harness.api.sent_params("editMessageText")}
    assert edited[ANN].endswith("⌛ Expired before anyone decided; it did not run.")


def test_decisions_made_elsewhere_close_the_messages(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    call = _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
        # the bot is down; ann approves in the console (the bot's listener is not registered)
        sb.approvals.approve(approval_id, approver="ann", role="approver")
        async with running(harness):
            await runtime_of(harness.app).sweep()
            token = harness.buttons(_request_message(harness, BOB))[0]["callback_data"]
            await harness.process(harness.api.callback_update(BOB, token))
        return approval_id

    approval_id = run(scenario())
    edited = {p["chat_id"]: str(p["text"]) for p in harness.api.sent_params("editMessageText")}
    assert set(edited) == {ANN, BOB} and all("✅ Approved by ann" in t for t in edited.values())
    assert harness.texts_to(OLIVE)[-1].startswith(
        f"Request {approval_id} ({call}) was approved by ann and has run: "
    )
    assert harness.answers() == ["Already decided by ann"]
    assert _delivered(sb) == ["deliver_file"]


def test_reminders_and_pending_list(harness: Harness, backend: ScriptedBackend, sb: Switchboard) -> None:
    _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
            request = sb.approvals.pending()[0]
            await_now = request.expires_at - timedelta(minutes=30)
            sb.approvals.remind_due(now=await_now)
            await runtime_of(harness.app).drain()
            await harness.text(OLIVE, "/pending")
            await harness.text(ANN, "/pending")
            return approval_id

    approval_id = run(scenario())
    reminders = [t for t in harness.texts_to(BOB) if "⏰ <b>Reminder</b>" in t]
    assert len(reminders) == 1 and approval_id in reminders[0]
    assert harness.texts_to(OLIVE)[-1].startswith(
        f"Your requests waiting for approval:\n• <code>{approval_id}</code>"
    )
    pending_for_ann = _request_message(harness, ANN)
    assert len(harness.buttons(pending_for_ann)) == 3


def test_requests_made_while_the_bot_was_down_are_sent_when_it_starts(
    bot_settings: Settings, sb: Switchboard, telegram_api: TelegramApi
) -> None:
    _export(sb)
    request = sb.approvals.request(  # e.g. from the console, with no bot listening
        tool="deliver_file", args=DELIVER, requester="olive", reasons=["external action"], thread_id="tg:1:1"
    )
    h = make_harness(bot_settings, sb, telegram_api, sweep_interval=60)  # the first sweep runs at start

    async def scenario() -> None:
        async with running(h):
            await wait_until(lambda: len(h.api.sent_params("sendMessage")) == 2, what="both approvers")

    run(scenario())
    assert sorted(p["chat_id"] for p in h.api.sent_params("sendMessage")) == [ANN, BOB]
    assert all(
        request.id in str(p["text"]) and len(h.buttons(p)) == 3 for p in h.api.sent_params("sendMessage")
    )


@pytest.mark.parametrize("overrides", [{"policy": PolicyConfig(four_eyes=False)}], ids=["four-eyes off"])
def test_without_four_eyes_the_requester_gets_buttons_and_may_approve(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    _export(sb)

    async def scenario() -> str:
        async with running(harness):
            backend.enqueue("deliver_file", DELIVER, confidence=0.95)
            await harness.text(BOB, "send the latest export to the finance share")  # an approver asks
            own = harness.buttons(_request_message(harness, BOB))[0]["callback_data"]
            await harness.process(harness.api.callback_update(BOB, own))
            return str(_request_message(harness, BOB)["text"]).split("<code>", 1)[1].split("<", 1)[0]

    approval_id = run(scenario())
    asked = [p["chat_id"] for p in harness.api.sent_params("sendMessage") if "Approval needed" in p["text"]]
    assert sorted(asked) == [ANN, BOB]
    assert harness.answers() == ["Approved."]
    assert _delivered(sb) == ["deliver_file"]
    request = approval_ops.get_request(engine=sb.engine, approval_id=approval_id)
    assert (request.status, request.requester, request.decided_by) == (ApprovalStatus.EXECUTED, "bob", "bob")


# The reminder raises an "approval expiring" alert by e-mail, and no mail server runs here: fail fast.
QUORUM_2 = {
    "policy": PolicyConfig(tools={"deliver_file": ToolPolicy(quorum=2)}),
    "retry": RetryPolicy(attempts=1, base_delay_s=0),
}


@pytest.mark.parametrize("overrides", [QUORUM_2], ids=["quorum 2"])
def test_under_a_quorum_a_second_tap_by_the_same_approver_does_not_count(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard
) -> None:
    _export(sb)

    async def scenario() -> str:
        async with running(harness):
            approval_id = await _ask_for_delivery(harness, backend)
            token = harness.buttons(_request_message(harness, ANN))[0]["callback_data"]
            await harness.process(harness.api.callback_update(ANN, token))
            await harness.process(harness.api.callback_update(ANN, token))
            request = sb.approvals.pending()[0]
            sb.approvals.remind_due(now=request.expires_at - timedelta(minutes=30))
            await runtime_of(harness.app).drain()
            return approval_id

    approval_id = run(scenario())
    assert harness.answers() == [
        "Approved.",
        "You already approved this; 1 more approval(s) needed from others.",
    ]
    assert [str(p["text"]).rsplit("\n\n", 1)[-1] for p in harness.api.sent_params("editMessageText")] == [
        "👍 You approved; 1 more approval(s) needed."
    ]
    reminded = [
        p["chat_id"] for p in harness.api.sent_params("sendMessage") if "⏰ <b>Reminder</b>" in p["text"]
    ]
    assert reminded == [BOB]  # ann has voted: no buttons for her a second time
    assert [(r.id, r.approvals) for r in sb.approvals.pending()] == [(approval_id, 1)]
    assert _delivered(sb) == []
