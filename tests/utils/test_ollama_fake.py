"""The fake Ollama holds requests to the documented API and answers in the real shapes, through the real client."""

from __future__ import annotations

import math
from typing import Any

import httpx
import ollama
import pytest

from tests.utils.servers.ollama_api import OllamaApi, Reply, ToolCall, decision
from tests.utils.servers.ollama_contract import chat_problems

MODEL = "qwen2.5:7b-instruct"
USER = [{"role": "user", "content": "hi"}]
TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "list_runs",
        "description": "List runs.",
        "parameters": {
            "type": "object",
            "properties": {"status": {"type": "string", "enum": ["failed", "running"]}},
        },
    },
}


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"model": MODEL, "messages": USER, "tool": []}, ["unknown field 'tool'"]),
        ({"model": "", "messages": USER}, ["'model' must be a non-empty string"]),
        (
            {"model": MODEL, "messages": [{"role": "bot", "content": 3}]},
            [
                "messages[0].role must be one of ['assistant', 'system', 'tool', 'user']",
                "'messages[0].content' must be a str, not int",
            ],
        ),
        (
            {
                "model": MODEL,
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"function": {"name": "x", "arguments": '{"a": 1}'}}],
                    }
                ],
            },
            ["messages[0].tool_calls[0].function.arguments must be an object, not a string"],
        ),
        (
            {"model": MODEL, "messages": USER, "options": {"num_ctx": "8k", "temprature": 0}},
            [
                "option 'num_ctx' must be an integer, not '8k'",
                "unknown option 'temprature' (Ollama would log 'invalid option' and ignore it)",
            ],
        ),
        (
            {"model": MODEL, "messages": USER, "format": {"type": "object", "properties": {"tool": {}}}},
            ["'format' property 'tool' has no type"],
        ),
        (
            {"model": MODEL, "messages": USER, "think": "very"},
            ["'think' must be true, false, 'high', 'medium' or 'low'"],
        ),
        ({"model": MODEL, "messages": USER, "top_logprobs": 3}, ["'top_logprobs' needs 'logprobs': true"]),
        ({"model": MODEL, "messages": USER, "stream": "yes"}, ["'stream' must be a bool, not str"]),
    ],
)
def test_chat_requests_are_held_to_the_documented_fields(body: dict[str, Any], problems: list[str]) -> None:
    assert chat_problems(body) == problems


def test_a_tool_argument_the_model_would_see_without_a_type_is_refused(ollama_api: OllamaApi) -> None:
    status = {"anyOf": [{"type": "string", "enum": ["failed"]}, {"type": "null"}], "default": None}
    parameters = {"type": "object", "properties": {"status": status}, "additionalProperties": False}
    lossy = {"type": "function", "function": {**TOOL["function"], "parameters": parameters}}
    ollama_api.expect_violations = True
    response = httpx.post(
        f"{ollama_api.url}/api/chat", json={"model": MODEL, "messages": USER, "tools": [lossy]}
    )
    assert response.status_code == 400 and response.json()["error"].startswith(
        "fake ollama: invalid request: "
    )
    assert ollama_api.violations == [
        "tools[0] (list_runs).parameters.additionalProperties: Ollama's tool schema has no 'additionalProperties'; "
        "it would be dropped",
        "tools[0] (list_runs).status: Ollama's tool schema has no 'anyOf'; it would be dropped",
        "tools[0] (list_runs).status: Ollama's tool schema has no 'default'; it would be dropped",
        "tools[0] (list_runs).status has no type",
    ]


def test_streamed_reply_has_the_real_framing(ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(
        Reply(thinking="They want failures.", tool_calls=(ToolCall("list_runs", {"status": "failed"}),))
    )
    chunks = list(
        ollama.Client(host=ollama_api.url).chat(
            model=MODEL, messages=USER, tools=[TOOL], stream=True, options={"temperature": 0, "num_ctx": 8192}
        )
    )
    assert "".join(c.message.thinking or "" for c in chunks) == "They want failures."
    assert [
        (c.function.name, dict(c.function.arguments))
        for chunk in chunks
        for c in chunk.message.tool_calls or []
    ] == [("list_runs", {"status": "failed"})]
    assert [c.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
    final = chunks[-1]
    assert (final.done_reason, final.message.content) == ("stop", "")
    assert final.prompt_eval_count is not None and final.eval_duration is not None


def test_a_stream_dropped_mid_way_breaks_the_client_read(ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(Reply(content="one two three four", disconnect_after=2))
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        for chunk in ollama.Client(host=ollama_api.url).chat(model=MODEL, messages=USER, stream=True):
            received.append(chunk.message.content or "")
    assert received == ["one ", "two "]


def test_thinking_on_a_model_without_it_is_refused(ollama_api: OllamaApi) -> None:
    with pytest.raises(ollama.ResponseError, match='"qwen2.5:7b-instruct" does not support thinking') as err:
        ollama.Client(host=ollama_api.url).chat(model=MODEL, messages=USER, think=True)
    assert err.value.status_code == 400


def test_show_states_template_context_length_and_capabilities(ollama_api: OllamaApi) -> None:
    shown = ollama.Client(host=ollama_api.url).show(MODEL)
    assert shown.capabilities == ["completion", "tools"]
    assert ".Tools" in (shown.template or "")
    assert (shown.modelinfo or {})["qwen2.context_length"] == 32_768
    plain = ollama.Client(host=ollama_api.url).show("gemma:2b")
    assert ".Tools" not in (plain.template or "") and (plain.modelinfo or {})["gemma.context_length"] == 8_192


def test_logprobs_come_back_only_when_asked_and_cut_to_top_logprobs(ollama_api: OllamaApi) -> None:
    reply = decision("list_runs", {}, choices=[{"list": 0.45, "run": 0.40, "get": 0.05}, {"_runs": 0.9}])
    client = ollama.Client(host=ollama_api.url)
    ollama_api.enqueue(reply, reply, reply)
    assert client.chat(model=MODEL, messages=USER).logprobs is None
    asked = client.chat(model=MODEL, messages=USER, logprobs=True, top_logprobs=2)
    assert asked.message.content == '{"tool": "list_runs", "args": {}}'
    assert [e.token for e in asked.logprobs or []] == [
        '{"',
        "tool",
        '":',
        ' "',
        "list",
        "_runs",
        '",',
        ' "',
        "args",
        '":',
        " ",
        "{",
        "}}",
    ]
    chosen = (asked.logprobs or [])[4]
    assert (chosen.token, chosen.logprob) == ("list", round(math.log(0.45), 6))
    assert [(t.token, t.logprob) for t in chosen.top_logprobs or []] == [
        ("list", round(math.log(0.45), 6)),
        ("run", round(math.log(0.40), 6)),
    ]
    streamed = list(client.chat(model=MODEL, messages=USER, logprobs=True, top_logprobs=1, stream=True))
    assert [c.message.content for c in streamed[:-1]] == [e.token for e in asked.logprobs or []]
    assert [len(c.logprobs or []) for c in streamed] == [1] * (len(streamed) - 1) + [0]
    ollama_api.enqueue(reply)
    raw = httpx.post(
        f"{ollama_api.url}/api/chat",
        json={"model": MODEL, "messages": USER, "logprobs": True, "top_logprobs": 1, "stream": False},
    )
    assert raw.json()["logprobs"][4] == {
        "token": "list",
        "logprob": round(math.log(0.45), 6),
        "bytes": [108, 105, 115, 116],
        "top_logprobs": [
            {"token": "list", "logprob": round(math.log(0.45), 6), "bytes": [108, 105, 115, 116]}
        ],
    }


def test_a_scripted_reply_outside_the_format_enum_is_a_violation(ollama_api: OllamaApi) -> None:
    schema = {"type": "object", "properties": {"tool": {"type": "string", "enum": ["list_runs", "none"]}}}
    ollama_api.enqueue(decision("run_report", {}, choices=[{"run": 0.9}]))
    ollama_api.expect_violations = True
    with pytest.raises(ollama.ResponseError, match="outside the format's enum") as err:
        ollama.Client(host=ollama_api.url).chat(model=MODEL, messages=USER, format=schema)
    assert err.value.status_code == 500
    assert ollama_api.violations == ["scripted reply's 'tool' = 'run_report' is outside the format's enum"]
