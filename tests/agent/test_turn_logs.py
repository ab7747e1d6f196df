"""A chat turn's log lines carry its thread and actor, whichever interface started the turn."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from agent.backends.base import DecideRequest, Decision
from agent.service import open_switchboard
from core.logs import bound
from switchboard.settings import Settings
from tests.utils.logs import captured_json

backend_log = logging.getLogger("tests.agent.turn_logs")


class _LoggingBackend:
    """Refuses everything, logging each decision it is asked for."""

    name = "logging"

    def decide(self, request: DecideRequest) -> Decision:
        backend_log.info("deciding")
        return Decision(tool=None, confidence=0.95)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    with captured_json(backend_log) as stream:
        yield stream


def test_a_turn_binds_its_thread_and_actor(settings: Settings, engine: Engine, lines: io.StringIO) -> None:
    with open_switchboard(settings, engine, backend=_LoggingBackend()) as sb:
        sb.chat(thread_id="t9", user="olive", role="operator", text="hello there")
    (line,) = [json.loads(text) for text in lines.getvalue().splitlines()]
    assert (line["msg"], line["thread_id"], line["actor"]) == ("deciding", "t9", "olive")
    assert bound() == {}
