"""Our /api/chat request as Ollama reads it: faithful tool schemas, a cacheable prefix, num_ctx, one deadline."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import ollama
import pytest

from agent.backends.base import DecideRequest, Turn
from agent.backends.ollama_request import STEP
from switchboard.settings import Settings
from tests.utils.ollama_backend import ollama_backend, scripted_router
from tests.utils.servers.ollama_api import Delay, OllamaApi, Reply, ToolCall, text, tool_call
from tests.utils.servers.ollama_contract import tool_problems
from tools.registry import build_registry

TODAY = date(2026, 11, 22)


def _declared(schema: dict[str, Any]) -> tuple[set[str], list[Any] | None]:
    """The non-null types and allowed values pydantic declared for one argument, through any ``anyOf``."""
    branches = [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]
    types = {b["type"] for b in branches if "type" in b}
    values = [v for b in branches for v in b.get("enum", [])]
    return types, values or None


def test_every_tool_argument_reaches_ollama_with_its_type_and_allowed_values(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(tool_call("list_runs", status="failed"))
    decision = ollama_backend(settings, ollama_api.url, scripted_router("list_runs", status="failed")).decide(
        DecideRequest(text="which runs failed?", today=TODAY)
    )
    assert (decision.tool, decision.args, decision.backend) == (
        "list_runs",
        {"status": "failed", "period": "last_7_days"},
        "ollama",
    )
    [request] = [r for r in ollama_api.requests if r.path == "/api/chat"]
    sent = {tool["function"]["name"]: tool for tool in json.loads(request.raw)["tools"]}
    registry = build_registry()
    assert list(sent) == [tool["function"]["name"] for tool in registry.ollama_tools()]
    for spec_tool in registry.ollama_tools():
        name = spec_tool["function"]["name"]
        declared = spec_tool["function"]["parameters"]
        got = sent[name]["function"]["parameters"]
        assert tool_problems(name, sent[name]) == []
        assert set(got["properties"]) == set(declared.get("properties", {})), name
        assert got.get("required", []) == declared.get("required", []), name
        for argument, schema in declared.get("properties", {}).items():
            types, values = _declared(schema)
            assert {got["properties"][argument]["type"]} == types, (name, argument)
            assert got["properties"][argument].get("enum") == values, (name, argument)
    # The four arguments the client used to strip to a bare description, as the model now sees them:
    assert sent["list_runs"]["function"]["parameters"]["properties"]["status"] == {
        "type": "string",
        "description": "Only runs in this state; 'failed' includes partial and dead-lettered runs.",
        "enum": ["failed", "succeeded", "running", "pending"],
    }
    assert sent["get_run_status"]["function"]["parameters"]["properties"]["run_id"]["type"] == "integer"
    assert sent["run_report"]["function"]["parameters"]["properties"]["region"]["enum"] == [
        "emea",
        "apac",
        "latam",
        "north_america",
    ]
    assert sent["export_dataset"]["function"]["parameters"]["properties"]["period"]["type"] == "string"
    limit = sent["run_report"]["function"]["parameters"]["properties"]["limit"]
    assert limit["type"] == "integer" and limit["description"].endswith("(1 to 100; default 10)")


def test_the_official_client_passes_our_schemas_through_unchanged() -> None:
    from agent.backends.ollama_schema import flatten_tool

    for tool in build_registry().ollama_tools():
        flat = flatten_tool(tool)
        assert ollama.Tool.model_validate(flat).model_dump(exclude_none=True) == flat


def test_the_prompt_prefix_is_byte_identical_from_turn_to_turn(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(
        tool_call("run_report", report="sales_by_region", period="last_month"),
        tool_call("run_report", report="sales_by_region", period="last_month", region="emea"),
    )
    backend = ollama_backend(settings, ollama_api.url, scripted_router(turns=2))
    backend.decide(DecideRequest(text="sales by region last month", today=TODAY))
    backend.examples = lambda text, k: [
        {"text": "failed runs?", "tool": "list_runs", "args": {"status": "failed"}}
    ]
    backend.decide(
        DecideRequest(
            text="only emea",
            today=date(2026, 11, 23),
            context=[
                Turn(role="user", text="sales by region last month"),
                Turn(role="assistant", tool="run_report", args={"report": "sales_by_region"}),
            ],
        )
    )
    first, second = (json.loads(r.raw) for r in ollama_api.requests if r.path == "/api/chat")

    def stable(body: dict[str, Any]) -> bytes:
        return json.dumps(
            [body["model"], body["options"], body["keep_alive"], body["messages"][0], body["tools"]]
        ).encode()

    assert stable(first) == stable(second)
    assert first["messages"][0]["role"] == "system" and "{" not in first["messages"][0]["content"]
    # Everything that changes comes after the prefix, and none of it is a system message (Ollama would join it
    # into the system block, ahead of the tools).
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user", "user"]
    assert second["messages"][3]["content"].startswith("Today is 2026-11-23.")
    assert 'failed runs?" → list_runs({"status": "failed"})' in second["messages"][3]["content"]
    options = first["options"]
    assert options["temperature"] == 0 and options["num_ctx"] % STEP == 0
    prompt_chars = len(json.dumps(second["messages"])) + len(json.dumps(second["tools"]))
    assert prompt_chars / 3 + 512 < options["num_ctx"] <= 32_768  # the prompt and a reply; what qwen2.5 holds
    assert first["keep_alive"] == "10m"


@pytest.mark.parametrize(
    "slow",
    [
        # 12 chunks 0.4 s apart: each read is quick, the reply takes ~5 s
        Reply(
            content="Let me think about which report you mean here, one word at a time ok", chunk_delay=0.4
        ),
        Delay(4.0, text("too late")),  # nothing at all until after the deadline
    ],
    ids=["slow-stream", "slow-first-byte"],
)
def test_one_deadline_bounds_the_whole_reply(settings: Settings, ollama_api: OllamaApi, slow: Any) -> None:
    ollama_api.enqueue(slow)
    backend = ollama_backend(settings, ollama_api.url, scripted_router(), timeout=3.0, deadline=1.0)
    started = time.monotonic()
    decision = backend.decide(
        DecideRequest(text="regional sales last month", today=TODAY, allowed_tools=["lookup_customer"])
    )
    elapsed = time.monotonic() - started
    assert (decision.tool, decision.backend) == ("run_report", "ollama→embedded")
    assert decision.notes[-1] == (
        "(The Ollama qwen2.5:7b-instruct model was unavailable — it did not answer within 1 s; "
        "I used the embedded router instead.)"
    )
    assert 1.0 <= elapsed < 2.5  # the stream alone would take ~5 s, a read may wait 3 s


def test_the_repair_round_shares_the_deadline(settings: Settings, ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(
        Reply(tool_calls=(ToolCall("run_report", {"report": "sales_by_planet"}),)),
        Delay(3.0, tool_call("run_report", report="sales_by_region")),
    )
    started = time.monotonic()
    decision = ollama_backend(settings, ollama_api.url, scripted_router(), timeout=5.0, deadline=1.0).decide(
        DecideRequest(text="regional sales", today=TODAY)
    )
    assert decision.backend == "ollama→embedded" and "did not answer within 1 s" in decision.notes[-1]
    assert time.monotonic() - started < 2.5


def test_a_stream_cut_off_mid_way_falls_back(settings: Settings, ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(Reply(content="I will run the sales report for you", disconnect_after=2))
    decision = ollama_backend(settings, ollama_api.url, scripted_router()).decide(
        DecideRequest(text="regional sales", today=TODAY)
    )
    assert decision.backend == "ollama→embedded"
    assert "the connection broke before the reply ended" in decision.notes[-1]


def test_thinking_is_streamed_apart_and_the_tool_call_still_counts(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(
        Reply(
            thinking="The operator wants regional sales for last month.",
            tool_calls=(ToolCall("run_report", {"report": "sales_by_region", "period": "last_month"}),),
            done_reason="stop",
        )
    )
    decision = ollama_backend(settings, ollama_api.url, scripted_router()).decide(
        DecideRequest(text="sales by region last month", today=TODAY)
    )
    assert (decision.tool, decision.backend, decision.notes) == ("run_report", "ollama", [])
    assert decision.args == {"report": "sales_by_region", "period": "last_month", "limit": 10}
