"""Fakes for the eval tests: a scripted backend, a three-tool registry (one tool per risk), BFCL files."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

from pydantic import Field

from agent.backends.base import DecideRequest, Decision
from core.vocabulary import Period, ReportName
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.registry import Registry


class ScriptedBackend:
    """Returns queued Decisions in order and records every request."""

    name = "scripted"
    model = "script-1"

    def __init__(self, *decisions: Decision) -> None:
        self.queue: deque[Decision] = deque(decisions)
        self.requests: list[DecideRequest] = []

    def enqueue(self, *decisions: Decision) -> None:
        self.queue.extend(decisions)

    def decide(self, request: DecideRequest) -> Decision:
        self.requests.append(request)
        return self.queue.popleft()


def decision(tool: str | None, confidence: float, **args: Any) -> Decision:
    return Decision(tool=tool, args=args, confidence=confidence, backend="scripted")


class ReportArgs(ToolArgs):
    report: ReportName
    period: Period = "last_30_days"
    region: str | None = None


class OrderArgs(ToolArgs):
    client_id: int = Field(ge=1)
    product: str
    quantity: int = Field(ge=1)


class DeliverArgs(ToolArgs):
    file: str
    destination: str


def _noop(ctx: ToolContext, args: Any) -> ToolResult:  # never called: evals execute nothing
    raise AssertionError("an eval must not execute tools")


def make_registry() -> Registry:
    return Registry(
        [
            ToolSpec(
                name="run_report", description="Reports.", args_model=ReportArgs, risk="read", func=_noop
            ),
            ToolSpec(
                name="create_order", description="Orders.", args_model=OrderArgs, risk="write", func=_noop
            ),
            ToolSpec(
                name="deliver_file",
                description="Deliver.",
                args_model=DeliverArgs,
                risk="external",
                func=_noop,
            ),
        ]
    )


FUNCTION = {
    "name": "geometry.area",
    "description": "Area of a shape.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "Base."},
            "height": {"type": "float", "description": "Height."},
            "unit": {"type": "string", "description": "Unit.", "optional": True},
            "dims": {"type": "array", "items": {"type": "integer"}, "description": "Dimensions."},
            "opts": {"type": "dict", "properties": {"mode": {"type": "string"}}, "description": "Options."},
            "precision": {"type": "integer", "description": "Digits."},
        },
        "required": ["base", "height"],
    },
}
ANSWER = {
    "geometry.area": {
        "base": [10],
        "height": [5.0],
        "unit": ["units", "cm", ""],
        "dims": [[1, 2], ""],
        "opts": [{"mode": ["fast"]}, ""],
        "precision": [2, ""],
    }
}


def write_bfcl(directory: Path) -> Path:
    answers = directory / "possible_answer"
    answers.mkdir(parents=True)
    other = {
        "name": "weather.get",
        "description": "Weather.",
        "parameters": {"type": "dict", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }

    def question(qid: str, content: str, functions: list[dict[str, Any]]) -> str:
        return json.dumps(
            {"id": qid, "question": [[{"role": "user", "content": content}]], "function": functions}
        )

    (directory / "BFCL_v3_simple.json").write_text(
        "\n".join(
            [
                question("simple_0", "area of base 10 height 5", [FUNCTION]),
                question("simple_1", "area of base 10 height 7", [FUNCTION]),
            ]
        )
        + "\n"
    )
    (answers / "BFCL_v3_simple.json").write_text(
        "\n".join(
            [
                json.dumps({"id": "simple_0", "ground_truth": [ANSWER]}),
                json.dumps(
                    {
                        "id": "simple_1",
                        "ground_truth": [{"geometry.area": {**ANSWER["geometry.area"], "height": [7.0]}}],
                    }
                ),
            ]
        )
        + "\n"
    )
    (directory / "BFCL_v3_multiple.json").write_text(
        question("multiple_0", "weather in Paris", [FUNCTION, other]) + "\n"
    )
    (answers / "BFCL_v3_multiple.json").write_text(
        json.dumps(
            {"id": "multiple_0", "ground_truth": [{"weather.get": {"city": ["Paris", "paris, france"]}}]}
        )
        + "\n"
    )
    (directory / "BFCL_v3_irrelevance.json").write_text(
        question("irrelevance_0", "tell me a joke", [other]) + "\n"
    )
    return directory
