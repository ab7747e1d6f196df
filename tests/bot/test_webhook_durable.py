"""The webhook on the durable engine: an update is queued by its id before the 200, and processed once."""

from __future__ import annotations

import asyncio

import uvicorn
from sqlalchemy.engine import Engine

from agent.service import open_switchboard
from bot import intake
from bot.webhook import WEBHOOK_PATH, webhook_app
from switchboard.settings import Settings
from tests.bot.conftest import OLIVE, full_registry, make_harness, run, running, wait_until
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.ports import free_port
from tests.utils.servers.telegram_api import TelegramApi


def test_an_update_sent_twice_is_queued_once_and_answered_once(
    bot_settings: Settings,
    engine: Engine,
    backend: ScriptedBackend,
    people: dict[str, int],
    telegram_api: TelegramApi,
) -> None:
    from dbos import DBOS

    port = free_port("127.0.0.1")
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    backend.enqueue("list_runs", {}, confidence=0.97)
    with open_switchboard(
        bot_settings,
        engine,
        backend=backend,
        registry=full_registry(),
        durable_as="bot",
        extra_queues=(intake.QUEUE,),
    ) as sb:
        h = make_harness(bot_settings, sb, telegram_api)
        update = telegram_api.text_update(OLIVE, "list runs")

        async def scenario() -> None:
            app = webhook_app(h.app, bot_settings, register_url=url)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            serving = asyncio.create_task(server.serve())
            try:
                await wait_until(lambda: telegram_api.state.webhook, what="setWebhook")
                for _ in range(2):  # Telegram re-sends an update whose answer it did not get
                    await asyncio.to_thread(telegram_api.push_update, update)
                await wait_until(lambda: len(h.api.sent_params("sendMessage")) >= 1, what="the reply")
                await asyncio.sleep(1.0)  # time enough for a second reply, if one were coming
            finally:
                server.should_exit = True
                await serving

        run(scenario())
        queued = DBOS.list_workflows(name="switchboard.telegram_update")

    assert [status for _, status in telegram_api.webhook_deliveries] == [200, 200]
    assert [w.workflow_id for w in queued] == [f"telegram:{h.app.bot.id}:{update['update_id']}"]
    assert [r.text for r in backend.requests] == ["list runs"]
    assert len(h.texts_to(OLIVE)) == 1


def test_an_update_taken_from_the_queue_before_the_bot_has_started_waits_for_it(
    bot_settings: Settings,
    engine: Engine,
    backend: ScriptedBackend,
    people: dict[str, int],
    telegram_api: TelegramApi,
) -> None:
    from dbos import DBOS

    backend.enqueue("list_runs", {}, confidence=0.97)
    with open_switchboard(
        bot_settings,
        engine,
        backend=backend,
        registry=full_registry(),
        durable_as="bot",
        extra_queues=(intake.QUEUE,),
    ) as sb:
        h = make_harness(bot_settings, sb, telegram_api)
        update = telegram_api.text_update(OLIVE, "list runs")
        workflow_id = f"telegram:{telegram_api.bot['id']}:{update['update_id']}"
        # Queued by another process while this one is starting: its engine runs, its Application does not yet.
        DBOS.register_queue(intake.QUEUE, partition_concurrency=1)
        intake.enqueue(telegram_api.bot["id"], update)

        async def scenario() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while (await DBOS.get_workflow_status_async(workflow_id)).status == "ENQUEUED":  # type: ignore[union-attr]
                assert loop.time() < deadline, "the engine never took the update"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # it runs, with no Application to hand the update to
            async with running(h):
                await asyncio.to_thread(intake.serve, h.app, asyncio.get_running_loop())
                try:
                    await wait_until(lambda: h.texts_to(OLIVE), what="the reply")
                    await (await DBOS.retrieve_workflow_async(workflow_id)).get_result()
                finally:
                    intake.stop()

        run(scenario())
        status = DBOS.get_workflow_status(workflow_id)

    assert status is not None and status.status == "SUCCESS"
    assert [r.text for r in backend.requests] == ["list runs"]
    assert len(h.texts_to(OLIVE)) == 1
