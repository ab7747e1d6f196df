"""One deadline for work that blocks in a library call: wait for it in a worker thread, and stop waiting on time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def before_deadline(
    deadline: float, work: Callable[[threading.Event], T], late: Callable[[], Exception]
) -> T:
    """Run ``work`` in a worker thread and wait for it until ``deadline`` (``time.monotonic()``).

    An httpx timeout bounds each read, not the reply: a model that streams a token every second never trips it. So
    the wait is bounded here. On expiry ``late()`` is raised and ``work`` is told to stop through its event; a read
    already in progress ends within the client's per-read timeout, and the worker then closes the stream.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise late()
    result: list[T] = []
    failure: list[BaseException] = []
    cancelled, finished = threading.Event(), threading.Event()

    def run() -> None:
        try:
            result.append(work(cancelled))
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failure.append(exc)
        finally:
            finished.set()

    threading.Thread(target=run, name="ollama-chat", daemon=True).start()
    if not finished.wait(remaining):
        cancelled.set()
        raise late()
    if failure:
        raise failure[0]
    return result[0]
