"""The start-up check of an Ollama server: reachable, model present, tools in its template, the context fits.

``switchboard doctor`` prints it, and the backend runs it when it is built (and again now and then while it fails),
so that a missing model is said once, with the command that fixes it, instead of failing every turn in silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import ollama

from agent.backends.ollama_request import RequestBuilder
from agent.config import AgentSettings
from agent.prompts import load_prompts
from tools.registry import Registry

CheckName = Literal["server", "model", "tools", "context"]
RECOMMENDED = "qwen2.5:7b-instruct"


@dataclass(frozen=True)
class Check:
    """One start-up check: what was found and, when it failed, what to run."""

    name: CheckName
    ok: bool
    detail: str
    fix: str = ""

    def message(self) -> str:
        """The finding and its fix in one sentence (safe to show)."""
        return f"{self.detail}; {self.fix}" if self.fix else self.detail


@dataclass(frozen=True)
class Health:
    """The checks in order; a failed check stops the ones that depend on it."""

    host: str
    model: str
    checks: tuple[Check, ...]
    context_length: int | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def problem(self) -> Check | None:
        """The first failed check, if any."""
        return next((check for check in self.checks if not check.ok), None)


def check_ollama(
    *, client: ollama.Client, host: str, model: str, num_ctx: int, num_ctx_fixed: bool = False
) -> Health:
    """Run the four checks against the server ``client`` talks to.

    Args:
        client: A client for ``host`` (its timeout bounds each call).
        host: The server's address, for messages.
        model: The configured model.
        num_ctx: The context the prompt needs (or the configured ``agent.ollama_num_ctx``).
        num_ctx_fixed: True when ``num_ctx`` comes from the configuration rather than the prompt.
    """
    checks: list[Check] = []
    try:
        installed = [m.model or "" for m in client.list().models]
    except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
        why = f" ({exc.status_code})" if isinstance(exc, ollama.ResponseError) else ""
        checks.append(
            Check(
                "server",
                False,
                f"no Ollama server answered at {host}{why}",
                "start one with `ollama serve`, or set agent.ollama_host",
            )
        )
        return Health(host, model, tuple(checks))
    checks.append(Check("server", True, f"Ollama answers at {host} ({len(installed)} models)"))

    try:
        shown = client.show(model)
    except ollama.ResponseError as exc:
        if exc.status_code != 404:
            checks.append(
                Check("model", False, f"Ollama could not describe {model} ({exc.status_code}: {exc.error})")
            )
        else:
            checks.append(
                Check("model", False, f"the model {model} is not on the server", f"run `ollama pull {model}`")
            )
        return Health(host, model, tuple(checks))
    except (ConnectionError, httpx.HTTPError) as exc:
        checks.append(Check("model", False, f"Ollama did not describe {model} ({type(exc).__name__})"))
        return Health(host, model, tuple(checks))
    checks.append(Check("model", True, f"{model} is on the server"))

    capabilities = shown.capabilities
    tools = "tools" in capabilities if capabilities is not None else ".Tools" in (shown.template or "")
    if tools:
        checks.append(Check("tools", True, f"{model}'s template supports tools"))
    else:
        found = f" (capabilities: {', '.join(capabilities)})" if capabilities is not None else ""
        checks.append(
            Check(
                "tools",
                False,
                f"{model}'s template does not support tools{found}",
                f"pick a tool-calling model: run `ollama pull {RECOMMENDED}` and set agent.ollama_model",
            )
        )

    length = _context_length(shown.modelinfo or {})
    if length is None:
        checks.append(
            Check("context", True, f"{model} does not state its context length; asking for {num_ctx:,}")
        )
    elif num_ctx <= length:
        checks.append(
            Check(
                "context", True, f"the prompt needs {num_ctx:,} tokens of context; {model} holds {length:,}"
            )
        )
    elif num_ctx_fixed:
        checks.append(
            Check(
                "context",
                False,
                f"agent.ollama_num_ctx is {num_ctx:,} but {model} holds {length:,} tokens",
                f"lower agent.ollama_num_ctx to at most {length:,}",
            )
        )
    else:
        checks.append(
            Check(
                "context",
                False,
                f"the prompt needs about {num_ctx:,} tokens of context but {model} holds {length:,}",
                "pick a model with a longer context (`ollama show MODEL` prints it) and set agent.ollama_model",
            )
        )
    return Health(host, model, tuple(checks), context_length=length)


def _context_length(info: Mapping[str, Any]) -> int | None:
    # The key is "<architecture>.context_length", e.g. "qwen2.context_length" or "llama.context_length".
    for key, value in info.items():
        if key.endswith(".context_length") and isinstance(value, int):
            return value
    return None


def check_configured(settings: AgentSettings, *, registry: Registry, timeout: float = 10.0) -> Health:
    """The check for the configured host and model, with the context the full tool set needs."""
    agent = settings.agent
    num_ctx = agent.ollama_num_ctx or RequestBuilder(registry=registry, prompts=load_prompts()).base_context()
    client = ollama.Client(host=agent.ollama_host, timeout=min(agent.ollama_timeout_s, timeout))
    with closing(client):
        return check_ollama(
            client=client,
            host=agent.ollama_host,
            model=agent.ollama_model,
            num_ctx=num_ctx,
            num_ctx_fixed=agent.ollama_num_ctx is not None,
        )
