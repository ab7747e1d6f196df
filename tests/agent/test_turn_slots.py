"""Turn slots: at most ``agent.turns_at_once`` chat turns run at a time in one process; the others queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import Engine

from agent.backends.base import DecideRequest, Decision
from agent.config import AgentConfig
from agent.service import Switchboard, open_switchboard
from core.errors import Busy
from switchboard.settings import Settings


class _SlowBackend:
    """Refuses everything after a pause, counting how many decisions run at the same moment."""

    name = "slow"

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.running = self.most = 0
        self._lock = threading.Lock()

    def decide(self, request: DecideRequest) -> Decision:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.pause_s)  # releases the GIL: without slots, every turn would be in here at once
        with self._lock:
            self.running -= 1
        return Decision(tool=None, confidence=0.95)


@contextmanager
def _service(settings: Settings, engine: Engine, backend: _SlowBackend, slots: int) -> Iterator[Switchboard]:
    agent = settings.agent.model_copy(update={"turns_at_once": slots})
    with open_switchboard(settings.model_copy(update={"agent": agent}), engine, backend=backend) as sb:
        yield sb


@pytest.mark.parametrize("slots", [1, 3])
def test_no_more_turns_run_at_once_than_there_are_slots(
    settings: Settings, engine: Engine, slots: int
) -> None:
    backend = _SlowBackend(0.05)
    with _service(settings, engine, backend, slots) as sb, ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda n: sb.chat(thread_id=f"t{n}", user="olive", role="operator", text="hello there"),
                range(8),
            )
        )
    assert len(replies) == 8 and backend.most == slots


def test_a_turn_that_waits_too_long_for_a_slot_is_refused(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agent.service.SLOT_WAIT_S", 0.05)
    backend = _SlowBackend(0.5)
    with _service(settings, engine, backend, 1) as sb:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(sb.chat, thread_id="a", user="olive", role="operator", text="hello")
            time.sleep(0.1)
            with pytest.raises(Busy, match="busy with other requests; try again in a moment"):
                sb.chat(thread_id="b", user="olive", role="operator", text="hello")
            first.result(5)
        # Busy means nothing was done (the client is told to try again), so the thread stays as it was
        assert sb.history(thread_id="b", user="olive") == []


def test_the_default_follows_the_backend() -> None:
    assert AgentConfig().turn_slots() == 1
    assert AgentConfig(backend="ollama").turn_slots() == 8
    assert AgentConfig(backend="ollama", turns_at_once=3).turn_slots() == 3
