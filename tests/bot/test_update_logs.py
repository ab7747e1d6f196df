"""A bot update's log lines carry its update id, chat, thread and actor, down into the agent's turn."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from agent.backends.base import DecideRequest, Decision
from core.logs import bind, bound
from tests.bot.conftest import OLIVE, STRANGER, Harness, run, running, wait_until
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.logs import captured_json

turn_log = logging.getLogger("tests.bot.update_logs")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    with captured_json(turn_log) as stream:
        yield stream


def test_a_polled_update_binds_its_ids_for_the_turn(
    harness: Harness, backend: ScriptedBackend, lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide = backend.decide

    def logging_decide(request: DecideRequest) -> Decision:
        turn_log.info("deciding")
        return decide(request)

    monkeypatch.setattr(backend, "decide", logging_decide)
    backend.enqueue("list_runs", {}, confidence=0.97)
    update = harness.api.text_update(OLIVE, "list runs")

    async def scenario() -> None:
        async with running(harness):
            await harness.poll()  # polled updates go through the update processor, as in production
            harness.api.push_update(update)
            await wait_until(lambda: harness.texts_to(OLIVE), what="the reply")

    run(scenario())
    (line,) = [json.loads(text) for text in lines.getvalue().splitlines()]
    fields: dict[str, Any] = {k: line[k] for k in ("update_id", "chat_id", "thread_id", "actor")}
    assert fields == {
        "update_id": update["update_id"],
        "chat_id": OLIVE,
        "thread_id": f"tg:{OLIVE}:{OLIVE}",
        "actor": "olive",
    }


def test_identifying_a_telegram_account_makes_its_user_the_actor(harness: Harness) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        with bind(actor=f"telegram:{OLIVE}"):
            await harness.runtime.identify(OLIVE)
            known = bound()
        with bind(actor=f"telegram:{STRANGER}"):
            await harness.runtime.identify(STRANGER)
            unknown = bound()
        return known, unknown

    assert run(scenario()) == ({"actor": "olive"}, {"actor": f"telegram:{STRANGER}"})
