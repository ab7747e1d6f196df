"""One thread pool per process for LangGraph's background saves, instead of a new pool for every invoke.

LangGraph's sync loop saves a run's checkpoint on a thread pool that it makes for each ``invoke`` and shuts down
at its end (``langgraph.pregel._executor.BackgroundExecutor``, through langchain-core's
``get_executor_for_config``), so every chat turn and every approval started a thread and joined it. On a busy
2-core host the turn then waits for the new thread to be scheduled: two serving workers did 130 chat turns/s at
13.1 ms of CPU a turn, and 142/s at 12.1 ms with the pool shared (``benchmarks.console_load``, same hour).

The pool is shared by handing LangGraph's executor module a replacement for that one function: a context manager
yielding this process's pool and leaving it running. LangGraph still waits for its own tasks at the end of each
invoke (``BackgroundExecutor.__exit__`` waits on the futures it submitted), so a turn's checkpoint is saved before
the turn returns, as before. Tasks run in submission order and a save waits only for the previous save of its own
run, so saves alone never deadlock a full pool. LangGraph also puts a superstep's nodes on this pool when there
are several of them: the chat and approval graphs run one node a step, and a graph that fans out into nodes which
invoke graphs themselves should not count on more than ``WORKERS`` of them waiting at once. The module is private
to LangGraph: when it no longer has the function, nothing is replaced, a warning is logged, and
``tests/agent/test_pregel_pool.py`` fails.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from langchain_core.runnables.config import ContextThreadPoolExecutor

logger = logging.getLogger(__name__)

# A turn submits one or two short saves. Threads are made only when every one is busy, so a high ceiling costs
# nothing until it is needed.
WORKERS = 32
_guard = threading.Lock()
_pool: tuple[int, ContextThreadPoolExecutor] | None = None  # (pid, pool): a forked child makes its own


def _process_pool() -> Executor:
    global _pool
    with _guard:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (
                os.getpid(),
                ContextThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="langgraph"),
            )
        return _pool[1]


@contextmanager
def _shared(_config: Any) -> Iterator[Executor]:
    """``get_executor_for_config``'s stand-in: this process's pool, left running when the invoke ends."""
    yield _process_pool()


def share() -> bool:
    """Make LangGraph's background saves use this process's pool; True when it does (idempotent)."""
    from langgraph.pregel import _executor

    current = getattr(_executor, "get_executor_for_config", None)
    if current is _shared:
        return True
    if current is None:
        logger.warning("LangGraph's executor module has changed; each invoke keeps its own thread pool")
        return False
    setattr(_executor, "get_executor_for_config", _shared)  # noqa: B010 - not in its __all__
    return True
