"""Structured mode: the decision as JSON under a format schema, its confidence from the tool tokens' logprobs.

Also the other half of the issue's point 4: several tool calls in one reply are refused, with a message.
"""

from __future__ import annotations

import math
import time
from datetime import date
from typing import Any

import pytest

from agent.backends.base import DecideRequest
from agent.backends.ollama import OllamaBackend
from agent.planner import plan
from agent.policy import Policy
from switchboard.settings import Settings
from tests.utils.ollama_backend import ollama_backend, scripted_router
from tests.utils.servers.ollama_api import OllamaApi, Reply, ToolCall, decision
from tools.registry import build_registry

TODAY = date(2026, 11, 22)
TOOLS = list(build_registry())
# The model is sure: "list" against "run", then "_runs" against "_pending" (list_pending_approvals).
SURE = [{"list": 0.98, "run": 0.01}, {"_runs": 0.995, "_pending": 0.004}]
# A coin toss between listing runs and running something: 0.45 for "list", 0.40 for "run", 0.05 for "get".
TOSS = [{"list": 0.45, "run": 0.40, "get": 0.05}, {"_runs": 0.97, "_pending": 0.02}]


def _structured(settings: Settings, api: OllamaApi) -> OllamaBackend:
    return ollama_backend(settings, api.url, scripted_router("run_report", turns=4), mode="structured")


def test_the_request_asks_for_the_decision_under_a_format_schema_with_logprobs(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(decision("list_runs", {"status": "failed"}, choices=SURE))
    allowed = ["run_report", "list_runs", "list_pending_approvals"]
    got = _structured(settings, ollama_api).decide(
        DecideRequest(text="which runs failed?", today=TODAY, allowed_tools=allowed)
    )
    assert (got.tool, got.args, got.backend) == (
        "list_runs",
        {"status": "failed", "period": "last_7_days"},
        "ollama",
    )
    [sent] = ollama_api.chat_requests
    assert sent["format"] == {
        "type": "object",
        "properties": {
            "tool": {"type": "string", "enum": [*allowed, "none"]},
            "args": {"type": "object"},
        },
        "required": ["tool", "args"],
    }
    assert (sent["logprobs"], sent["top_logprobs"], sent["stream"]) == (True, 10, True)
    assert not sent.get("tools")  # the tools are listed in the fixed system message instead
    system = sent["messages"][0]["content"]
    assert '{"tool": "<the name of one tool below, or none>"' in system
    assert '"name": "deliver_file"' in system  # the prefix lists every tool, so it stays byte-identical


def test_a_high_margin_choice_gets_a_high_confidence_and_executes(
    settings: Settings, ollama_api: OllamaApi, engine: Any
) -> None:
    from agent.service import open_switchboard

    ollama_api.enqueue(decision("list_runs", {"status": "failed"}, choices=SURE))
    backend = _structured(settings, ollama_api)
    with open_switchboard(settings, engine, backend=backend) as sb:
        reply = sb.chat(thread_id="t", user="olive", role="operator", text="which runs failed?")
    assert reply.decision is not None
    # 0.98 / (0.98 + 0.01) for "list", then 0.995 / (0.995 + 0.004) between the two "list…" tools.
    assert reply.decision.confidence == pytest.approx(round(0.98 / 0.99 * 0.995 / 0.999, 4))
    assert (reply.decision.tool, reply.decision.action, reply.kind) == ("list_runs", "execute", "answer")


def test_a_low_margin_choice_gets_a_low_confidence_and_is_asked_back(
    settings: Settings, ollama_api: OllamaApi, engine: Any
) -> None:
    from agent.service import open_switchboard

    ollama_api.enqueue(decision("list_runs", {"status": "failed"}, choices=TOSS))
    backend = _structured(settings, ollama_api)
    got = backend.decide(DecideRequest(text="runs, failed ones, do it", today=TODAY, allowed_tools=TOOLS))
    expected = 0.45 / (0.45 + 0.40 + 0.05) * 0.97 / (0.97 + 0.02)
    assert got.confidence == pytest.approx(round(expected, 4))
    # "run" could start run_report or run_flow: each is offered as a rival at the share "run" had.
    assert [(a.tool, a.probability) for a in got.alternatives] == [
        ("run_report", round(0.40 / 0.90, 4)),
        ("run_flow", round(0.40 / 0.90, 4)),
        ("get_run_status", round(0.05 / 0.90, 4)),
        ("list_pending_approvals", round(0.45 / 0.90 * 0.02 / 0.99, 4)),
    ]

    ollama_api.enqueue(decision("list_runs", {"status": "failed"}, choices=TOSS))
    with open_switchboard(settings, engine, backend=backend) as sb:
        reply = sb.chat(thread_id="t", user="olive", role="operator", text="runs, failed ones, do it")
    assert reply.decision is not None
    assert (reply.decision.tool, reply.decision.action, reply.kind) == ("list_runs", "clarify", "question")
    assert reply.decision.reasons == [f"low confidence ({expected:.2f} < 0.60)"]
    # The close rival is offered back, each as a one-tap choice.
    assert (reply.text, reply.buttons) == (
        "Did you mean to list runs or run a report?",
        ["List runs", "Run a report", "neither"],
    )


def test_the_planner_and_policy_gate_on_the_logprob_confidence(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    backend = _structured(settings, ollama_api)

    def action(choices: list[dict[str, float]]) -> str:
        ollama_api.enqueue(decision("list_runs", {}, choices=choices))
        return plan(
            text="list runs",
            context=[],
            role="operator",
            today=TODAY,
            backend=backend,
            registry=build_registry(),
            policy=Policy(settings.policy),
            settings=settings,
        ).gate.action

    assert [action(SURE), action(TOSS)] == ["execute", "clarify"]


def test_no_tool_is_a_choice_with_its_own_probability(settings: Settings, ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(decision("none", {}, choices=[{"none": 0.9, "list": 0.06, "run": 0.04}]))
    got = _structured(settings, ollama_api).decide(DecideRequest(text="how are you?", today=TODAY))
    assert (got.tool, got.confidence) == (None, 0.9)


def test_invalid_arguments_keep_the_tool_probability_and_say_why(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(decision("list_runs", {"status": "exploded"}, choices=SURE))
    got = _structured(settings, ollama_api).decide(DecideRequest(text="exploded runs", today=TODAY))
    assert (got.tool, got.args) == ("list_runs", {"status": "exploded"})
    assert got.notes and got.notes[0].startswith("arguments invalid: ")


def test_a_server_that_returns_no_logprobs_falls_back_and_says_so(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    without = decision("list_runs", {}, choices=SURE)
    ollama_api.enqueue(Reply(content=without.content))  # an Ollama older than 0.12.11 ignores "logprobs"
    got = _structured(settings, ollama_api).decide(DecideRequest(text="list runs", today=TODAY))
    assert (got.tool, got.backend) == ("run_report", "ollama→embedded")
    assert "it returned no log-probabilities for its choice" in got.notes[-1]


def test_logprobs_reach_the_backend_through_the_stream_one_token_a_chunk(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    reply = decision("list_runs", {}, choices=TOSS)
    ollama_api.enqueue(reply)
    backend = _structured(settings, ollama_api)
    chat = backend._request(DecideRequest(text="list runs", today=TODAY))
    answer = backend._chat(chat, deadline=time.monotonic() + 5)
    assert answer.content == reply.content
    assert [t.token for t in answer.tokens] == [e.token for e in reply.logprobs]
    recorded = tuple((token, round(math.log(p), 6)) for token, p in TOSS[0].items())
    assert (answer.tokens[4].token, answer.tokens[4].top) == ("list", recorded)


def test_several_tool_calls_in_one_reply_are_refused_with_a_message(
    settings: Settings, ollama_api: OllamaApi, engine: Any
) -> None:
    from agent.service import open_switchboard

    two = Reply(
        tool_calls=(ToolCall("list_runs", {"status": "failed"}), ToolCall("retry_run", {"run_id": 7}))
    )
    ollama_api.enqueue(two)
    backend = ollama_backend(settings, ollama_api.url, scripted_router("list_runs", status="failed"))
    with open_switchboard(settings, engine, backend=backend) as sb:
        reply = sb.chat(thread_id="t", user="olive", role="operator", text="list failed runs and retry run 7")
    message = (
        "That asks for 2 actions at once (list_runs, retry_run), and I run one per message, each through its own "
        "check. Nothing was run: send them one at a time."
    )
    assert reply.text == message and reply.kind == "info"
    assert reply.decision is not None and (reply.decision.tool, reply.decision.action) == (None, "refuse")
