"""Outcomes posted to a Telegram thread after its turn ended (a flow started in the background): sent once each.

The run's workflow may end on any process (a console worker, another host), so it only posts the outcome to the
thread. Every bot sweep looks for such posts in Telegram threads and sends each through the outbox under the key
``outcome:<message id>``: several bot processes, or a sweep after a crash, never send one twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.outbox import Outbox
from bot.render import esc
from core.store.approvals import ThreadMessage
from core.store.db import utcnow

LOOK_BACK = timedelta(
    days=1
)  # an outcome older than this, never sent (the bot was down a day), is left alone


def later_outcomes(engine: Engine, *, since: datetime) -> list[ThreadMessage]:
    """Run outcomes posted to Telegram threads since ``since``, oldest first (not a turn's own reply)."""
    with Session(engine) as session:
        rows = session.execute(
            select(ThreadMessage)
            .where(
                col(ThreadMessage.thread_id).startswith("tg:"),
                col(ThreadMessage.role) == "assistant",
                col(ThreadMessage.created_at) >= since,
            )
            .order_by(col(ThreadMessage.id))
        ).scalars()
        return [
            m
            for m in rows
            if "kind" not in (m.payload or {})
            and m.payload.get("run_id")
            and not m.payload.get("approval_id")
        ]


async def push_outcomes(
    engine: Engine,
    outbox: Outbox,
    chat_of_thread: Callable[[str], int | None],
    *,
    look_back: timedelta = LOOK_BACK,
) -> int:
    """Send every later outcome of the last ``look_back`` not sent yet; how many were sent now.

    The bot polls the last minute every few seconds (an outcome reaches the chat moments after its run ends) and
    the last day at each sweep (what was posted while it was down).
    """
    sent = 0
    for message in await asyncio.to_thread(later_outcomes, engine, since=utcnow() - look_back):
        chat_id = chat_of_thread(message.thread_id)
        key = f"outcome:{message.id}"
        if chat_id is None or await asyncio.to_thread(outbox.get, key) is not None:
            continue
        row = await outbox.send(
            key=key, chat_id=chat_id, method="sendMessage", payload={"text": esc(message.text)}
        )
        sent += row.status == "sent"
    return sent
