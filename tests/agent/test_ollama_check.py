"""The start-up check when the Ollama backend is built: a missing model is said once, with its fix, not per turn."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from agent.backends import ollama as ollama_module
from agent.backends.base import DecideRequest
from switchboard.settings import Settings
from tests.utils.ollama_backend import ollama_backend, scripted_router
from tests.utils.servers.ollama_api import OllamaApi, text, tool_call

TODAY = date(2026, 11, 22)


def test_a_missing_model_falls_back_at_once_with_the_fix_until_it_is_pulled(
    settings: Settings,
    ollama_api: OllamaApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    del ollama_api.models["qwen2.5:7b-instruct"]
    backend = ollama_backend(settings, ollama_api.url, scripted_router(turns=3))
    with caplog.at_level(logging.ERROR, logger="agent.backends.ollama"):
        health = backend.check()
    assert (health.ok, health.problem and health.problem.name) == (False, "model")
    assert caplog.messages == [
        "ollama start-up check failed: the model qwen2.5:7b-instruct is not on the server; "
        "run `ollama pull qwen2.5:7b-instruct`"
    ]

    decision = backend.decide(DecideRequest(text="regional sales", today=TODAY))
    assert decision.backend == "ollama→embedded"
    assert decision.notes[-1] == (
        "(The Ollama qwen2.5:7b-instruct model was unavailable — the model qwen2.5:7b-instruct is not on the "
        "server; run `ollama pull qwen2.5:7b-instruct`; I used the embedded router instead.)"
    )
    assert [r.path for r in ollama_api.requests] == ["/api/tags", "/api/show"]  # no chat attempted

    ollama_api.models["qwen2.5:7b-instruct"] = ("completion", "tools")  # `ollama pull` ran
    monkeypatch.setattr(ollama_module, "RECHECK_S", 0.0)
    ollama_api.enqueue(tool_call("run_report", report="sales_by_region", period="last_month"))
    decision = backend.decide(DecideRequest(text="regional sales", today=TODAY))
    assert (decision.backend, decision.tool) == ("ollama", "run_report")
    assert [r.path for r in ollama_api.requests][2:] == ["/api/tags", "/api/show", "/api/chat"]


def test_num_ctx_grows_with_the_prompt_but_never_past_what_the_model_holds(
    settings: Settings, ollama_api: OllamaApi
) -> None:
    ollama_api.context_lengths["qwen2.5:7b-instruct"] = 10_240
    backend = ollama_backend(settings, ollama_api.url, scripted_router(turns=3))
    assert backend.check().ok and backend.num_ctx == 8_192
    ollama_api.enqueue(text("ok"), text("ok"), text("ok"))
    for words in (10, 4_000, 10):  # a short turn, one with a long pasted text, a short one again
        backend.decide(DecideRequest(text="word " * words, today=TODAY))
    assert [body["options"]["num_ctx"] for body in ollama_api.chat_requests] == [8_192, 10_240, 10_240]


def test_building_the_backend_runs_the_check(
    settings: Settings, ollama_api: OllamaApi, caplog: pytest.LogCaptureFixture
) -> None:
    from agent.backends.factory import build_backend
    from agent.backends.ollama import OllamaBackend
    from tools.registry import build_registry

    agent = settings.agent.model_copy(
        update={"backend": "ollama", "ollama_host": ollama_api.url, "ollama_model": "gemma:2b"}
    )
    with caplog.at_level(logging.ERROR, logger="agent.backends.ollama"):
        backend = build_backend(settings.model_copy(update={"agent": agent}), registry=build_registry())
    assert isinstance(backend, OllamaBackend)
    assert backend.health is not None and backend.health.problem is not None
    assert backend.health.problem.name == "tools"
    assert caplog.messages == [
        "ollama start-up check failed: gemma:2b's template does not support tools (capabilities: completion); "
        "pick a tool-calling model: run `ollama pull qwen2.5:7b-instruct` and set agent.ollama_model"
    ]
