"""An asyncio event loop running in a daemon thread, driven from sync test code.

Servers built on asyncio (asyncssh, uvicorn) live in their own loop so that
sync tests, and async tests with their own loop, can both talk to them. Every
wait here is bounded so that a broken server fails a test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class LoopThread:
    """Owns one event loop and the daemon thread that runs it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop; only valid between ``start`` and ``stop``."""
        if self._loop is None:
            raise RuntimeError(f"{self._name}: loop is not running")
        return self._loop

    def start(self) -> None:
        """Start the loop thread and wait until the loop runs."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                _cancel_leftovers(loop)
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        if not ready.wait(5.0):
            raise RuntimeError(f"{self._name}: event loop did not start")

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float = 5.0) -> T:
        """Run ``coro`` on the loop and return its result, waiting at most ``timeout``."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def call_soon(self, callback: Any, *args: Any) -> None:
        """Schedule a plain callback on the loop from any thread."""
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Stop the loop and join its thread (bounded)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("%s: loop thread did not stop within %.1fs", self._name, timeout)
        self._loop = None
        self._thread = None


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel tasks still pending when the loop stops, so none leak across tests."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        gather = asyncio.gather(*pending, return_exceptions=True)
        loop.run_until_complete(asyncio.wait_for(gather, timeout=2.0))
    loop.run_until_complete(loop.shutdown_asyncgens())
