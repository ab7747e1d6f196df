"""Loopback port helpers shared by the test servers.

Servers pick their port *before* binding (some libraries, such as aiosmtpd's
``Controller``, cannot report the port they got from ``port=0``), so a free
port is found by binding a throwaway socket and releasing it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

LOOPBACK = "127.0.0.1"

T = TypeVar("T")


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that was free a moment ago.

    Args:
        host: Interface to probe; loopback unless told otherwise.

    Returns:
        A port number the caller should bind promptly.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_open(host: str, port: int, *, timeout: float = 0.2) -> bool:
    """Tell whether something accepts TCP connections at ``host:port``.

    Args:
        host: Host to connect to.
        port: Port to connect to.
        timeout: Connect timeout in seconds.

    Returns:
        True when a connection could be opened.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], *, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass.

    Args:
        predicate: Zero-argument callable to poll.
        timeout: Upper bound on the wait, in seconds.
        interval: Sleep between polls, in seconds.

    Returns:
        The last value of the predicate (False on timeout).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class Recorder(Generic[T]):
    """A thread-safe append-only list that test code can wait on."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._cond = threading.Condition()

    def append(self, item: T) -> None:
        """Record ``item`` and wake waiters."""
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def snapshot(self) -> list[T]:
        """Return a copy of everything recorded so far."""
        with self._cond:
            return list(self._items)

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._cond:
            self._items.clear()

    def wait_for(
        self, count: int = 1, *, timeout: float = 5.0, where: Callable[[T], bool] | None = None
    ) -> list[T]:
        """Wait until at least ``count`` matching items were recorded.

        Args:
            count: How many matching items to wait for.
            timeout: Upper bound on the wait, in seconds.
            where: Optional filter; all items match when omitted.

        Returns:
            The matching items recorded so far.

        Raises:
            TimeoutError: Fewer than ``count`` matching items arrived in time.
        """

        def matching() -> list[T]:
            return [i for i in self._items if where is None or where(i)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                got = len(matching())
                raise TimeoutError(f"expected {count} matching item(s) within {timeout}s, got {got}")
            return matching()
