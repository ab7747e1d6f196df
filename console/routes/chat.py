"""Chat: post a message to a thread (JSON or streamed over SSE), list threads, read a thread's history.

The reply is computed and stored in the thread history (by ``Switchboard.chat``) before any of its text is
streamed, so a client that disconnects mid-stream loses nothing: reloading the thread shows the full reply. A turn
that exports a file streams ``progress`` events (rows written) while it works, so a long export is not silence.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from console.deps import ConsoleState, Principal, State, User
from console.schemas import ChatReply, HistoryOut, MessageIn, ThreadId, ThreadList, ThreadOut
from console.views import chat_reply, message_out
from core.store.approvals import ThreadMessage
from flows.export.sink import export_progress

router = APIRouter(prefix="/api/threads", tags=["chat"])
STREAM_PAUSE_S = 0.012
_WORDS_PER_CHUNK = 3
_MAX_CHUNKS = 40  # long replies stream in bigger pieces, so no reply takes more than ~0.5 s to play out
_TITLE_CHARS = 60


def chat_turn(state: ConsoleState, principal: Principal, thread_id: str, text: str) -> ChatReply:
    """One chat turn, serialised per thread, measured, and converted for the API."""
    started = time.perf_counter()
    reply = state.sb.chat(
        thread_id=thread_id, user=principal.name, role=principal.role, text=text, source="console"
    )
    out = chat_reply(reply, thread_id=thread_id, settings=state.settings)
    state.metrics.turn_latency.observe(time.perf_counter() - started)
    state.metrics.decisions.labels(out.decision.action, out.kind).inc()
    return out


@router.post("/{thread_id}/messages", response_model=ChatReply)
def post_message(thread_id: ThreadId, body: MessageIn, principal: User, state: State) -> Response:
    """Send a message and get the reply as JSON."""
    # The hottest route: the reply is already a validated ChatReply, so it is dumped once instead of being
    # dumped, validated again and dumped by FastAPI's response_model handling (which still documents it).
    reply = chat_turn(state, principal, thread_id, body.text)
    return Response(reply.model_dump_json(), media_type="application/json")


def chunks(text: str, *, words: int = _WORDS_PER_CHUNK) -> list[str]:
    """Split text into small pieces that join back to exactly the original."""
    pieces = re.findall(r"\s*\S+\s*", text) or [text]
    words = max(words, -(-len(pieces) // _MAX_CHUNKS))
    return ["".join(pieces[i : i + words]) for i in range(0, len(pieces), words)]


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"


async def _stream(reply: ChatReply) -> AsyncIterator[str]:
    for piece in chunks(reply.reply):
        yield _event("delta", json.dumps({"text": piece}))
        await asyncio.sleep(STREAM_PAUSE_S)
    yield _event("done", reply.model_dump_json())


async def _progress_then_reply(
    turn: asyncio.Future[ChatReply], rows: asyncio.Queue[int], first: int
) -> AsyncIterator[str]:
    """``progress`` events while the turn works, then its reply; a turn that fails now sends an ``error`` event."""
    yield _event("progress", json.dumps({"rows": first}))
    while not turn.done():
        waiting = asyncio.ensure_future(rows.get())
        either: list[asyncio.Future[Any]] = [turn, waiting]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            yield _event("progress", json.dumps({"rows": waiting.result()}))
        else:
            waiting.cancel()
    while not rows.empty():  # counts that arrived as the turn ended, the final one among them
        yield _event("progress", json.dumps({"rows": rows.get_nowait()}))
    try:
        reply = turn.result()
    except Exception as exc:  # the status line went out with the first progress event
        detail = getattr(exc, "detail", None) or "The turn failed; reload the thread to see what was kept."
        yield _event("error", json.dumps({"detail": str(detail)}))
        return
    async for event in _stream(reply):
        yield event


@router.post(
    "/{thread_id}/messages/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `progress` events (`rows` written) while a turn exports a "
            "file, `delta` events with text pieces, then one `done` event carrying the full reply JSON (or one "
            "`error` event with a `detail`, if the turn failed after progress was sent).",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream_message(
    thread_id: ThreadId, body: MessageIn, principal: User, state: State
) -> StreamingResponse:
    """Send a message and stream the reply over server-sent events (after progress events, if it exports)."""
    loop = asyncio.get_running_loop()
    rows: asyncio.Queue[int] = asyncio.Queue()

    def count(written: int) -> None:
        loop.call_soon_threadsafe(rows.put_nowait, written)

    def run_turn() -> ChatReply:
        with export_progress(count):
            return chat_turn(state, principal, thread_id, body.text)

    # The turn runs on in its thread even if this client goes away; its reply is stored either way.
    turn = asyncio.ensure_future(run_in_threadpool(run_turn))
    first = asyncio.ensure_future(rows.get())
    await asyncio.wait({turn, first}, return_when=asyncio.FIRST_COMPLETED)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if not first.done():  # no progress: the reply, or the turn's error as an HTTP problem, as for any request
        first.cancel()
        return StreamingResponse(_stream(await turn), media_type="text/event-stream", headers=headers)
    body_events = _progress_then_reply(turn, rows, first.result())
    return StreamingResponse(body_events, media_type="text/event-stream", headers=headers)


@router.get("", response_model=ThreadList)
def list_threads(principal: User, state: State) -> ThreadList:
    """The caller's threads, most recent first."""
    threads = state.sb.threads(user=principal.name)
    firsts = (
        select(func.min(ThreadMessage.id))
        .where(ThreadMessage.owner == principal.name)  # type: ignore[arg-type]
        .where(ThreadMessage.role == "user")  # type: ignore[arg-type]
        .group_by(ThreadMessage.thread_id)
    )
    with Session(state.sb.engine) as session:
        rows = session.execute(
            select(col(ThreadMessage.thread_id), col(ThreadMessage.text)).where(
                col(ThreadMessage.id).in_(firsts)
            )
        ).all()
    titles: dict[str, str] = {str(thread): str(text) for thread, text in rows}
    out = []
    for item in threads:
        title = str(titles.get(item["thread_id"]) or item["thread_id"])
        if len(title) > _TITLE_CHARS:
            title = title[: _TITLE_CHARS - 1] + "…"
        out.append(
            ThreadOut(
                thread_id=item["thread_id"],
                title=title,
                updated_at=item["updated_at"],
                messages=item["messages"],
            )
        )
    return ThreadList(threads=out)


@router.get("/{thread_id}/messages", response_model=HistoryOut)
def history(
    thread_id: ThreadId,
    principal: User,
    state: State,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="Only messages with a larger id (for polling).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> HistoryOut:
    """A thread's messages, oldest first (403 for another user's thread)."""
    messages = state.sb.history(thread_id=thread_id, user=principal.name, limit=limit)
    return HistoryOut(
        thread_id=thread_id,
        messages=[message_out(m, settings=state.settings) for m in messages if (m.id or 0) > after],
    )
