"""``switchboard bot`` as a real process: long polling against the fake Bot API, stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from agent.backends.base import Backend
from switchboard.settings import Settings
from tests.bot.conftest import STRANGER
from tests.utils.servers.telegram_api import TelegramApi

ROOT = Path(__file__).resolve().parents[2]
# The command module is registered by switchboard/cli.py; this stand-in root keeps the test independent of it.
SCRIPT = """
import typer
from switchboard.app import App, configure_logging
from switchboard.commands import bot_cmd
app = typer.Typer()
@app.callback()
def root(ctx: typer.Context) -> None:
    ctx.obj = App()
bot_cmd.register(app)
configure_logging("INFO")
app()
"""


@pytest.mark.integration
def test_switchboard_bot_polls_refuses_strangers_and_stops_on_ctrl_c(
    settings: Settings,
    engine: Engine,
    telegram_api: TelegramApi,
    tmp_path: Path,
    embedded_backend: Backend,
    router_var_dir: Path,
) -> None:
    # Reuse the session's trained router (if the shipped one is stale) instead of training it again.
    (settings.var_dir / "router").symlink_to(router_var_dir / "router", target_is_directory=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_VAR_DIR": str(settings.var_dir),
        "SWITCHBOARD_TELEGRAM_TOKEN": telegram_api.token,
        "SWITCHBOARD_TELEGRAM_API_URL": telegram_api.base_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "bot", "--sweep-interval", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        telegram_api.wait_for_call("getUpdates", timeout=60)
        telegram_api.push_update(telegram_api.text_update(STRANGER, "hello"))
        telegram_api.wait_for_call("sendMessage", timeout=30)
    finally:
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (refusal,) = telegram_api.sent_params("sendMessage")
    assert refusal["chat_id"] == STRANGER and "I don't know your Telegram account" in refusal["text"]
    assert "Polling" in out
    assert telegram_api.token not in out + err
