"""The /api/chat request for one decision, laid out so that Ollama's prompt cache applies turn after turn.

Ollama renders a request through the model's template. Every ``system`` message is joined into one system block,
which the tool-calling templates (qwen2.5's, for one) print first, followed by the tools. So the request keeps one
system message with the fixed text of ``prompts/system.md`` and the tools, both byte-identical from turn to turn,
and puts what changes after them: the thread's earlier turns, then a ``user`` note with today's date and the
nearest examples (``prompts/turn.md``), then the operator's message. Ollama re-reads only from the first byte that
differs, so a turn costs the new part, not the ~3k tokens of tools.

``num_ctx`` is sized from the request: its characters over three (JSON schemas and English both average more than
three characters per token in the Llama and Qwen tokenizers, so this errs on the large side), plus room for the
reply and a margin, rounded up to a multiple of 2,048. A change of ``num_ctx`` makes Ollama reload the model, so
the size only ever grows within a process.

In structured mode (``ollama_logprobs``) the tools go into that same fixed system message instead, one JSON line
each after ``prompts/structured.md``, and the request carries no ``tools``: the decision comes back as JSON under a
``format`` schema whose enum lists the tools this request allows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent.backends.base import Turn
from agent.backends.ollama_logprobs import decision_format
from agent.backends.ollama_schema import flatten_tool
from agent.prompts import Prompts
from tools.registry import Registry

CHARS_PER_TOKEN = 3
REPLY_TOKENS = 512  # a tool call or a short answer; the system prompt asks for no more
TURN_TOKENS = 1_024  # the note, the history and the message of a typical turn, before it is measured
MARGIN = 1.2
STEP = 2_048


@dataclass(frozen=True)
class ChatRequest:
    """What goes to /api/chat: messages, tools and the ``format`` (options, model, keep_alive: from the settings)."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    format: dict[str, Any] | None = None

    def tokens(self) -> int:
        """Estimated prompt tokens: characters over ``CHARS_PER_TOKEN``, rounded up."""
        size = len(json.dumps(self.messages, ensure_ascii=False)) + len(
            json.dumps(self.tools, ensure_ascii=False)
        )
        return math.ceil(size / CHARS_PER_TOKEN)


class RequestBuilder:
    """Builds requests over a fixed prefix: system text, then the registry's tools (flattened once)."""

    def __init__(self, *, registry: Registry, prompts: Prompts, structured: bool = False) -> None:
        self.prompts = prompts
        self.structured = structured
        self.all_tools = [flatten_tool(tool) for tool in registry.ollama_tools()]
        system = prompts.system.rstrip() + "\n"
        if structured:
            listed = "\n".join(json.dumps(tool["function"], ensure_ascii=False) for tool in self.all_tools)
            system += "\n" + prompts.structured.replace("{tools}", listed).rstrip() + "\n"
        self.system = {"role": "system", "content": system}

    def tools(self, allowed: list[str] | None) -> list[dict[str, Any]]:
        """The tools a request may use, in registry order (a role's subset is stable for that role)."""
        if allowed is None:
            return self.all_tools
        return [tool for tool in self.all_tools if tool["function"]["name"] in allowed]

    def build(
        self,
        *,
        text: str,
        today: date,
        context: list[Turn],
        examples: list[dict[str, Any]],
        allowed: list[str] | None = None,
    ) -> ChatRequest:
        """The request for one message: fixed prefix, history, turn note, message."""
        lines = [
            f'- "{shot["text"]}" → {shot["tool"]}({json.dumps(shot.get("args", {}), sort_keys=True)})'
            for shot in examples
        ]
        note = self.prompts.turn.replace("{today}", today.isoformat()).replace(
            "{examples}", "\n".join(lines) or "(none)"
        )
        messages = [
            self.system,
            *(turn_message(turn) for turn in context),
            {"role": "user", "content": note.rstrip()},
            {"role": "user", "content": text},
        ]
        tools = self.tools(allowed)
        if self.structured:
            names = [tool["function"]["name"] for tool in tools]
            return ChatRequest(messages=messages, tools=[], format=decision_format(names))
        return ChatRequest(messages=messages, tools=tools)

    def base_context(self) -> int:
        """``num_ctx`` for the fixed prefix plus a typical turn: what the model must hold to be usable at all."""
        tools = [] if self.structured else self.all_tools
        prefix = ChatRequest(messages=[self.system], tools=tools).tokens()
        return context_size(prefix + TURN_TOKENS)


def context_size(prompt_tokens: int) -> int:
    """``num_ctx`` for a prompt of ``prompt_tokens``: room for the reply, a margin, rounded up to ``STEP``."""
    needed = (prompt_tokens + REPLY_TOKENS) * MARGIN
    return max(STEP, math.ceil(needed / STEP) * STEP)


def turn_message(turn: Turn) -> dict[str, Any]:
    """An earlier turn as a chat message (a past call as an assistant tool call)."""
    if turn.role == "user":
        return {"role": "user", "content": turn.text or ""}
    if turn.tool:
        return {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": turn.tool, "arguments": turn.args}}],
        }
    return {"role": "assistant", "content": turn.text or ""}
