"""The bot's own tables: processed updates, callback tokens, outbox, approval message refs, reason prompts.

``init_bot_tables`` migrates them with their own Alembic version table (bot/migrations): core never imports
``bot``, so they are not part of ``init_db``, and their schema changes ship with the bot.
Claiming an update is one ``INSERT`` on a primary key, so an update is processed once even across restarts or
two workers sharing the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, delete, select, update
from sqlalchemy.engine import Engine, Inspector
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from core.store.db import utcnow, write_session
from core.store.migrate import Migrations, baseline_tables, unversioned_release, upgrade


class ProcessedUpdate(SQLModel, table=True):
    """An update this bot has claimed; the primary key makes the claim unique."""

    __tablename__ = "bot_processed_update"

    bot_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    update_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = ""
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger)
    claimed_at: datetime = Field(default_factory=utcnow, index=True)


class CallbackToken(SQLModel, table=True):
    """What an inline button means, kept server-side; ``callback_data`` carries only ``token``."""

    __tablename__ = "bot_callback_token"

    token: str = Field(primary_key=True, max_length=64)
    kind: str = Field(description="approval or answer.")
    action: str = Field(description="approve, reject, or the answer text (yes, no).")
    chat_id: int = Field(sa_type=BigInteger)
    telegram_user_id: int | None = Field(
        default=None, sa_type=BigInteger, description="Only this user may use it; None = any approver."
    )
    approval_id: str | None = Field(default=None, index=True)
    binding: str | None = Field(default=None, description="The approval binding shown with the button.")
    thread_id: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, sa_type=BigInteger)


class OutboxMessage(SQLModel, table=True):
    """One outgoing Bot API call, unique by idempotency key; sent at most once."""

    __tablename__ = "bot_outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=200)
    chat_id: int = Field(sa_type=BigInteger)
    method: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(
        default="pending", index=True, description="pending, sending, sent, failed, cancelled."
    )
    attempts: int = 0
    message_id: int | None = None
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ApprovalMessage(SQLModel, table=True):
    """A message showing an approval request, so it can be edited in place after the decision."""

    __tablename__ = "bot_approval_message"

    id: int | None = Field(default=None, primary_key=True)
    approval_id: str = Field(index=True)
    outbox_key: str = Field(unique=True, max_length=200)
    chat_id: int = Field(sa_type=BigInteger)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger)
    text: str
    closed: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class ReasonPrompt(SQLModel, table=True):
    """An approver was asked why they reject; their next message in that chat is the reason."""

    __tablename__ = "bot_reason_prompt"

    chat_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    telegram_user_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    approval_id: str
    created_at: datetime = Field(default_factory=utcnow)


def _legacy_revision(inspector: Inspector) -> str | None:
    # Every release before migrations made the baseline's tables with create_all: such a database is stamped there.
    released = baseline_tables(Path(__file__).parent / "migrations")
    return "0001" if unversioned_release(inspector, owner="bot", tables=released) else None


BOT_MIGRATIONS = Migrations(
    name="bot",
    script_location=Path(__file__).parent / "migrations",
    version_table="bot_alembic_version",
    module_prefix="bot.",
    legacy_revision=_legacy_revision,
)


def init_bot_tables(engine: Engine) -> None:
    """Create or upgrade the bot's tables (idempotent, safe for processes starting together)."""
    upgrade(engine, BOT_MIGRATIONS)


# ---- processed updates -------------------------------------------------------------------------------------
def claim_update(
    engine: Engine,
    *,
    bot_id: int,
    update_id: int,
    kind: str,
    chat_id: int | None,
    telegram_user_id: int | None,
) -> bool:
    """Insert the update's row; False when it was already claimed (a duplicate delivery)."""
    row = ProcessedUpdate(
        bot_id=bot_id, update_id=update_id, kind=kind, chat_id=chat_id, telegram_user_id=telegram_user_id
    )
    try:
        with write_session(engine) as session:
            session.add(row)
    except IntegrityError:
        return False
    return True


def prune_updates(engine: Engine, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Forget claims older than Telegram ever re-sends (it keeps updates for 24 hours)."""
    cutoff = (now or utcnow()) - older_than
    with write_session(engine) as session:
        result = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.claimed_at < cutoff))  # type: ignore[arg-type]
        return int(result.rowcount)  # type: ignore[attr-defined]


# ---- reason prompts ----------------------------------------------------------------------------------------
def set_reason_prompt(engine: Engine, *, chat_id: int, telegram_user_id: int, approval_id: str) -> None:
    """Wait for this approver's reason in this chat (replacing an earlier prompt)."""
    with write_session(engine) as session:
        row = session.get(ReasonPrompt, (chat_id, telegram_user_id))
        if row is None:
            row = ReasonPrompt(chat_id=chat_id, telegram_user_id=telegram_user_id, approval_id=approval_id)
        row.approval_id = approval_id
        row.created_at = utcnow()
        session.add(row)


def get_reason_prompt(engine: Engine, *, chat_id: int, telegram_user_id: int) -> str | None:
    """The approval id this approver owes a reason for in this chat, if any."""
    with Session(engine) as session:
        row = session.get(ReasonPrompt, (chat_id, telegram_user_id))
        return row.approval_id if row else None


def take_reason_prompt(engine: Engine, *, chat_id: int, telegram_user_id: int) -> str | None:
    """Remove the prompt and return its approval id; only one caller gets it."""
    with write_session(engine) as session:
        row = session.get(ReasonPrompt, (chat_id, telegram_user_id))
        if row is None:
            return None
        session.delete(row)
        return row.approval_id


# ---- approval message refs ---------------------------------------------------------------------------------
def add_approval_message(
    engine: Engine,
    *,
    approval_id: str,
    outbox_key: str,
    chat_id: int,
    telegram_user_id: int | None,
    text: str,
) -> bool:
    """Remember a message about ``approval_id``; False if that outbox key was recorded before."""
    try:
        with write_session(engine) as session:
            session.add(
                ApprovalMessage(
                    approval_id=approval_id,
                    outbox_key=outbox_key,
                    chat_id=chat_id,
                    telegram_user_id=telegram_user_id,
                    text=text,
                )
            )
    except IntegrityError:
        return False
    return True


def open_approval_messages(engine: Engine, *, approval_id: str | None = None) -> list[ApprovalMessage]:
    """Messages not yet updated with their request's decision (all requests when ``approval_id`` is None)."""
    with Session(engine) as session:
        query = select(ApprovalMessage).where(ApprovalMessage.closed == False)  # type: ignore[arg-type]  # noqa: E712
        if approval_id is not None:
            query = query.where(ApprovalMessage.approval_id == approval_id)  # type: ignore[arg-type]
        return list(session.execute(query.order_by(ApprovalMessage.id)).scalars())  # type: ignore[arg-type]


def notified_approvals(engine: Engine) -> set[str]:
    """Ids of requests that have at least one message recorded."""
    with Session(engine) as session:
        return set(session.execute(select(col(ApprovalMessage.approval_id)).distinct()).scalars())


def close_approval_message(engine: Engine, *, message_ref_id: int) -> bool:
    """Mark one message as updated; only the first caller gets True."""
    with write_session(engine) as session:
        result = session.execute(
            update(ApprovalMessage)
            .where(ApprovalMessage.id == message_ref_id)  # type: ignore[arg-type]
            .where(ApprovalMessage.closed == False)  # type: ignore[arg-type]  # noqa: E712
            .values(closed=True)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
