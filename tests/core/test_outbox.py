"""The outbox protocol on its own: claim once, retry with backoff, record whatever stops a send."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import NotFound
from core.store import outbox
from core.store.models import Notification
from core.store.outbox import Backoff, GaveUp, PermanentError, TransientError

KEY = {"idempotency_key": "k1"}


def _new() -> Notification:
    return Notification(idempotency_key="k1", channel="email", recipient="ops@example.com", message="hi")


def _states(engine: Engine) -> list[tuple[str, int, str | None]]:
    with Session(engine) as session:
        return [(r.status, r.attempts, r.error) for r in session.exec(select(Notification))]


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
