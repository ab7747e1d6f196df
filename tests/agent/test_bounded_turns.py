"""A chat turn is bounded (issue 15): the message in, the reply out, and a backend's oversized integer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from agent.backends.base import Decision
from agent.service import Switchboard, open_switchboard
from agent.state import Reply
from core.errors import TooLarge
from core.text import REPLY_LIMIT
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tools.registry import build_registry


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def sb(settings: Settings, engine: Engine, backend: ScriptedBackend) -> Iterator[Switchboard]:
    with open_switchboard(settings, engine, backend=backend, registry=build_registry()) as service:
        yield service


def test_a_reply_is_clipped_to_the_reply_limit() -> None:
    reply = Reply(text="r" * 100_000)
    assert len(reply.text) == REPLY_LIMIT - 32 + len("… 89.9 KB more")
    assert reply.text.endswith("r… 89.9 KB more")


def test_a_message_over_the_limit_is_refused_from_any_interface(sb: Switchboard) -> None:
    with pytest.raises(TooLarge, match=r"^the message is 5,000 characters long, over the limit of 4,096$"):
        sb.chat(thread_id="cli:olive:1", user="olive", role="operator", text="x" * 5_000, source="cli")
    assert sb.history(thread_id="cli:olive:1", user="olive") == []


def test_an_integer_beyond_64_bits_from_a_backend_is_kept_as_digits() -> None:
    decision = Decision(
        tool="create_order", args={"quantity": 2**70, "nested": [{"id": -(2**64)}]}, confidence=1
    )
    assert decision.args == {"quantity": str(2**70), "nested": [{"id": str(-(2**64))}]}
    assert Decision(tool="x", args={"quantity": 2**63 - 1, "ok": True}, confidence=1).args == {
        "quantity": 2**63 - 1,
        "ok": True,
    }
