"""Opaque, single-use callback tokens: the only thing an inline button carries.

A token maps server-side to (kind, action, approval id and binding, or thread), who may use it and until when.
Using one is a conditional ``UPDATE ... WHERE used_at IS NULL AND expires_at > now``: a double tap, a replayed
callback or two workers racing get exactly one success.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store import CallbackToken
from core.store.db import utcnow, write_session

TOKEN_BYTES = 16  # 22 url-safe characters, far under Telegram's 64-byte callback_data limit
REVOKED = -1  # used_by value of tokens revoked by the bot rather than used by a person


def issue(
    engine: Engine,
    *,
    kind: str,
    action: str,
    chat_id: int,
    expires_at: datetime,
    telegram_user_id: int | None = None,
    approval_id: str | None = None,
    binding: str | None = None,
    thread_id: str | None = None,
) -> str:
    """Store a new token and return it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with write_session(engine) as session:
        session.add(
            CallbackToken(
                token=token,
                kind=kind,
                action=action,
                chat_id=chat_id,
                telegram_user_id=telegram_user_id,
                approval_id=approval_id,
                binding=binding,
                thread_id=thread_id,
                expires_at=expires_at,
            )
        )
    return token


def peek(engine: Engine, token: str) -> CallbackToken | None:
    """Look a token up without using it."""
    if not token or len(token.encode()) > 64:
        return None
    with Session(engine) as session:
        row = session.get(CallbackToken, token)
        if row is not None:
            session.expunge(row)
        return row


def consume(engine: Engine, token: str, *, telegram_user_id: int, now: datetime | None = None) -> bool:
    """Use a token once; False when it was used, revoked or expired already."""
    now = now or utcnow()
    with write_session(engine) as session:
        result = session.execute(
            update(CallbackToken)
            .where(CallbackToken.token == token)  # type: ignore[arg-type]
            .where(CallbackToken.used_at == None)  # type: ignore[arg-type]  # noqa: E711
            .where(CallbackToken.expires_at > now)  # type: ignore[arg-type]
            .values(used_at=now, used_by=telegram_user_id)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def revoke_for_approval(engine: Engine, approval_id: str) -> int:
    """Invalidate every unused button of a decided request."""
    with write_session(engine) as session:
        result = session.execute(
            update(CallbackToken)
            .where(CallbackToken.approval_id == approval_id)  # type: ignore[arg-type]
            .where(CallbackToken.used_at == None)  # type: ignore[arg-type]  # noqa: E711
            .values(used_at=utcnow(), used_by=REVOKED)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def revoke_answers(engine: Engine, thread_id: str) -> int:
    """Invalidate a thread's yes/no buttons: once the chat moves on they would answer the wrong question."""
    with write_session(engine) as session:
        result = session.execute(
            update(CallbackToken)
            .where(CallbackToken.thread_id == thread_id)  # type: ignore[arg-type]
            .where(CallbackToken.kind == "answer")  # type: ignore[arg-type]
            .where(CallbackToken.used_at == None)  # type: ignore[arg-type]  # noqa: E711
            .values(used_at=utcnow(), used_by=REVOKED)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def is_expired(row: CallbackToken, now: datetime | None = None) -> bool:
    """True when the token's expiry has passed (SQLite hands back naive UTC datetimes)."""
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return expires <= (now or utcnow())
