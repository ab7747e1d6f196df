"""Per-thread locks in PostgreSQL: one holder per key across processes, freed when the holder's process dies."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.errors import Busy
from core.store.advisory import AdvisoryLocks
from core.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys, time\n"
    "from core.store.db import make_engine\n"
    "from core.store.advisory import AdvisoryLocks\n"
    "locks = AdvisoryLocks(make_engine(sys.argv[1]), namespace='test')\n"
    "with locks.hold('thread-1'):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_a_second_holder_of_a_key_waits_for_the_first(pg: Engine) -> None:
    locks = AdvisoryLocks(pg, namespace="test")
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with locks.hold("thread-1"):
            entered.set()
            time.sleep(0.3)
            order.append("first done")

    holder = threading.Thread(target=first)
    holder.start()
    assert entered.wait(10)
    with locks.hold("thread-1"):
        order.append("second in")
    holder.join(10)

    assert order == ["first done", "second in"]


def test_other_keys_and_namespaces_do_not_wait(pg: Engine) -> None:
    locks = AdvisoryLocks(pg, namespace="test", wait_s=0.2)
    with locks.hold("thread-1"), locks.hold("thread-2"):
        with AdvisoryLocks(pg, namespace="other", wait_s=0.2).hold("thread-1"):
            pass


def test_a_key_held_on_another_host_is_busy_until_its_process_dies(postgres_url: str, pg: Engine) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, postgres_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        locks = AdvisoryLocks(pg, namespace="test", wait_s=0.3, busy="{key} is busy elsewhere")
        with pytest.raises(Busy, match="^thread-1 is busy elsewhere$"), locks.hold("thread-1"):
            pass
        child.kill()  # as kill -9 would: no unlock runs; the server drops the connection and its locks
        child.wait(10)
        started = time.monotonic()
        with AdvisoryLocks(pg, namespace="test", wait_s=10).hold("thread-1"):
            pass
        assert time.monotonic() - started < 5
    finally:
        child.kill()
        child.wait(10)
