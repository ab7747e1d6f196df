"""A flow started from Telegram runs off the turn; the bot's sweep sends its outcome to the chat, once."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from switchboard.settings import Settings
from tests.bot.conftest import OLIVE, full_registry, make_harness, run, running
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.telegram_api import TelegramApi


def _posted(sb: Switchboard, run_id: int) -> bool:
    history = sb.history(thread_id=f"tg:{OLIVE}:{OLIVE}", user="olive")
    return any(m.payload.get("run_id") == run_id and "kind" not in m.payload for m in history)


def test_a_flow_started_from_telegram_reports_its_outcome_in_the_chat(
    bot_settings: Settings,
    engine: Engine,
    backend: ScriptedBackend,
    people: dict[str, int],
    telegram_api: TelegramApi,
) -> None:
    seed_basic(engine)
    with open_switchboard(
        bot_settings, engine, backend=backend, registry=full_registry(), durable_as="bot"
    ) as sb:
        h = make_harness(bot_settings, sb, telegram_api)

        async def scenario() -> int:
            async with running(h):
                backend.enqueue("run_flow", {"flow": "customer_sync"}, confidence=0.95)
                await h.text(OLIVE, "run the customer sync")
                await h.text(OLIVE, "yes")
                run_id = sb.runner.runs.list()[0].id
                assert run_id is not None
                for _ in range(300):  # until the workflow's last step has posted the outcome to the thread
                    if _posted(sb, run_id):
                        break
                    await asyncio.sleep(0.1)
                await h.runtime.sweep()
                await h.runtime.sweep()  # a second sweep (or a second bot) sends nothing again
                return run_id

        run_id = run(scenario())

    texts = h.texts_to(OLIVE)
    assert texts[1].startswith(f"Started run {run_id} to run the customer sync flow.")
    outcomes = [t for t in texts if t.startswith(f"Run {run_id} ")]
    assert len(outcomes) == 1 and outcomes[0].startswith(
        f"Run {run_id} (run the customer sync flow) finished: "
    )


def test_the_outcome_reaches_the_chat_within_seconds_without_waiting_for_the_sweep(
    bot_settings: Settings,
    engine: Engine,
    backend: ScriptedBackend,
    people: dict[str, int],
    telegram_api: TelegramApi,
) -> None:
    seed_basic(engine)
    with open_switchboard(
        bot_settings, engine, backend=backend, registry=full_registry(), durable_as="bot"
    ) as sb:
        # The sweep runs once at start and then not for an hour: only the outcome poll can send it.
        h = make_harness(bot_settings, sb, telegram_api, sweep_interval=3600, outcome_interval=0.2)

        async def scenario() -> list[str]:
            async with running(h):
                backend.enqueue("run_flow", {"flow": "customer_sync"}, confidence=0.95)
                await h.text(OLIVE, "run the customer sync")
                await h.text(OLIVE, "yes")
                for _ in range(150):
                    outcomes = [t for t in h.texts_to(OLIVE) if t.startswith("Run ")]
                    if outcomes:
                        return outcomes
                    await asyncio.sleep(0.1)
                return []

        outcomes = run(scenario())

    assert len(outcomes) == 1 and " finished: " in outcomes[0]
