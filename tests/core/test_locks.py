"""Host-wide locks: a key's holder excludes other threads and other processes; a dead holder frees it."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from core.errors import Busy
from core.locks import StripedLock

_SPAWN = multiprocessing.get_context("spawn")


def _hold_in_child(path: str, key: str, started: object, release: object) -> None:
    locks = StripedLock(Path(path))
    with locks.hold(key):
        started.set()  # type: ignore[attr-defined]
        release.wait(30)  # type: ignore[attr-defined]


def _keys_on_different_stripes(locks: StripedLock) -> tuple[str, str]:
    first = "thread-a"
    other = next(f"thread-{i}" for i in range(1000) if locks.stripe(f"thread-{i}") != locks.stripe(first))
    return first, other


def test_a_key_held_in_another_process_waits_until_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "threads.lock"
    locks = StripedLock(path)
    key, other = _keys_on_different_stripes(locks)
    started, release = _SPAWN.Event(), _SPAWN.Event()
    child = _SPAWN.Process(target=_hold_in_child, args=(str(path), key, started, release))
    child.start()
    try:
        assert started.wait(30)
        with locks.hold(other):  # another stripe: no wait
            pass
        got: list[float] = []

        def take() -> None:
            with locks.hold(key):
                got.append(time.monotonic())

        waiter = threading.Thread(target=take)
        waiter.start()
        time.sleep(0.3)
        assert got == []  # still held by the child
        released_at = time.monotonic()
        release.set()
        waiter.join(10)
        assert got and got[0] >= released_at
    finally:
        release.set()
        child.join(10)


def test_a_dead_holder_frees_its_key(tmp_path: Path) -> None:
    path = tmp_path / "threads.lock"
    started, release = _SPAWN.Event(), _SPAWN.Event()
    child = _SPAWN.Process(target=_hold_in_child, args=(str(path), "t", started, release))
    child.start()
    assert started.wait(30)
    child.kill()
    child.join(10)
    locks = StripedLock(path)
    done = threading.Event()

    def take() -> None:
        with locks.hold("t"):
            done.set()

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    assert done.wait(5)
    taker.join(5)


def test_threads_of_one_process_exclude_each_other_and_give_up_with_busy(tmp_path: Path) -> None:
    locks = StripedLock(tmp_path / "threads.lock", wait_s=0.2, busy="another turn on {key} is running")
    inside = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with locks.hold("t-1"):
            inside.set()
            leave.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    with pytest.raises(Busy, match="^another turn on t-1 is running$"):
        with locks.hold("t-1"):
            pass
    leave.set()
    holder.join(5)
    with locks.hold("t-1"):  # free again
        pass


def test_holding_many_keys_keeps_no_descriptor_open(tmp_path: Path) -> None:
    locks = StripedLock(tmp_path / "threads.lock", stripes=1024)
    before = len(os.listdir("/proc/self/fd"))
    for i in range(3000):
        with locks.hold(f"thread-{i}"):
            pass
    assert len(os.listdir("/proc/self/fd")) <= before
