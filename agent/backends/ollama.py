"""The production backend: a local LLM behind Ollama, with native tool calling and the embedded router beside it.

How confidence is formed (documented in the README): the LLM gives no usable probability, so we combine signals.
``base`` is 0.75 when the first answer validates and 0.6 after a repair round. The embedded router's probability
for the same tool, ``p``, is combined with it as a noisy-OR when the two agree (``1 - (1 - base)(1 - p)``) and
discounts it when they disagree (``base × (1 - p_other)``); arguments that disagree with the router's extraction
cost a further factor 0.85. These weights are a prior, not a fit: run ``switchboard eval --backend ollama`` against
your server and use ``--tune`` to set thresholds on what you measure. That is ``agent.ollama_mode: tools``, the
default. In ``structured`` mode the model answers with JSON under a ``format`` schema and its confidence is the
probability of the chosen tool's tokens against the other tools' (``ollama_logprobs`` says exactly how).

A reply with several tool calls is refused, never cut to its first call: the decision names no tool and carries a
``refusal`` (``prompts/replies.yaml`` ``several_calls``) that the reply shows, asking for one action per message.
Running them in order would need one gate and approval per call inside one turn, which the graph does not model.

If Ollama is unreachable, misses the decision's deadline (``agent.ollama_deadline_s``, across the whole reply and
the repair round, streaming or not), or returns junk (malformed JSON, an unknown tool), the embedded decision is
used instead and the decision says so in ``notes`` and ``backend``. The request's layout (a fixed prefix for the
prompt cache, ``num_ctx``, flattened tool schemas) is in ``ollama_request``; the start-up check in ``ollama_check``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import ollama
from pydantic import ValidationError

from agent.backends.base import Backend, DecideRequest, Decision
from agent.backends.deadline import before_deadline
from agent.backends.ollama_check import Health, check_ollama
from agent.backends.ollama_logprobs import Token, structured_decision, tokens_of
from agent.backends.ollama_request import ChatRequest, RequestBuilder, context_size
from agent.config import AgentSettings
from agent.prompts import Prompts
from tools.registry import Registry, describe_validation_error

logger = logging.getLogger(__name__)
ExampleRetriever = Callable[[str, int], Sequence[dict[str, Any]]]
RECHECK_S = (
    30.0  # while the start-up check fails, turns fall back at once and the server is asked again this often
)


class OllamaUnavailable(Exception):
    """Ollama could not give a usable answer; the message says why (safe to show)."""


@dataclass
class Answer:
    """One /api/chat reply, streamed chunks joined: its text, its tool calls and its tokens' log-probabilities."""

    content: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)


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
        self.mode = settings.agent.ollama_mode
        self.builder = RequestBuilder(
            registry=registry, prompts=prompts, structured=self.mode == "structured"
        )
        self.num_ctx = settings.agent.ollama_num_ctx or self.builder.base_context()
        self.health: Health | None = None
        self._checked_at = float("-inf")

    def check(self) -> Health:
        """Run the start-up check (server, model, tools, context) and remember it; failures are logged once each."""
        agent = self.settings.agent
        health = check_ollama(
            client=self.client,
            host=agent.ollama_host,
            model=self.model,
            num_ctx=self.num_ctx,
            num_ctx_fixed=agent.ollama_num_ctx is not None,
        )
        if health.problem is not None and (self.health is None or self.health.problem != health.problem):
            logger.error("ollama start-up check failed: %s", health.problem.message())
        self.health, self._checked_at = health, time.monotonic()
        return health

    def _known_problem(self, deadline: float) -> str | None:
        if self.health is None or self.health.ok:
            return None
        if (
            time.monotonic() - self._checked_at >= RECHECK_S
            and before_deadline(deadline, lambda _: self.check(), self._late).ok
        ):
            return None
        problem = self.health.problem
        return problem.message() if problem is not None else None

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
        deadline = time.monotonic() + self.settings.agent.ollama_deadline_s
        local = self.fallback.decide(request)
        try:
            problem = self._known_problem(deadline)
            if problem is not None:
                raise OllamaUnavailable(problem)
            decision = self._ask(request, local, deadline)
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
    def _request(self, request: DecideRequest) -> ChatRequest:
        shots = list(self.examples(request.text, 6)) if self.examples else []
        chat = self.builder.build(
            text=request.text,
            today=request.today,
            context=request.context,
            examples=shots,
            allowed=request.allowed_tools,
        )
        if self.settings.agent.ollama_num_ctx is None:
            # Grow only: another num_ctx makes Ollama reload the model. Never past what the model holds.
            needed = context_size(chat.tokens())
            limit = self.health.context_length if self.health is not None else None
            self.num_ctx = max(self.num_ctx, min(needed, limit) if limit else needed)
        return chat

    def _chat(self, chat: ChatRequest, deadline: float) -> Answer:
        """One /api/chat exchange, abandoned (and its stream closed) when ``deadline`` passes."""
        return before_deadline(deadline, lambda cancelled: self._stream(chat, cancelled), self._late)

    def _late(self) -> OllamaUnavailable:
        return OllamaUnavailable(f"it did not answer within {self.settings.agent.ollama_deadline_s:g} s")

    def _stream(self, chat: ChatRequest, cancelled: threading.Event) -> Answer:
        answer = Answer()
        stream: Iterator[ollama.ChatResponse] | None = None
        structured = chat.format is not None
        try:
            stream = self.client.chat(
                model=self.model,
                messages=chat.messages,
                tools=chat.tools or None,
                stream=True,
                format=chat.format,
                logprobs=True if structured else None,
                top_logprobs=self.settings.agent.ollama_top_logprobs if structured else None,
                options={"temperature": 0, "num_ctx": self.num_ctx},
                keep_alive=self.settings.agent.ollama_keep_alive,
            )
            for chunk in stream:
                if cancelled.is_set():  # the decision has moved on; stop reading and free the connection
                    break
                message = chunk.message
                answer.content += message.content or ""
                answer.tokens += tokens_of(chunk.logprobs or ())
                for call in message.tool_calls or []:
                    answer.calls.append(
                        {"name": call.function.name, "arguments": dict(call.function.arguments or {})}
                    )
        except ollama.ResponseError as exc:
            raise OllamaUnavailable(f"it answered with an error ({exc.status_code}: {exc.error})") from None
        except (httpx.TimeoutException, TimeoutError):
            raise OllamaUnavailable(
                f"it did not answer within {self.settings.agent.ollama_timeout_s:g} s"
            ) from None
        except (ConnectionError, httpx.ConnectError):
            raise OllamaUnavailable(f"no server answered at {self.settings.agent.ollama_host}") from None
        except httpx.TransportError:
            raise OllamaUnavailable("the connection broke before the reply ended") from None
        except (ValueError, TypeError, AttributeError):
            raise OllamaUnavailable("it returned a malformed response") from None
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
        return answer

    def _ask(self, request: DecideRequest, local: Decision, deadline: float) -> Decision:
        chat = self._request(request)
        answer = self._chat(chat, deadline)
        if chat.format is not None:
            return self._structured(request, chat, answer)
        content, calls = answer.content, answer.calls
        if len(calls) > 1:
            return self._several(calls)
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
            args, problem = self._repair(chat, call, describe_validation_error(exc), deadline)
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
        self, chat: ChatRequest, call: dict[str, Any], problem: str, deadline: float
    ) -> tuple[dict[str, Any], str | None]:
        """One repair round, within the same deadline: show the model its validation error, ask for valid arguments."""
        retry = [
            *chat.messages,
            {"role": "assistant", "content": "", "tool_calls": [{"function": call}]},
            {
                "role": "tool",
                "content": f"Invalid arguments: {problem}. Call {call['name']} again with valid arguments.",
            },
        ]
        calls = self._chat(ChatRequest(messages=retry, tools=chat.tools), deadline).calls
        if not calls or calls[0]["name"] != call["name"]:
            return call["arguments"], problem
        try:
            fixed = self.registry[call["name"]].args_model.model_validate(calls[0]["arguments"])
        except ValidationError as exc:
            return calls[0]["arguments"], describe_validation_error(exc)
        return fixed.model_dump(mode="json", exclude_none=True), None

    def _several(self, calls: list[dict[str, Any]]) -> Decision:
        """Several calls in one reply: refused with a message that names them, none of them dropped unsaid."""
        names = ", ".join(call["name"] for call in calls)
        refusal = self.prompts.render("several_calls", count=len(calls), calls=names)
        return Decision(
            tool=None, confidence=1.0, backend="ollama", model=self.model, refusal=refusal, notes=[refusal]
        )

    def _structured(self, request: DecideRequest, chat: ChatRequest, answer: Answer) -> Decision:
        """A JSON decision under the ``format`` schema; its confidence is the tool tokens' probability."""
        try:
            return structured_decision(
                content=answer.content,
                tokens=answer.tokens,
                candidates=list((chat.format or {})["properties"]["tool"]["enum"]),
                registry=self.registry,
                allowed=request.allowed_tools,
                model=self.model,
            )
        except ValueError as exc:
            raise OllamaUnavailable(str(exc)) from None


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
