"""The outbox protocol, once: claim a row, send outside any transaction with retries, record the outcome.

Deliveries, notifications and the bot's Bot API calls each keep one row per thing to send, unique by an
idempotency key, and send it in three steps:

1. ``claim``: in one short transaction, find the row (or create it) and move it to "sending" with one conditional
   ``UPDATE``, unless its status says it must not be sent (already sent, or not a claimable state), so a repeat
   never sends it twice.
2. ``attempt`` (or ``attempt_async``): the send itself, outside any transaction, retried with exponential backoff
   on a ``TransientError`` (a server's own ``retry_after`` wins over the backoff) and stopped at once by a
   ``PermanentError``. ``recording`` makes sure a send that stops for any reason is recorded, never left
   "sending" behind.
3. ``finish``: in one transaction, the outcome on the row plus its audit records, if the caller keeps any.

Which states may be claimed is the caller's choice: a delivery retries a failed or interrupted row, the bot sends
a row only once (Telegram has no idempotency keys). Nothing here locks beyond the conditional ``UPDATE``.

A caller that retries interrupted rows (``in_flight``) has its claims recorded: ``claimed_by`` is the claimant
(``claimant``) and ``claimed_at`` the time. A "sending" row is then taken back only by the claimant that left it
(a durable workflow re-running after its process died) or once its claim is older than ``LEASE`` (a process that
died outside any workflow); while another claimant holds it, the claim is refused. Two processes, or two hosts on
PostgreSQL, therefore never send one row at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from core.durable import current_workflow
from core.errors import Conflict, NotFound, SwitchboardError
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session

logger = logging.getLogger(__name__)

PENDING, SENDING, FAILED = "pending", "sending", "failed"
# Where a send may be repeated safely, every state but the done one is claimed again: these outright, and a row
# left "sending" under the lease rule of ``claim`` (``in_flight``).
RETRIED = (PENDING, FAILED)
# A send retries for minutes at most (the backoff caps each wait at 30 s), so a claim an hour old belongs to a
# claimant that died; a shorter lease would let a slow upload to a live process be sent a second time.
LEASE = timedelta(hours=1)
CLAIMED_BY, CLAIMED_AT = "claimed_by", "claimed_at"


class OutboxRow(Protocol):
    """The columns every outbox table has (``Delivery``, ``Notification``, the bot's ``OutboxMessage``)."""

    id: int | None
    status: str
    error: str | None
    attempts: int


RowT = TypeVar("RowT", bound=OutboxRow)
T = TypeVar("T")


# ---- the send, with retries -----------------------------------------------------------------------------------
class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` (seconds) overrides the backoff when the server sets it."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class PermanentError(Exception):
    """A failure that retrying cannot fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GaveUp(Exception):
    """The send failed for good.

    Attributes:
        message: The last failure's user-safe message.
        attempts: How many attempts were made.
        permanent: True when a permanent failure stopped the retries early.
    """

    def __init__(self, message: str, *, attempts: int, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.permanent = permanent


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """The value a send returned and the attempt it succeeded on (1-based)."""

    value: T
    attempts: int


@dataclass(frozen=True)
class Backoff:
    """How hard to try: attempts, and exponential delays between them (seconds).

    With ``rate_limited_attempts`` set, a failure that carries a ``retry_after`` (a rate limit) is counted apart
    from the others, up to that many times, and one asking for more than ``max_retry_after`` gives up at once.
    Without it, a rate limit is an ordinary failed attempt whose wait is the server's.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    rate_limited_attempts: int | None = None
    max_retry_after: float | None = None

    def delay(self, failures: int) -> float:
        """Seconds to wait after failure number ``failures`` (1-based): base × 2^(failures-1), capped."""
        return float(min(self.max_delay, self.base_delay * 2 ** max(failures - 1, 0)))


class _Retrying:
    """One send's attempt counts, and the wait before the next attempt (or the decision to give up)."""

    def __init__(self, backoff: Backoff, what: str) -> None:
        self.backoff, self.what = backoff, what
        self.attempt = 1
        self.failures = self.rate_limited = 0

    def _give_up(self, exc: TransientError | PermanentError, *, permanent: bool) -> GaveUp:
        if permanent:
            logger.warning("%s failed permanently on attempt %d: %s", self.what, self.attempt, exc.message)
        else:
            logger.warning("%s failed after %d attempts: %s", self.what, self.attempt, exc.message)
        return GaveUp(exc.message, attempts=self.attempt, permanent=permanent)

    def wait_after(self, exc: TransientError | PermanentError) -> float:
        """Seconds to wait before the next attempt.

        Raises:
            GaveUp: a permanent failure, or no attempts left.
        """
        if isinstance(exc, PermanentError):
            raise self._give_up(exc, permanent=True)
        limit, cap = self.backoff.rate_limited_attempts, self.backoff.max_retry_after
        if exc.retry_after is not None and limit is not None:
            self.rate_limited += 1
            if self.rate_limited >= limit or (cap is not None and exc.retry_after > cap):
                raise self._give_up(exc, permanent=False)
            delay = exc.retry_after
        else:
            self.failures += 1
            if self.failures >= self.backoff.attempts:
                raise self._give_up(exc, permanent=False)
            # A server's own retry_after is honoured as given: waiting less only earns another refusal.
            delay = exc.retry_after if exc.retry_after is not None else self.backoff.delay(self.failures)
        logger.info(
            "%s attempt %d failed (%s); retrying in %.2fs", self.what, self.attempt, exc.message, delay
        )
        self.attempt += 1
        return delay


def attempt(
    send: Callable[[int], T], *, backoff: Backoff, sleep: Callable[[float], None], what: str
) -> Attempted[T]:
    """Call ``send(attempt)`` until it succeeds, fails permanently, or the attempts run out.

    Args:
        send: One attempt (1-based number given); raises TransientError or PermanentError.
        backoff: Attempts and delays.
        sleep: Waits between attempts (``time.sleep``; tests record instead).
        what: A label for log lines (never a secret).

    Raises:
        GaveUp: with the last failure's message and the attempt count.
    """
    retrying = _Retrying(backoff, what)
    while True:
        try:
            return Attempted(send(retrying.attempt), retrying.attempt)
        except (TransientError, PermanentError) as exc:
            sleep(retrying.wait_after(exc))


async def attempt_async(
    send: Callable[[int], Awaitable[T]],
    *,
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[None]],
    what: str,
) -> Attempted[T]:
    """``attempt`` for a coroutine; the waits are awaited (``asyncio.sleep``)."""
    retrying = _Retrying(backoff, what)
    while True:
        try:
            return Attempted(await send(retrying.attempt), retrying.attempt)
        except (TransientError, PermanentError) as exc:
            await sleep(retrying.wait_after(exc))


@contextmanager
def recording(failed: Callable[[GaveUp], object]) -> Iterator[None]:
    """Hand whatever stops the block to ``failed`` as a GaveUp (so the row is recorded), then let it propagate.

    A domain error (a missing file, a secret) is recorded with its own message as permanent, before any attempt;
    anything else (a bug, an interrupt) as one interrupted attempt, so a later call retries the row.
    """
    try:
        yield
    except GaveUp as exc:
        failed(exc)
        raise
    except SwitchboardError as exc:
        failed(GaveUp(exc.message, attempts=0, permanent=True))
        raise
    except BaseException as exc:
        failed(GaveUp(f"interrupted ({type(exc).__name__})", attempts=1, permanent=False))
        raise


# ---- the row --------------------------------------------------------------------------------------------------
def _where(model: type[RowT], match: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    return [getattr(model, column) == value for column, value in match.items()]


def _move(
    session: Session, model: type[RowT], match: Mapping[str, Any], states: Collection[str], **values: Any
) -> bool:
    status: Any = model.status  # the column on the class, the value on a row
    moved = session.execute(update(model).where(*_where(model, match), status.in_(states)).values(**values))
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


def move(
    engine: Engine, model: type[RowT], match: Mapping[str, Any], *, states: Collection[str], **values: Any
) -> bool:
    """Update the row matching ``match`` if its status is one of ``states``; True when it did."""
    with write_session(engine) as session:
        return _move(session, model, match, states, **values)


def claimant() -> str:
    """Who claims a row from this thread: the durable workflow it runs, else this process and thread.

    A workflow keeps its id when it re-runs after its process died, so it takes back the row it left "sending". A
    thread sends one row at a time (the sends are synchronous), so its token never holds two live sends.
    """
    return current_workflow() or f"process:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _claimable(
    model: type[RowT], states: Collection[str], who: str | None, now: datetime
) -> ColumnElement[bool]:
    status: Any = model.status
    ready: ColumnElement[bool] = status.in_(states)
    if who is None:
        return ready
    by: Any = getattr(model, CLAIMED_BY)
    at: Any = getattr(model, CLAIMED_AT)
    # A "sending" row without a claim time was claimed before claims were recorded (migration 0005): the rule
    # of that release applies, and it is taken back at once.
    left = or_(by == who, at.is_(None), at < now - LEASE)
    return or_(ready, and_(status == SENDING, left))


def claim(
    engine: Engine,
    model: type[RowT],
    match: Mapping[str, Any],
    *,
    states: Collection[str],
    new: Callable[[], RowT] | None = None,
    busy: str = "the row is being created by someone else; try again",
    in_flight: str | None = None,
) -> tuple[RowT, bool]:
    """Move the row matching ``match`` to "sending" if its status is one of ``states``, in one conditional UPDATE.

    With ``in_flight`` the claim is leased: the row also records ``claimed_by`` (``claimant()``) and
    ``claimed_at``, and a "sending" row is claimed when this claimant left it there or its claim is older than
    ``LEASE``. Without it, a "sending" row is never claimed (the bot sends at most once).

    Args:
        engine: Database engine.
        model: The outbox table (with ``claimed_by`` and ``claimed_at`` columns when ``in_flight`` is given).
        match: Column values that pick the row (its idempotency key).
        states: The statuses a row may be claimed from outright ("sending" is the lease's to decide).
        new: Makes the row when there is none (it starts claimed); None when the row must exist already.
        busy: The Conflict's message when two processes keep inserting the same row at once.
        in_flight: The Conflict's message when another live claimant is sending the row; None for no lease.

    Returns:
        The row as it is now, and whether this call claimed it (False: leave it alone).

    Raises:
        NotFound: no such row, and no ``new``.
        Conflict: with ``busy``, or with ``in_flight``.
    """
    who = None if in_flight is None else claimant()
    for _ in range(2):
        now = utcnow()
        values: dict[str, Any] = {"status": SENDING, "error": None}
        if who is not None:
            values |= {CLAIMED_BY: who, CLAIMED_AT: now}
        try:
            with write_session(engine) as session:
                row = session.execute(select(model).where(*_where(model, match))).scalars().first()
                if row is None:
                    if new is None:
                        raise NotFound(
                            f"no {getattr(model, '__tablename__', 'outbox')} row for {dict(match)}"
                        )
                    fresh: Any = new()
                    # INSERT … RETURNING: the row as stored, without a read after the write.
                    stored = fresh.model_dump(exclude={"id"}) | values
                    row = session.execute(insert(model).values(**stored).returning(model)).scalars().one()
                    claimed = True
                else:
                    # The whole rule sits in the UPDATE's WHERE: PostgreSQL re-checks it on the row a concurrent
                    # claim committed (READ COMMITTED), SQLite runs one writer at a time, so one claim wins.
                    query = update(model).where(*_where(model, match), _claimable(model, states, who, now))
                    session.expunge(
                        row
                    )  # so the row the UPDATE returns is loaded afresh, not the one read above
                    won = session.execute(
                        query.values(**values).returning(model).execution_options(synchronize_session=False)
                    )
                    claimed_row: RowT | None = won.scalars().first()
                    claimed = claimed_row is not None
                    if claimed_row is not None:
                        row = claimed_row
                    else:  # as it is now: a racing claim may have changed it since the read above
                        session.add(row)
                        session.refresh(row)
                session.expunge(row)
        except IntegrityError:
            continue  # another process inserted the row first; read it on the next pass
        if not claimed and in_flight is not None and row.status == SENDING:
            raise Conflict(in_flight)
        return row, claimed
    raise Conflict(busy)


def finish(
    engine: Engine,
    model: type[RowT],
    row_id: int,
    *,
    attempts: int,
    events: Sequence[AuditEvent] = (),
    **values: Any,
) -> RowT:
    """Record a claimed row's outcome: ``values``, the attempts it took, and its audit records, in one transaction."""
    key: Any = model.id
    tries: Any = model.attempts
    with write_session(engine) as session:
        # The row comes back from its UPDATE: no read before it, none after.
        query = (
            update(model)
            .where(key == row_id)
            .values(**values, attempts=tries + attempts)
            .returning(model)
            .execution_options(synchronize_session=False)
        )
        row: RowT | None = session.execute(query).scalars().first()
        assert row is not None, f"outbox row {row_id} vanished while it was being sent"
        if events:
            append_in(session, list(events))
        session.expunge(row)
        return row
