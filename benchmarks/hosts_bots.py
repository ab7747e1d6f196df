"""The Telegram side of the hosts simulation: people chatting and tapping Approve, as Telegram would deliver it.

The bots (``switchboard bot --webhook``) send through a fake Bot API on loopback (tests/utils/servers), which
keeps every message they send. Telegram's part is played here: a message or a button tap becomes an update POSTed
with the webhook secret to one bot, and to the other when that one does not answer 200 (killed, or starting), as
Telegram re-sends a failed delivery. Operators wait for the bot's answer before they write again; the approver
taps the Approve button of the request message the bots sent to her chat.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from tests.utils.servers.telegram_api import TelegramApi

if TYPE_CHECKING:
    from benchmarks.hosts_process import Host

T = TypeVar("T")

WEBHOOK_PATH = "/telegram/webhook"  # bot/webhook.py
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET = "hosts-benchmark-webhook-secret"
PUBLIC_URL = f"https://bot.example.test{WEBHOOK_PATH}"  # the one URL every bot registers (a load balancer's)
OPERATORS = {"olive": 1001, "oscar": 1002, "otto": 1003, "opal": 1004}  # one Telegram chat per chat worker
APPROVER = ("ann", 2002)
REPLY_WAIT_S = 120.0  # a bot killed mid-turn restarts and runs the queued update again
BUTTON_WAIT_S = 60.0  # a request made in a console reaches the approver at a bot's next sweep
_WAITING = re.compile(r"Request (\S+) is waiting for approval")


def link_people(engine: Any) -> None:
    """The bot's users: the operators (olive exists) and the approver ann, linked to their Telegram ids."""
    from core.store.users import create_user, link_telegram

    for name, telegram_id in OPERATORS.items():
        if name != "olive":
            create_user(engine=engine, name=name, role="operator", password=None, actor="benchmark")
        link_telegram(engine=engine, name=name, telegram_user_id=telegram_id, actor="benchmark")
    link_telegram(engine=engine, name=APPROVER[0], telegram_user_id=APPROVER[1], actor="benchmark")


def bot_env(api: TelegramApi) -> dict[str, str]:
    """What a bot process needs besides the hosts' shared settings: the token, the Bot API, the webhook secret."""
    return {
        "SWITCHBOARD_TELEGRAM_TOKEN": api.token,
        "SWITCHBOARD_TELEGRAM_API_URL": api.base_url,
        "SWITCHBOARD_TELEGRAM_WEBHOOK_SECRET": SECRET,
    }


def bot_args(port: int, *, sweep_interval: float) -> tuple[str, ...]:
    """``switchboard bot`` arguments: webhook mode on ``port``, behind the shared public URL."""
    return (
        *("--webhook", PUBLIC_URL, "--host", "127.0.0.1", "--port", str(port)),
        *("--sweep-interval", f"{sweep_interval:g}"),
    )


def wait_listening(bot: Host, timeout_s: float = 180) -> None:
    """Wait until a bot answers HTTP (uvicorn listens once the Application has started and takes updates)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert bot.process is not None
        if bot.process.poll() is not None:
            raise RuntimeError(f"switchboard bot exited with {bot.process.returncode}")
        try:
            urllib.request.urlopen(f"{bot.url}{WEBHOOK_PATH}", timeout=1)  # noqa: S310 - loopback
        except urllib.error.HTTPError:
            return  # 405: a GET to the webhook, answered by the running app
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("switchboard bot did not start")


@dataclass
class Telegram:
    """Telegram's part: delivering updates to the bots, and the people's view of the chats."""

    api: TelegramApi
    bots: list[Host]
    database_url: str
    presses: dict[str, str] = field(default_factory=dict)  # callback query id → approval id
    replies_missing: int = 0  # chat turns the bot never answered (within REPLY_WAIT_S)
    stuck: set[int] = field(default_factory=set)  # chats with a turn never answered: the rest go to a console
    buttons_missing: int = 0  # approvals whose button never reached the approver (approved in a console)
    redeliveries: int = 0  # POSTs that got no 200 and went to the other bot

    async def post(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> float:
        """Deliver ``update`` until a bot answers 200; the wall clock of that 200."""
        order = random.sample(self.bots, len(self.bots))
        for attempt in range(120):
            bot = order[attempt % len(order)]
            try:
                async with session.post(
                    f"{bot.url}{WEBHOOK_PATH}", json=update, headers={SECRET_HEADER: SECRET}
                ) as response:
                    if response.status == 200:
                        return time.time()
            except (TimeoutError, aiohttp.ClientError):
                pass
            self.redeliveries += 1
            await asyncio.sleep(0.25 if attempt % len(order) == len(order) - 1 else 0)
        raise RuntimeError(f"no bot took update {update['update_id']}")

    async def ask(self, session: aiohttp.ClientSession, operator: int, text: str) -> str | None:
        """One chat turn from ``operator``'s private chat; the approval id when the answer is a request."""
        update = self.api.text_update(operator, text)
        after = int(update["message"]["message_id"])
        await self.post(session, update)
        wants_approval = text.startswith("send file")

        def answered() -> str | None:
            for message in self._from_bot(operator, after):
                body = str(message.get("text") or message.get("caption") or "")
                found = _WAITING.search(body)
                if found:
                    return found.group(1)
                if not wants_approval and not body.startswith("Request "):  # not an earlier request's outcome
                    return ""
            return None

        reply = await _wait_for(answered, REPLY_WAIT_S)
        if reply is None:
            self.replies_missing += 1
            self.stuck.add(operator)  # its later updates would queue behind this one (one at a time per chat)
        if wants_approval and not reply:
            return await asyncio.to_thread(self._request_for, text)
        return reply or None

    async def approve(self, session: aiohttp.ClientSession, approval_id: str) -> float | None:
        """Tap Approve on the request's message in the approver's chat; the wall clock of the 200 (None: no button)."""
        button = await _wait_for(lambda: self._button(approval_id), BUTTON_WAIT_S)
        if button is None:
            self.buttons_missing += 1
            return None
        message_id, token = button
        update = self.api.callback_update(APPROVER[1], token, message_id=message_id)
        self.presses[update["callback_query"]["id"]] = approval_id
        return await self.post(session, update)

    def answers(self) -> dict[str, int]:
        """How the bots answered the taps ("Approved.", "Already decided by ann", none)."""
        with self.api.state.lock:
            answered = dict(self.api.state.answered_callbacks)
        return dict(Counter(str((answered.get(q) or {}).get("text", "(no answer)")) for q in self.presses))

    def _from_bot(self, chat_id: int, after: int) -> list[dict[str, Any]]:
        state = self.api.state
        with state.lock:
            return [
                dict(m)
                for (chat, mid), m in sorted(state.messages.items())
                if chat == chat_id and mid > after and m["from"]["id"] == state.me["id"]
            ]

    def _button(self, approval_id: str) -> tuple[int, str] | None:
        for message in reversed(self._from_bot(APPROVER[1], 0)):
            if f"<code>{approval_id}</code>" not in str(message.get("text", "")):
                continue
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in (b for row in rows for b in row):
                if "Approve" in str(button.get("text")) and button.get("callback_data"):
                    return int(message["message_id"]), str(button["callback_data"])
        return None

    def _request_for(self, text: str) -> str | None:
        """The pending request a turn made, looked up in the database (its answer never came)."""
        from sqlmodel import Session, select

        from core.store.approvals import ApprovalRequest
        from core.store.db import make_engine

        artifact = int(text.split()[2])
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                rows = session.execute(
                    select(ApprovalRequest).where(ApprovalRequest.tool == "deliver_file")
                ).scalars()
                return next((r.id for r in rows if r.args.get("file") == artifact), None)
        finally:
            engine.dispose()


async def _wait_for(check: Callable[[], T | None], within: float) -> T | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    return None


def update_workflows(database_url: str, timeout_s: float) -> dict[str, Any]:
    """The webhook's queued updates once none is left to run (or ``timeout_s`` passed): outcomes and timings.

    ``outcomes`` counts them by status; a status other than SUCCESS is keyed with the executor holding it (an update
    left PENDING or ENQUEUED was answered 200 and not processed). ``approver`` and ``operators`` give the p50 and
    p95 seconds an update waited in the queue and then ran, in the approver's chat and in the operators' chats.
    """
    from sqlalchemy import text

    from core.store.db import make_engine

    query = text(
        "SELECT status, executor_id, queue_partition_key, created_at, started_at_epoch_ms, updated_at "
        "FROM dbos.workflow_status WHERE name = 'switchboard.telegram_update'"
    )
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            with engine.connect() as connection:
                rows = list(connection.execute(query))
            unfinished = any(row.status in ("PENDING", "ENQUEUED") for row in rows)
            if not unfinished or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    finally:
        engine.dispose()
    outcomes = Counter(
        row.status if row.status == "SUCCESS" else f"{row.status}@{row.executor_id}" for row in rows
    )
    report: dict[str, Any] = {"outcomes": dict(outcomes)}
    for who, mine in (("approver", True), ("operators", False)):
        done = [
            row
            for row in rows
            if row.status == "SUCCESS"
            and row.started_at_epoch_ms is not None
            and (row.queue_partition_key == str(APPROVER[1])) == mine
        ]
        waits = [(row.started_at_epoch_ms - row.created_at) / 1000 for row in done]
        runs = [(row.updated_at - row.started_at_epoch_ms) / 1000 for row in done]
        report[who] = {"wait_s": _p50_p95(waits), "run_s": _p50_p95(runs)}
    return report


def _p50_p95(values: list[float]) -> tuple[float, float] | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[len(ordered) // 2], 2), round(
        ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2
    )
