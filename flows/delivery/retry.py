"""Retries for deliveries and notifications: the outbox protocol's backoff under the configured ``RetryPolicy``.

The retry loop and its errors are the outbox protocol's (``core.store.outbox``), shared with the bot. A transport
raises ``TransientError`` for what may pass (connection refused, HTTP 5xx, SMTP 4xx, Telegram 429) and
``PermanentError`` for what will not (login refused, HTTP 4xx, unknown chat). Both carry a message safe to show a
user: it names the destination and never holds a secret, a token or a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.store.outbox import Attempted, Backoff, GaveUp, PermanentError, TransientError, attempt
from flows.config import RetryPolicy

__all__ = [
    "Attempted",
    "GaveUp",
    "PermanentError",
    "Sleep",
    "TransientError",
    "backoff_delay",
    "backoff_of",
    "with_retries",
]

T = TypeVar("T")
Sleep = Callable[[float], None]


def backoff_of(policy: RetryPolicy) -> Backoff:
    """The outbox backoff for the configured policy (a rate limit's wait counts as an attempt)."""
    return Backoff(attempts=policy.attempts, base_delay=policy.base_delay_s, max_delay=policy.max_delay_s)


def backoff_delay(attempt: int, policy: RetryPolicy) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base × 2^(attempt-1), capped."""
    return backoff_of(policy).delay(attempt)


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
    return attempt(action, backoff=backoff_of(policy), sleep=sleep, what=what)
