"""The outbox protocol on its own: claim once, retry with backoff, record whatever stops a send."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import Conflict, NotFound
from core.store import outbox
from core.store.db import utcnow
from core.store.models import Notification
from core.store.outbox import Backoff, GaveUp, PermanentError, TransientError

KEY = {"idempotency_key": "k1"}
IN_FLIGHT = "the notification to ops@example.com is being sent right now"
ELSEWHERE = "process:other-host:4242:1"


def _new() -> Notification:
    return Notification(idempotency_key="k1", channel="email", recipient="ops@example.com", message="hi")


def _states(engine: Engine) -> list[tuple[str, int, str | None]]:
    with Session(engine) as session:
        return [(r.status, r.attempts, r.error) for r in session.exec(select(Notification))]


def _claim(engine: Engine) -> tuple[Notification, bool]:
    return outbox.claim(engine, Notification, KEY, states=outbox.RETRIED, new=_new, in_flight=IN_FLIGHT)


def _claims(engine: Engine) -> list[tuple[str, str | None]]:
    with Session(engine) as session:
        return [(r.status, r.claimed_by) for r in session.exec(select(Notification))]


def _claimed_elsewhere(engine: Engine, *, status: str, by: str, at: datetime) -> None:
    """The row as another claimant left it."""
    _claim(engine)
    values = {"status": status, "claimed_by": by, "claimed_at": at}
    assert outbox.move(engine, Notification, KEY, states=(outbox.SENDING,), **values)


@contextmanager
def _reads_before_writes(engine: Engine, verb: str) -> Iterator[None]:
    """On PostgreSQL, hold each of two threads' first ``verb`` statement until both have read the row.

    Both then write at once, from snapshots where the row was free: the claim must still let only one through.
    SQLite queues writers on a lock before their transaction begins, so there the two cannot overlap at all.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    both = threading.Barrier(2)
    held: set[int] = set()

    def meet(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(verb) and threading.get_ident() not in held:
            held.add(threading.get_ident())
            both.wait(timeout=30)

    event.listen(engine, "before_cursor_execute", meet)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", meet)


@pytest.mark.parametrize(
    ("existing", "verb"), [(None, "INSERT"), ("failed", "UPDATE")], ids=["new row", "failed row"]
)
def test_two_claimants_racing_for_one_row_one_wins(
    any_engine: Engine, existing: str | None, verb: str
) -> None:
    if existing is not None:
        _claimed_elsewhere(any_engine, status=existing, by=ELSEWHERE, at=utcnow())
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def race() -> None:
        start.wait(timeout=30)
        try:
            row, claimed = _claim(any_engine)
            outcomes[outbox.claimant()] = f"claimed by {row.claimed_by}" if claimed else "not claimed"
        except Conflict as exc:
            outcomes[outbox.claimant()] = exc.message

    with _reads_before_writes(any_engine, verb):
        threads = [threading.Thread(target=race) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    [winner] = [who for who, outcome in outcomes.items() if outcome == f"claimed by {who}"]
    assert sorted(outcomes.values()) == sorted([f"claimed by {winner}", IN_FLIGHT])
    assert _claims(any_engine) == [("sending", winner)]


def test_a_claimant_takes_back_the_row_it_left_sending(any_engine: Engine) -> None:
    first, claimed = _claim(any_engine)
    assert (first.status, first.claimed_by, claimed) == ("sending", outbox.claimant(), True)

    again, claimed = _claim(any_engine)  # the same thread, as a send that died before recording its outcome

    assert (again.status, again.claimed_by, claimed) == ("sending", outbox.claimant(), True)
    assert again.claimed_at is not None and first.claimed_at is not None
    assert again.claimed_at >= first.claimed_at


def test_a_workflow_re_run_takes_back_its_row_and_another_workflow_is_refused(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = {"id": "approval:a1"}
    monkeypatch.setattr(outbox, "current_workflow", lambda: workflow["id"])
    _claim(any_engine)  # the workflow's first run, in a process that then died
    found: list[tuple[str, str | None, bool]] = []

    def rerun() -> None:  # after the restart: another process and thread, the same workflow id
        row, claimed = _claim(any_engine)
        found.append((row.status, row.claimed_by, claimed))

    thread = threading.Thread(target=rerun)
    thread.start()
    thread.join(timeout=30)
    assert found == [("sending", "approval:a1", True)]

    workflow["id"] = "approval:a2"
    with pytest.raises(Conflict, match=f"^{IN_FLIGHT}$"):
        _claim(any_engine)
    assert _claims(any_engine) == [("sending", "approval:a1")]


def test_a_sending_row_older_than_the_lease_is_taken_over(any_engine: Engine) -> None:
    stale = utcnow() - outbox.LEASE - timedelta(minutes=1)
    _claimed_elsewhere(any_engine, status=outbox.SENDING, by=ELSEWHERE, at=stale)

    row, claimed = _claim(any_engine)

    assert (row.status, row.claimed_by, claimed) == ("sending", outbox.claimant(), True)
    assert row.claimed_at is not None and row.claimed_at > stale + outbox.LEASE


def test_a_sending_row_of_another_claimant_within_the_lease_is_refused(any_engine: Engine) -> None:
    recent = utcnow() - outbox.LEASE + timedelta(minutes=1)
    _claimed_elsewhere(any_engine, status=outbox.SENDING, by=ELSEWHERE, at=recent)

    with pytest.raises(Conflict, match=f"^{IN_FLIGHT}$"):
        _claim(any_engine)

    assert _claims(any_engine) == [("sending", ELSEWHERE)]


@pytest.mark.parametrize("by", ["this claimant", ELSEWHERE])
def test_a_sent_row_is_never_claimed(any_engine: Engine, by: str) -> None:
    claimant = outbox.claimant() if by == "this claimant" else by
    _claimed_elsewhere(any_engine, status="sent", by=claimant, at=utcnow() - 2 * outbox.LEASE)

    row, claimed = _claim(any_engine)

    assert (row.status, row.claimed_by, claimed) == ("sent", claimant, False)
    assert _claims(any_engine) == [("sent", claimant)]


def test_a_row_is_claimed_from_the_given_states_only(any_engine: Engine) -> None:
    first, claimed = outbox.claim(any_engine, Notification, KEY, states=outbox.RETRIED, new=_new)
    assert (first.status, claimed) == ("sending", True)
    assert outbox.claim(any_engine, Notification, KEY, states=(outbox.PENDING,))[1] is False
    assert first.id is not None
    outbox.finish(any_engine, Notification, first.id, attempts=2, status="sent", error=None)
    assert outbox.claim(any_engine, Notification, KEY, states=outbox.RETRIED, new=_new)[1] is False
    assert _states(any_engine) == [("sent", 2, None)]
    assert outbox.move(any_engine, Notification, KEY, states=("sent",), status="pending") is True
    assert outbox.claim(any_engine, Notification, KEY, states=(outbox.PENDING,))[1] is True
    with pytest.raises(NotFound, match=r"^no notification row for \{'idempotency_key': 'k2'\}$"):
        outbox.claim(any_engine, Notification, {"idempotency_key": "k2"}, states=outbox.RETRIED)


@pytest.mark.parametrize(
    ("backoff", "sleeps", "attempts"),
    [
        (Backoff(attempts=3, base_delay=1), [9.0, 2.0], 3),  # a rate limit is an attempt like any other
        (Backoff(attempts=3, base_delay=1, rate_limited_attempts=5), [9.0, 1.0, 9.0, 2.0, 9.0], 6),
        (Backoff(attempts=3, base_delay=1, rate_limited_attempts=5, max_retry_after=5), [], 1),
    ],
    ids=["counted together", "rate limits counted apart", "a wait over the cap gives up"],
)
def test_rate_limits_count_as_the_backoff_says(backoff: Backoff, sleeps: list[float], attempts: int) -> None:
    failures = [TransientError("slow down", retry_after=9), TransientError("down")] * 3
    waited: list[float] = []

    def send(attempt: int) -> str:
        raise failures[attempt - 1]

    with pytest.raises(GaveUp) as gave_up:
        outbox.attempt(send, backoff=backoff, sleep=waited.append, what="test")
    assert (waited, gave_up.value.attempts, gave_up.value.permanent) == (sleeps, attempts, False)


def _refused() -> None:
    def refuse(_attempt: int) -> None:
        raise PermanentError("refused")

    outbox.attempt(refuse, backoff=Backoff(), sleep=lambda _s: None, what="test")


def _missing_file() -> None:
    raise NotFound("the file is missing")


def _interrupted() -> None:
    raise KeyboardInterrupt


def test_recording_hands_every_stop_to_the_recorder() -> None:
    recorded: list[tuple[str, int, bool]] = []

    def record(exc: GaveUp) -> None:
        recorded.append((exc.message, exc.attempts, exc.permanent))

    for stop, raised in ((_refused, GaveUp), (_missing_file, NotFound), (_interrupted, KeyboardInterrupt)):
        with pytest.raises(raised), outbox.recording(record):
            stop()
    assert recorded == [
        ("refused", 1, True),
        ("the file is missing", 0, True),
        ("interrupted (KeyboardInterrupt)", 1, False),
    ]
