"""LangGraph's background saves run on one pool per process: a turn starts no thread, and is saved when it returns."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from langgraph.pregel import _executor
from sqlalchemy.engine import Engine

from agent import pregel_pool
from agent.backends.base import Decision
from agent.service import open_switchboard
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend

READ = Decision(tool="list_runs", args={"period": "last_7_days"}, confidence=0.97, tool_probability=0.97)


def _count_thread_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    start = threading.Thread.start

    def counted(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
        started.append(self.name)
        start(self, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "start", counted)
    return started


def test_turns_start_no_threads_once_the_pool_is_warm(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = ScriptedBackend({"what ran this week": READ})
    with open_switchboard(settings, engine, backend=backend) as sb:
        for n in range(3):  # the pool makes its threads on the first saves
            sb.chat(thread_id=f"warm{n}", user="olive", role="operator", text="what ran this week")
        started = _count_thread_starts(monkeypatch)
        for n in range(10):
            reply = sb.chat(thread_id=f"t{n % 3}", user="olive", role="operator", text="what ran this week")
            assert reply.decision is not None and reply.decision.tool == "list_runs"
    # Without the shared pool each invoke makes a pool of its own, and starts a thread for its checkpoint save.
    assert started == []


def test_a_turn_is_saved_before_it_returns(settings: Settings, engine: Engine) -> None:
    with open_switchboard(settings, engine, backend=ScriptedBackend({"what ran this week": READ})) as sb:
        sb.chat(thread_id="saved", user="olive", role="operator", text="what ran this week")
        # Read at once, from the checkpointer: nothing is left in flight on the pool.
        saved = sb.graph.checkpointer.get_tuple({"configurable": {"thread_id": "saved"}})
    assert saved is not None
    turns = saved.checkpoint["channel_values"]["turns"]
    assert [(t.role, t.text) for t in turns][:1] == [("user", "what ran this week")]


def test_sharing_is_idempotent_and_replaces_langgraphs_pool_per_invoke() -> None:
    assert pregel_pool.share() and pregel_pool.share()
    executor_for_config = getattr(_executor, "get_executor_for_config")  # noqa: B009 - not in its __all__
    assert executor_for_config is pregel_pool._shared
    with executor_for_config({}) as first, executor_for_config({}) as second:
        assert first is second
    assert not first._shutdown  # type: ignore[attr-defined]  # left running for the next invoke
