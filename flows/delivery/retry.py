"""Exponential backoff for deliveries and notifications, with an injectable ``sleep`` so tests never wait.

A transport raises ``TransientError`` for what may pass (connection refused, HTTP 5xx, SMTP 4xx, Telegram
429) and ``PermanentError`` for what will not (login refused, HTTP 4xx, unknown chat). Both carry a message
safe to show a user: it names the destination and never holds a secret, a token or a traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import Conflict
from flows.config import RetryPolicy

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]


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
    """Raised by ``with_retries`` when the action failed for good.

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
    """The value an action returned and the attempt it succeeded on (1-based)."""

    value: T
    attempts: int


def backoff_delay(attempt: int, policy: RetryPolicy) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base × 2^(attempt-1), capped."""
    return float(min(policy.max_delay_s, policy.base_delay_s * (2 ** max(attempt - 1, 0))))


def with_retries(
    action: Callable[[int], T],
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    what: str,
) -> Attempted[T]:
    """Call ``action(attempt)`` until it succeeds, a permanent error occurs, or the attempts run out.

    Args:
        action: The work; receives the 1-based attempt number and raises TransientError or PermanentError.
        policy: Attempts and delays.
        sleep: Called with each delay in seconds (``time.sleep`` in production, a recorder in tests).
        what: Short label for log lines (never a secret).

    Returns:
        The value and the number of attempts used.

    Raises:
        GaveUp: with the last failure's message and the attempt count.
    """
    attempt = 1
    while True:
        try:
            return Attempted(action(attempt), attempt)
        except PermanentError as exc:
            logger.warning("%s failed permanently on attempt %d: %s", what, attempt, exc.message)
            raise GaveUp(exc.message, attempts=attempt, permanent=True) from None
        except TransientError as exc:
            if attempt >= policy.attempts:
                logger.warning("%s failed after %d attempts: %s", what, attempt, exc.message)
                raise GaveUp(exc.message, attempts=attempt, permanent=False) from None
            # A server's own retry_after is honoured as given: waiting less only earns another refusal.
            delay = exc.retry_after if exc.retry_after is not None else backoff_delay(attempt, policy)
            logger.info("%s attempt %d failed (%s); retrying in %.2fs", what, attempt, exc.message, delay)
            sleep(delay)
            attempt += 1


class InFlight:
    """Keys this process is working on, so a concurrent caller gets a Conflict rather than a duplicate send.

    An outbox row left "sending" with no holder here was interrupted (its process died) and is simply retried.
    """

    def __init__(self) -> None:
        self._keys: set[Hashable] = set()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, key: Hashable, *, busy: str) -> Iterator[None]:
        """Hold ``key`` for the duration of the block.

        Raises:
            Conflict: with the message ``busy`` when another thread holds the key.
        """
        with self._lock:
            if key in self._keys:
                raise Conflict(busy)
            self._keys.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._keys.discard(key)
