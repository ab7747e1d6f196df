"""Factories for Ollama backend tests: a backend pointed at a host, beside a scripted embedded router."""

from __future__ import annotations

from typing import Any, Literal

from agent.backends.ollama import OllamaBackend
from agent.prompts import load_prompts
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tools.registry import build_registry

SHOTS = [
    {
        "text": "show me last month's sales by region",
        "tool": "run_report",
        "args": {"report": "sales_by_region", "period": "last_month"},
    }
]


def ollama_backend(
    settings: Settings,
    host: str,
    local: ScriptedBackend,
    *,
    timeout: float = 5.0,
    deadline: float = 30.0,
    shots: list[dict[str, Any]] | None = None,
    mode: Literal["tools", "structured"] = "tools",
) -> OllamaBackend:
    """An Ollama backend for ``host`` whose example store always returns ``shots``."""
    agent = settings.agent.model_copy(
        update={
            "backend": "ollama",
            "ollama_host": host,
            "ollama_timeout_s": timeout,
            "ollama_deadline_s": deadline,
            "ollama_mode": mode,
        }
    )
    examples = SHOTS if shots is None else shots
    return OllamaBackend(
        settings=settings.model_copy(update={"agent": agent}),
        registry=build_registry(),
        prompts=load_prompts(),
        fallback=local,
        examples=lambda text, k: examples[:k],
    )


def scripted_router(tool: str | None = "run_report", *, turns: int = 1, **args: Any) -> ScriptedBackend:
    """The embedded router's stand-in: the same decision (confidence 0.9) for each of ``turns`` turns."""
    local = ScriptedBackend()
    for _ in range(turns):
        local.enqueue(tool, args or {"report": "sales_by_region", "period": "last_month"}, confidence=0.9)
    return local
