"""A scripted backend for agent-logic tests: decisions are queued or looked up by message text."""

from __future__ import annotations

from collections import deque
from typing import Any

from agent.backends.base import DecideRequest, Decision


class ScriptedBackend:
    """Returns queued decisions in order, or the one registered for the exact text; records requests."""

    name = "scripted"

    def __init__(self, by_text: dict[str, Decision] | None = None) -> None:
        self.by_text = dict(by_text or {})
        self.queue: deque[Decision] = deque()
        self.requests: list[DecideRequest] = []

    def enqueue(
        self, tool: str | None, args: dict[str, Any] | None = None, confidence: float = 0.95, **extra: Any
    ) -> None:
        self.queue.append(
            Decision(
                tool=tool,
                args=args or {},
                confidence=confidence,
                tool_probability=extra.pop("tool_probability", confidence),
                **extra,
            )
        )

    def decide(self, request: DecideRequest) -> Decision:
        self.requests.append(request)
        if request.text in self.by_text:
            return self.by_text[request.text]
        if self.queue:
            return self.queue.popleft()
        return Decision(tool=None, confidence=0.9)
