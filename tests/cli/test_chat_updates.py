"""The terminal chat prints what was posted to its thread between turns (an approval's or a run's outcome)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from switchboard.commands import chat_cmd


@dataclass
class _Message:
    id: int
    role: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Service:
    messages: list[_Message]

    def history(self, *, thread_id: str, user: str) -> list[_Message]:
        assert (thread_id, user) == ("t1", "olive")
        return self.messages


def test_only_outcomes_posted_since_the_last_look_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    service = _Service(
        [
            _Message(1, "user", "run the customer sync"),
            _Message(2, "assistant", "Started run_flow(flow=customer_sync) as run 7.", {"kind": "started"}),
            _Message(
                3, "assistant", "Run 7 (run_flow(flow=customer_sync)) finished: [/bold] 3 rows", {"run_id": 7}
            ),
        ]
    )

    seen = chat_cmd._show_updates(service, thread_id="t1", user="olive", after=2)
    again = chat_cmd._show_updates(service, thread_id="t1", user="olive", after=seen)

    printed = capsys.readouterr().out
    assert seen == again == 3
    assert "Run 7 (run_flow(flow=customer_sync)) finished: [/bold] 3 rows" in printed  # data, not markup
    assert "Started run_flow" not in printed and printed.count("finished") == 1
