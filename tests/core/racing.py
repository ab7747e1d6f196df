"""Racing workers for exactly-once tests: threads that act at the same moment, each on an engine of its own.

A barrier at the start is not enough: one worker may finish before the other begins, and a read-then-write race
then shows only now and then. ``race`` also holds each worker just after its first statement that mentions a given
table, until every worker has got there or ``wait_s`` has passed. Code that reads and then writes without a claim
then loses every time, and code that serialises the workers correctly costs one short wait: the held worker keeps
its lock, so the other cannot get there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

T = TypeVar("T")
R = TypeVar("R")


def race(
    workers: Sequence[T],
    work: Callable[[T], R],
    *,
    engines: Sequence[Engine],
    meet_after: str,
    wait_s: float = 0.5,
) -> list[R]:
    """Run ``work`` on every worker in a thread of its own; returns the results in order, or raises the first error.

    Args:
        workers: What each thread works with (a service, a manager), one per thread.
        work: The work.
        engines: The workers' engines, watched for ``meet_after``.
        meet_after: A table name: each worker waits for the others after its first statement naming it.
        wait_s: How long a worker waits there before it goes on alone.
    """
    meeting = threading.Barrier(len(workers), timeout=wait_s)
    start = threading.Barrier(len(workers))
    local = threading.local()
    results: list[Any] = [None] * len(workers)
    errors: list[BaseException] = []

    def hold(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if getattr(local, "armed", False) and meet_after in statement:
            local.armed = False
            try:
                meeting.wait()
            except threading.BrokenBarrierError:
                pass  # the other worker is blocked behind this one's lock: the claim is serialised

    def run(i: int) -> None:
        start.wait()
        local.armed = True
        try:
            results[i] = work(workers[i])
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    for engine in engines:
        event.listen(engine, "after_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", hold)
    if errors:
        raise errors[0]
    return results
