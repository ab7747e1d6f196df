"""The Ollama adapter against Ollama's documented /api/chat protocol, served on loopback by a scripted fake."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agent.backends.base import DecideRequest, Turn
from agent.backends.ollama import OllamaBackend
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.ollama_backend import ollama_backend, scripted_router
from tests.utils.servers.ollama_api import Delay, HttpError, OllamaApi, RawBody, Reply, tool_call
from tests.utils.servers.ports import free_port

TODAY = date(2026, 11, 22)


def _backend(settings: Settings, host: str, local: ScriptedBackend, *, timeout: float = 5.0) -> OllamaBackend:
    return ollama_backend(settings, host, local, timeout=timeout, deadline=timeout)


def _local(tool: str | None = "run_report", **args: Any) -> ScriptedBackend:
    return scripted_router(tool, **args)


def test_native_tool_call_is_validated_and_combined_with_the_router(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(tool_call("run_report", report="sales_by_region", period="last_month"))
    decision = _backend(settings, ollama_api.url, _local()).decide(
        DecideRequest(
            text="sales by region last month",
            today=TODAY,
            context=[Turn(role="user", text="hi"), Turn(role="assistant", tool="list_runs", args={})],
        )
    )
    assert (decision.tool, decision.backend, decision.model) == (
        "run_report",
        "ollama",
        "qwen2.5:7b-instruct",
    )
    assert decision.args == {"report": "sales_by_region", "period": "last_month", "limit": 10}
    assert decision.confidence == pytest.approx(1 - 0.25 * 0.1)  # noisy-OR of 0.75 and the router's 0.9
    sent = ollama_api.chat_requests[0]
    assert sent["model"] == "qwen2.5:7b-instruct" and sent["stream"] is True and sent["keep_alive"] == "10m"
    assert {t["function"]["name"] for t in sent["tools"]} >= {"run_report", "deliver_file"}
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user", "user"]
    note = sent["messages"][-2]["content"]
    assert note.startswith("Today is 2026-11-22.") and "run_report" in note
    assert sent["messages"][-1] == {"role": "user", "content": "sales by region last month"}


def test_invalid_arguments_get_one_repair_round(settings: Settings, ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(
        tool_call("run_report", report="sales_by_planet"), tool_call("run_report", report="sales_by_region")
    )
    decision = _backend(settings, ollama_api.url, _local()).decide(
        DecideRequest(text="regional sales", today=TODAY)
    )
    assert decision.tool == "run_report" and decision.args["report"] == "sales_by_region"
    repair = ollama_api.chat_requests[1]["messages"][-1]
    assert repair["role"] == "tool" and "'report' should be" in repair["content"]


def test_still_invalid_after_repair_asks_instead_of_guessing(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.enqueue(tool_call("quote_price", client_id="abc"), tool_call("quote_price", client_id="abc"))
    decision = _backend(settings, ollama_api.url, _local()).decide(DecideRequest(text="quote", today=TODAY))
    assert decision.tool == "quote_price" and decision.confidence <= 0.3
    assert decision.notes and decision.notes[0].startswith("arguments still invalid")


def test_plain_answer_means_no_tool(settings: Settings, ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(Reply(content="I can't check the weather."))
    decision = _backend(settings, ollama_api.url, _local(None)).decide(
        DecideRequest(text="weather in Lisbon?", today=TODAY)
    )
    assert decision.tool is None and decision.backend == "ollama" and decision.confidence > 0.9


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (HttpError(500, "model crashed"), "it answered with an error (500: model crashed)"),
        (HttpError(404, "model 'qwen2.5:7b-instruct' not found"), "it answered with an error (404"),
        (RawBody("{not json"), "it returned a malformed response"),
        (tool_call("drop_database", confirm=True), "it chose a tool that does not exist ('drop_database')"),
        (Delay(3.0, tool_call("run_report", report="sales_by_region")), "it did not answer within 1 s"),
    ],
)
def test_failures_fall_back_to_the_embedded_router(
    settings: Settings, ollama_api: OllamaApi, reply: Any, why: str
) -> None:
    ollama_api.enqueue(reply)
    decision = _backend(settings, ollama_api.url, _local(), timeout=1.0).decide(
        DecideRequest(text="regional sales last month", today=TODAY)
    )
    assert (decision.tool, decision.backend) == ("run_report", "ollama→embedded")
    assert why in decision.notes[-1]
    assert decision.notes[-1].startswith("(The Ollama qwen2.5:7b-instruct model was unavailable — ")


def test_no_server_running_falls_back(settings: Settings) -> None:
    decision = _backend(settings, f"http://127.0.0.1:{free_port()}", _local()).decide(
        DecideRequest(text="regional sales last month", today=TODAY)
    )
    assert decision.backend == "ollama→embedded" and decision.tool == "run_report"
    assert "no server answered at http://127.0.0.1:" in decision.notes[-1]


def test_fallback_is_said_in_the_reply_and_the_audit(settings: Settings, engine: Any) -> None:
    from agent.service import open_switchboard
    from core.store.audit import AuditLog

    backend = _backend(settings, f"http://127.0.0.1:{free_port()}", _local("list_runs", period="last_7_days"))
    with open_switchboard(settings, engine, backend=backend) as sb:
        reply = sb.chat(thread_id="t", user="olive", role="operator", text="list runs")
    assert reply.decision is not None and reply.decision.backend == "ollama→embedded"
    assert any("was unavailable" in note for note in reply.notes)
    record = next(r for r in AuditLog(engine).iter_records() if r.event == "agent.decision")
    assert '"backend":"ollama→embedded"' in record.data and "was unavailable" in record.data


def test_accepted_requests_go_to_the_example_store(settings: Settings, tmp_path: Any) -> None:
    from agent.backends.embedded.encoder import Encoder
    from agent.examples_store import ExampleStore

    store = ExampleStore(tmp_path / "chroma", encoder=Encoder.load())
    backend = _backend(settings, f"http://127.0.0.1:{free_port()}", _local())
    backend.remember = store.remember
    backend.accepted(text="sales by region for emea", tool="run_report", args={"region": "emea"})
    nearest = store.nearest("regional sales in europe", 1)
    assert [(n["text"], n["tool"], n["args"], n["source"]) for n in nearest] == [
        ("sales by region for emea", "run_report", {"region": "emea"}, "accepted")
    ]
