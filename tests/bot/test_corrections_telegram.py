"""Corrections made on Telegram reach the review queue: a "No" button, and a "Did you mean" pick of the second tool."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from agent.backends.base import Alternative
from agent.service import Switchboard
from core.store.training_candidates import list_candidates
from tests.bot.conftest import OLIVE, Harness, run, running
from tests.utils.fake_backend import ScriptedBackend

SCHEDULE = {"flow": "customer_sync", "cron": "0 6 * * *"}


def test_a_no_and_a_pick_on_telegram_are_queued_for_review(
    harness: Harness, backend: ScriptedBackend, sb: Switchboard, engine: Engine
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.95)
    close = [
        Alternative(tool="list_runs", probability=0.5),
        Alternative(tool="list_pending_approvals", probability=0.4),
    ]
    backend.enqueue("list_runs", {}, confidence=0.5, alternatives=close)
    backend.enqueue("list_pending_approvals", {}, confidence=0.6)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "run customer sync every day at 6")
            _, no = harness.buttons(harness.messages_to(OLIVE)[-1])
            await harness.process(harness.api.callback_update(OLIVE, no["callback_data"]))
            await harness.text(OLIVE, "list everything that needs my ok")
            pick = harness.buttons(harness.messages_to(OLIVE)[-1])[1]
            await harness.process(harness.api.callback_update(OLIVE, pick["callback_data"]))

    run(scenario())
    assert sb.runner.runs.list() == []
    assert [
        (c.user, c.channel, c.kind, c.text, c.chose_tool, c.meant_tool, c.status)
        for c in list_candidates(engine=engine)
    ] == [
        (
            "olive",
            "telegram",
            "declined",
            "run customer sync every day at 6",
            "schedule_flow",
            None,
            "pending",
        ),
        (
            "olive",
            "telegram",
            "other_choice",
            "list everything that needs my ok",
            "list_runs",
            "list_pending_approvals",
            "pending",
        ),
    ]
