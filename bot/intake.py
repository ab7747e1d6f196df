"""Telegram updates from the webhook, made durable: queued by update id before the 200, processed once.

The webhook answers Telegram only after the update is enqueued as the workflow ``telegram:<bot>:<update id>`` on
the ``switchboard-telegram`` queue (DBOS stores its input), so a crash after the 200 loses nothing, and a
re-sent update (same id) is not queued twice. Whichever serving process dequeues it hands it to its own PTB
Application; the queue is partitioned by chat with one update at a time per chat, so a chat's messages keep their
order. The workflow id is what deduplicates these updates, so the access guard does not claim them again
(``handed_over``): a workflow re-run after its process died processes its update again, and what that executes is
keyed (approvals, confirmations), so it does not run twice.

The engine takes work from the queue as soon as it is launched, before the Application has started. An update
dequeued then waits for the Application rather than failing: a failed workflow is never run again, so the update,
already answered 200, would be lost. (One taken while the process stops still fails, after ``SERVED_WAIT_S``.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID
from telegram import Update
from telegram.ext import Application

from core.durable import Slot, serving

logger = logging.getLogger(__name__)
QUEUE = "switchboard-telegram"
PROCESS_WAIT_S = 600.0  # a turn waits for its thread at most a minute; a long flow leaves the turn
POLL_S = 0.1
SERVED_WAIT_S = 30.0  # an Application starts within seconds of the engine


@dataclass(frozen=True)
class _Served:
    application: Application  # type: ignore[type-arg]
    loop: asyncio.AbstractEventLoop


_served: Slot[_Served] = Slot()
# Update ids a workflow is processing now: deduplicated by their workflow id, so the access guard lets them through.
handed_over: set[int] = set()


def serve(application: Application, loop: asyncio.AbstractEventLoop) -> None:  # type: ignore[type-arg]
    """Process queued updates on ``application``'s loop (the durable engine must run and this process serve)."""
    # Someone is waiting for the answer: look every 0.1 s rather than DBOS's default second (a cheap query).
    DBOS.register_queue(QUEUE, partition_concurrency=1, polling_interval_sec=POLL_S)
    _served.set(_Served(application, loop))


def stop() -> None:
    """Stop taking updates (they stay queued for the other processes, or this one's next start)."""
    _served.clear()


def accepting() -> bool:
    """True when webhook updates go through the queue (the engine runs, this process serves and processes)."""
    return serving() and _served.get() is not None


def enqueue(bot_id: int, data: dict[str, Any]) -> None:
    """Queue one update, once per update id (synchronous: call it from a worker thread)."""
    chat = _chat_id(data)
    with (
        SetWorkflowID(f"telegram:{bot_id}:{data['update_id']}"),
        SetEnqueueOptions(queue_partition_key=str(chat if chat is not None else "none")),
    ):
        DBOS.retrieve_queue(QUEUE).enqueue(_process, data)  # type: ignore[union-attr]


def _chat_id(data: dict[str, Any]) -> int | None:
    for field in ("message", "edited_message", "channel_post", "callback_query", "my_chat_member"):
        item = data.get(field)
        if isinstance(item, dict):
            chat = (
                (item.get("message") or item).get("chat") if field == "callback_query" else item.get("chat")
            )
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


def _wait_served(within_s: float) -> _Served | None:
    """The Application updates go to, once this process serves one (None if it did not within ``within_s``)."""
    deadline = time.monotonic() + within_s
    while (served := _served.get()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return served


@DBOS.workflow(name="switchboard.telegram_update")
def _process(data: dict[str, Any]) -> None:
    served = _wait_served(SERVED_WAIT_S)
    if served is None:
        raise RuntimeError("this process no longer processes Telegram updates")
    update = Update.de_json(data, served.application.bot)
    handed_over.add(update.update_id)
    try:
        future = asyncio.run_coroutine_threadsafe(served.application.process_update(update), served.loop)
        future.result(timeout=PROCESS_WAIT_S)
    finally:
        handed_over.discard(update.update_id)
