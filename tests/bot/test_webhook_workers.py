"""``switchboard serve --workers 2`` with the Telegram webhook: each worker serves it, each update is answered once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.webhook import WEBHOOK_PATH, register_webhook
from switchboard.settings import Settings
from tests.bot.conftest import ANN, OLIVE, WEBHOOK_SECRET
from tests.conftest import REFERENCE_DATE
from tests.utils.serve import serve_workers
from tests.utils.servers.telegram_api import TelegramApi

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_two_workers_serve_one_webhook_and_answer_each_update_once(
    bot_settings: Settings, people: dict[str, int], telegram_api: TelegramApi
) -> None:
    env = {
        "SWITCHBOARD_DATABASE_URL": bot_settings.database_url,
        "SWITCHBOARD_VAR_DIR": str(bot_settings.var_dir),
        "SWITCHBOARD_REFERENCE_DATE": REFERENCE_DATE.isoformat(),
        "SWITCHBOARD_TELEGRAM_TOKEN": telegram_api.token,
        "SWITCHBOARD_TELEGRAM_API_URL": telegram_api.base_url,
        "SWITCHBOARD_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with serve_workers(env) as (url, _process):
        asyncio.run(register_webhook(bot_settings, url=f"{url}{WEBHOOK_PATH}"))
        updates = [telegram_api.text_update(who, "/help") for who in (OLIVE, ANN, OLIVE, ANN)]
        delivered = []
        for update in [*updates, updates[0]]:  # the last one again, as Telegram re-sends
            for _ in range(
                100
            ):  # a worker that has not started its bot yet answers 503, and Telegram retries
                telegram_api.push_update(update)
                if telegram_api.webhook_deliveries[-1][1] == 200:
                    break
                time.sleep(0.2)
            delivered.append(telegram_api.webhook_deliveries[-1])
        deadline = time.monotonic() + 60
        while len(telegram_api.sent_params("sendMessage")) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # time enough for a duplicate answer, if one were coming

    assert [status for _, status in delivered] == [200] * 5
    answered = [p["chat_id"] for p in telegram_api.sent_params("sendMessage")]
    assert sorted(answered) == sorted([OLIVE, ANN, OLIVE, ANN])
