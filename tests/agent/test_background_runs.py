"""Long work leaves the chat turn: a confirmed flow is queued, the turn answers at once, the thread hears the end."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from core.store.runs import RunStatus
from switchboard.settings import Settings
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend

FLOW = {"flow": "customer_sync"}


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


def _outcome(sb: Switchboard, run_id: int, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in sb.history(thread_id="t1", user="olive"):
            if message.payload.get("run_id") == run_id and "kind" not in message.payload:
                return message.text
        time.sleep(0.1)
    raise AssertionError(f"run {run_id}'s outcome was never posted to the thread")


def test_a_confirmed_flow_is_started_and_its_outcome_posted_later(
    settings: Settings, engine: Engine, backend: ScriptedBackend
) -> None:
    seed_basic(engine)
    with open_switchboard(settings, engine, backend=backend, durable_as="console-0") as sb:
        backend.enqueue("run_flow", FLOW, confidence=0.95)
        asked = sb.chat(thread_id="t1", user="olive", role="operator", text="run the customer sync")
        assert asked.kind == "confirm"
        started = sb.chat(thread_id="t1", user="olive", role="operator", text="yes")

        assert started.kind == "started" and started.run_id is not None
        assert started.text == (
            f"Started run {started.run_id} to run the customer sync flow. It runs in the background; "
            "I'll post the outcome here when it ends."
        )
        told = _outcome(sb, started.run_id)
        run = sb.runner.runs.get(started.run_id)

    assert told.startswith(f"Run {started.run_id} (run the customer sync flow) finished: ")
    assert (run.name, run.status, run.actor) == ("customer_sync", RunStatus.SUCCEEDED, "olive")
    assert [r.id for r in sb.runner.runs.list()] == [started.run_id]  # the turn's run is the one that ran


def test_without_the_engine_a_flow_runs_in_the_turn(
    settings: Settings, engine: Engine, backend: ScriptedBackend
) -> None:
    seed_basic(engine)
    with open_switchboard(settings, engine, backend=backend) as sb:
        backend.enqueue("run_flow", FLOW, confidence=0.95)
        sb.chat(thread_id="t1", user="olive", role="operator", text="run the customer sync")
        done = sb.chat(thread_id="t1", user="olive", role="operator", text="yes")

    assert done.kind == "answer" and done.run_id is not None
    assert sb.runner.runs.get(done.run_id).status == RunStatus.SUCCEEDED


def test_an_interface_that_shows_no_later_outcome_gets_the_flow_in_the_turn(
    settings: Settings, engine: Engine, backend: ScriptedBackend
) -> None:
    # The terminal chat ("cli") reads only its own replies, so its flows run in the turn even where work is queued.
    seed_basic(engine)
    with open_switchboard(settings, engine, backend=backend, durable_as="console-0") as sb:
        backend.enqueue("run_flow", FLOW, confidence=0.95)
        sb.chat(thread_id="t1", user="olive", role="operator", text="run the customer sync", source="cli")
        done = sb.chat(thread_id="t1", user="olive", role="operator", text="yes", source="cli")

    assert done.kind == "answer" and done.run_id is not None
    assert sb.runner.runs.get(done.run_id).status == RunStatus.SUCCEEDED
