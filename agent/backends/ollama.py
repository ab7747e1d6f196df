"""The production backend: a local LLM behind Ollama, with native tool calling and the embedded router beside it.

How confidence is formed (documented in the README): the LLM gives no usable probability, so we combine signals.
``base`` is 0.75 when the first answer validates and 0.6 after a repair round. The embedded router's probability
for the same tool, ``p``, is combined with it as a noisy-OR when the two agree (``1 - (1 - base)(1 - p)``) and
discounts it when they disagree (``base × (1 - p_other)``); arguments that disagree with the router's extraction
cost a further factor 0.85. These weights are a prior, not a fit: run ``switchboard eval --backend ollama`` against
your server and use ``--tune`` to set thresholds on what you measure.

If Ollama is unreachable, times out, or returns junk (malformed JSON, an unknown tool), the embedded decision is
used instead and the decision says so in ``notes`` and ``backend``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import ollama
from pydantic import ValidationError

from agent.backends.base import Backend, DecideRequest, Decision, Turn
from agent.config import AgentSettings
from agent.prompts import Prompts
from tools.registry import Registry, describe_validation_error

logger = logging.getLogger(__name__)
ExampleRetriever = Callable[[str, int], Sequence[dict[str, Any]]]
_TRANSPORT_ERRORS = (ConnectionError, httpx.HTTPError, ollama.ResponseError, ValueError, TimeoutError)


class OllamaUnavailable(Exception):
    """Ollama could not give a usable answer; the message says why (safe to show)."""


class OllamaBackend:
    """Maps messages to tool calls with a model served by Ollama."""

    name = "ollama"

    def __init__(
        self,
        *,
        settings: AgentSettings,
        registry: Registry,
        prompts: Prompts,
        fallback: Backend,
        examples: ExampleRetriever | None = None,
        client: ollama.Client | None = None,
        remember: Callable[..., None] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.prompts = prompts
        self.fallback = fallback
        self.examples = examples
        self.remember = remember
        self.model = settings.agent.ollama_model
        self.client = client or ollama.Client(
            host=settings.agent.ollama_host, timeout=settings.agent.ollama_timeout_s
        )

    def accepted(self, *, text: str, tool: str, args: dict[str, Any]) -> None:
        """Keep a request that ran, so later prompts get it as a nearby example."""
        if self.remember is not None:
            try:
                self.remember(text=text, tool=tool, args=args)
            except Exception:  # the example store is a help, never a reason to fail a turn
                logger.exception("could not store an accepted request")

    def decide(self, request: DecideRequest) -> Decision:
        """Ask the model; validate; repair once; fall back to the embedded router on any failure."""
        started = time.perf_counter()
        local = self.fallback.decide(request)
        try:
            decision = self._ask(request, local)
        except OllamaUnavailable as exc:
            note = self.prompts.render("fallback_note", primary=f"Ollama {self.model}", why=str(exc))
            logger.warning("ollama fallback: %s", exc)
            return local.model_copy(
                update={
                    "backend": "ollama→embedded",
                    "notes": [*local.notes, note],
                    "latency_ms": (time.perf_counter() - started) * 1000,
                }
            )
        return decision.model_copy(update={"latency_ms": (time.perf_counter() - started) * 1000})

    # ---- protocol ----------------------------------------------------------------------------------------------
    def _messages(self, request: DecideRequest) -> list[dict[str, Any]]:
        shots = self.examples(request.text, 6) if self.examples else []
        lines = [
            f'- "{s["text"]}" → {s["tool"]}({json.dumps(s.get("args", {}), sort_keys=True)})' for s in shots
        ]
        system = self.prompts.system.replace("{today}", request.today.isoformat()).replace(
            "{examples}", "\n".join(lines) or "(none)"
        )
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for turn in request.context:
            messages.append(_turn_message(turn))
        messages.append({"role": "user", "content": request.text})
        return messages

    def _tools(self, request: DecideRequest) -> list[dict[str, Any]]:
        tools = self.registry.ollama_tools()
        if request.allowed_tools is not None:
            tools = [t for t in tools if t["function"]["name"] in request.allowed_tools]
        return tools

    def _chat(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> tuple[str, list[dict[str, Any]]]:
        content, calls = "", []
        try:
            stream = self.client.chat(
                model=self.model,
                messages=messages,
                tools=tools,
                stream=True,
                options={"temperature": 0},
                keep_alive=self.settings.agent.ollama_keep_alive,
            )
            for chunk in stream:
                message = chunk.message
                content += message.content or ""
                for call in message.tool_calls or []:
                    calls.append(
                        {"name": call.function.name, "arguments": dict(call.function.arguments or {})}
                    )
        except ollama.ResponseError as exc:
            raise OllamaUnavailable(f"it answered with an error ({exc.status_code}: {exc.error})") from None
        except (httpx.TimeoutException, TimeoutError):
            raise OllamaUnavailable(
                f"it did not answer within {self.settings.agent.ollama_timeout_s:g} s"
            ) from None
        except (ConnectionError, httpx.TransportError):
            raise OllamaUnavailable(f"no server answered at {self.settings.agent.ollama_host}") from None
        except (ValueError, TypeError, AttributeError):
            raise OllamaUnavailable("it returned a malformed response") from None
        return content, calls

    def _ask(self, request: DecideRequest, local: Decision) -> Decision:
        messages, tools = self._messages(request), self._tools(request)
        content, calls = self._chat(messages, tools)
        if not calls:
            agree = local.tool is None
            confidence = 1 - 0.25 * (1 - local.confidence) if agree else 0.75 * (1 - local.tool_probability)
            return Decision(
                tool=None,
                confidence=round(confidence, 4),
                backend="ollama",
                model=self.model,
                notes=[content.strip()[:300]] if content.strip() else [],
            )
        call = calls[0]
        name = call["name"]
        if name not in self.registry or (
            request.allowed_tools is not None and name not in request.allowed_tools
        ):
            raise OllamaUnavailable(f"it chose a tool that does not exist ({name!r})")
        spec = self.registry[name]
        base, args = 0.75, call["arguments"]
        try:
            args = spec.args_model.model_validate(args).model_dump(mode="json", exclude_none=True)
        except ValidationError as exc:
            base = 0.6
            args, problem = self._repair(messages, tools, call, describe_validation_error(exc))
            if problem is not None:
                return Decision(
                    tool=name,
                    args=call["arguments"],
                    confidence=base * 0.5,
                    tool_probability=base,
                    backend="ollama",
                    model=self.model,
                    notes=[f"arguments still invalid: {problem}"],
                )
        return Decision(
            tool=name,
            args=args,
            confidence=round(_combine(base, name, args, local), 4),
            tool_probability=base,
            backend="ollama",
            model=self.model,
            alternatives=local.alternatives,
        )

    def _repair(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        call: dict[str, Any],
        problem: str,
    ) -> tuple[dict[str, Any], str | None]:
        """One repair round: show the model its validation error and ask for corrected arguments."""
        retry = [
            *messages,
            {"role": "assistant", "content": "", "tool_calls": [{"function": call}]},
            {
                "role": "tool",
                "content": f"Invalid arguments: {problem}. Call {call['name']} again with valid arguments.",
            },
        ]
        _, calls = self._chat(retry, tools)
        if not calls or calls[0]["name"] != call["name"]:
            return call["arguments"], problem
        try:
            fixed = self.registry[call["name"]].args_model.model_validate(calls[0]["arguments"])
        except ValidationError as exc:
            return calls[0]["arguments"], describe_validation_error(exc)
        return fixed.model_dump(mode="json", exclude_none=True), None


def _combine(base: float, tool: str, args: dict[str, Any], local: Decision) -> float:
    probabilities = {a.tool: a.probability for a in local.alternatives}
    if local.tool is not None:
        probabilities[local.tool] = local.tool_probability
    p_same = probabilities.get(tool, 0.0)
    if local.tool == tool:
        confidence = 1 - (1 - base) * (1 - p_same)
        shared = set(args) & set(local.args)
        if any(str(args[k]).casefold() != str(local.args[k]).casefold() for k in shared):
            confidence *= 0.85
        return confidence
    return base * (1 - local.tool_probability) + base * p_same * 0.5


def _turn_message(turn: Turn) -> dict[str, Any]:
    if turn.role == "user":
        return {"role": "user", "content": turn.text or ""}
    if turn.tool:
        return {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": turn.tool, "arguments": turn.args}}],
        }
    return {"role": "assistant", "content": turn.text or ""}
