"""A scripted, strict fake of Ollama's HTTP API on loopback (no Ollama server can run here).

Implements the documented endpoints the backend uses: ``POST /api/chat``
(non-streaming JSON and NDJSON streaming, native ``tool_calls``, ``thinking``,
``done_reason`` and the timing fields), ``GET /api/tags``, ``GET /api/version``
and ``POST /api/show`` (template, ``model_info`` with the context length,
``capabilities``), with Ollama's ``{"error": "..."}`` bodies.

Every request is checked against the documented API (``ollama_contract``):
unknown fields and options, wrong types, tool arguments that would reach the
model with no type, ``format``, ``think``. A violation is answered with a 400
and kept in ``violations``; the ``ollama_api`` fixture fails the test over any
it did not expect. Replies come from a queue filled by ``enqueue``: tool calls,
plain content, thinking, malformed bodies, HTTP errors, delays, slow streams
(``Reply.chunk_delay``) and streams cut off mid-way (``Reply.disconnect_after``).

Log-probabilities (``Reply.logprobs``, built by ``decision``) come back only when
the request asked ``logprobs: true``, as Ollama 0.12.11+ sends them: a top-level
``logprobs`` list of ``{token, logprob, bytes, top_logprobs: [{token, logprob,
bytes}]}``, cut to the request's ``top_logprobs``, one entry per token; a stream
sends one token per chunk with its entry. A scripted reply whose JSON breaks the
request's ``format`` enum is a violation: the real server's grammar could not
have produced it. The token split follows qwen2.5's BPE on JSON (``{"``, ``tool``,
``":``, `` "``, ``list``, ``_runs``, ``",`` …); it is modelled, not recorded, since
no Ollama server runs here.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.utils.servers._asgi import AsgiServer
from tests.utils.servers.ollama_contract import chat_problems, show_problems
from tests.utils.servers.ports import LOOPBACK, Recorder

TOOLS = ("completion", "tools")
DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "qwen2.5:7b-instruct": TOOLS,
    "llama3.1:8b": TOOLS,
    "gemma:2b": ("completion",),
}
# As the real models state them in model_info ("<architecture>.context_length").
DEFAULT_CONTEXT: dict[str, int] = {"qwen2.5:7b-instruct": 32_768, "llama3.1:8b": 131_072, "gemma:2b": 8_192}
ARCHITECTURES = {"qwen2.5:7b-instruct": "qwen2", "llama3.1:8b": "llama", "gemma:2b": "gemma"}
NO_REPLY = "fake ollama: no scripted reply queued"
TOOL_TEMPLATE = (
    "{{- if or .System .Tools }}<|im_start|>system\n{{ .System }}{{- if .Tools }}\n\n# Tools\n\n<tools>\n"
    '{{- range .Tools }}\n{"type": "function", "function": {{ .Function }}}{{- end }}\n</tools>{{- end }}'
    "<|im_end|>\n{{ end }}{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
)
PLAIN_TEMPLATE = "{{ if .System }}{{ .System }}\n{{ end }}{{ .Prompt }}"


@dataclass(frozen=True)
class ToolCall:
    """One native tool call: ``{"function": {"name", "arguments"}}``."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Logprob:
    """One generated token: its text, log-probability and the alternatives at its position, best first."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Reply:
    """A well-formed assistant answer.

    Attributes:
        stream_error: End a stream with ``{"error": ...}`` (as Ollama does when the runner fails mid-reply).
        chunk_delay: Seconds before each streamed chunk: a slow model whose every read is quick.
        disconnect_after: Drop the connection after this many streamed chunks, with no final chunk.
    """

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    thinking: str | None = None
    done_reason: str = "stop"
    stream_error: str | None = None
    chunk_delay: float = 0.0
    disconnect_after: int | None = None
    logprobs: tuple[Logprob, ...] = ()


@dataclass(frozen=True)
class RawBody:
    """Bytes sent verbatim, e.g. malformed JSON with status 200."""

    body: str | bytes
    status: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True)
class HttpError:
    """An Ollama error: HTTP ``status`` with body ``{"error": error}``."""

    status: int
    error: str


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before answering with ``then`` (or the next queued reply)."""

    seconds: float
    then: Reply | RawBody | HttpError | None = None


Scripted = Reply | RawBody | HttpError | Delay


def tool_call(name: str, /, **arguments: Any) -> Reply:
    """A reply carrying one tool call."""
    return Reply(tool_calls=(ToolCall(name, arguments),))


def text(content: str) -> Reply:
    """A reply with plain content and no tool calls."""
    return Reply(content=content)


_TOKEN = re.compile(r' ?\{"|":|",|"\}+|\}+| ?"|[A-Za-z]+|_[A-Za-z]+|\d+|\s|\S')
_SURE = -0.0002  # a token the model is all but certain of
_FILLER = ("\n", -11.25)  # the runner-up a real reply shows at a forced position


def tokenize(content: str) -> list[str]:
    """Split JSON text the way qwen2.5's BPE does, near enough: quotes and braces ride with their neighbours."""
    tokens = _TOKEN.findall(content)
    assert "".join(tokens) == content
    return tokens


def decision(tool: str, args: dict[str, Any] | None = None, /, *, choices: list[dict[str, float]]) -> Reply:
    """A structured-mode reply ``{"tool": ..., "args": ...}`` with its tokens' log-probabilities.

    ``choices[i]`` gives the probabilities at the i-th token of the tool's name (the sampled token and its rivals,
    e.g. ``{"list": 0.45, "run": 0.40}``); at temperature 0 the sampled token must be the likeliest. Every other
    token is all but certain.
    """
    content = json.dumps({"tool": tool, "args": args or {}})
    start = content.index(f'"{tool}"') + 1
    entries, offset, position = [], 0, 0
    for token in tokenize(content):
        end = offset + len(token)
        if offset >= start and offset < start + len(tool) and position < len(choices):
            probabilities = choices[position]
            position += 1
            assert max(probabilities, key=lambda t: probabilities[t]) == token, (token, probabilities)
            ranked = sorted(probabilities.items(), key=lambda item: -item[1])
            top = tuple((alt, round(math.log(p), 6)) for alt, p in ranked)
            entries.append(Logprob(token, round(math.log(probabilities[token]), 6), top))
        else:
            entries.append(Logprob(token, _SURE, ((token, _SURE), _FILLER)))
        offset = end
    assert position == len(choices), f"{tool!r} has fewer tokens than choices"
    return Reply(content=content, logprobs=tuple(entries))


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: method, path, decoded JSON body (None when not JSON) and the raw bytes."""

    method: str
    path: str
    body: Any
    raw: bytes = b""


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class _Disconnect(Exception):
    """Raised inside a streaming body: uvicorn then drops the connection without ending the chunked body."""


def _message(reply: Reply, *, content: str | None = None, with_tools: bool = True) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": reply.content if content is None else content}
    if reply.thinking and with_tools and content is None:
        msg["thinking"] = reply.thinking
    if reply.tool_calls and with_tools:
        msg["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in reply.tool_calls
        ]
    return msg


def _token_entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def _logprobs(request: dict[str, Any], entries: tuple[Logprob, ...]) -> list[dict[str, Any]]:
    """The entries as Ollama sends them for this request (none unless it asked)."""
    if not request.get("logprobs"):
        return []
    top = int(request.get("top_logprobs") or 0)
    out = []
    for entry in entries:
        item = _token_entry(entry.token, entry.logprob)
        if top:
            item["top_logprobs"] = [_token_entry(alt, lp) for alt, lp in entry.top[:top]]
        out.append(item)
    return out


def _format_breaks(request: dict[str, Any], reply: Reply) -> list[str]:
    """Where a scripted reply's JSON leaves the requested ``format`` enum (the real grammar forbids it)."""
    schema = request.get("format")
    if not isinstance(schema, dict) or not reply.content:
        return []
    try:
        data = json.loads(reply.content)
    except ValueError:
        return ["scripted reply is not JSON, but the request set a format schema"]
    problems = []
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and "enum" in prop and data.get(name) not in prop["enum"]:
            problems.append(f"scripted reply's {name!r} = {data.get(name)!r} is outside the format's enum")
    return problems


def _metrics(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    prompt_words = sum(len(str(m.get("content", "")).split()) for m in request.get("messages") or [])
    out_words = len(reply.content.split()) + 8 * len(reply.tool_calls)
    return {
        "total_duration": 5_000_000 + 1_000_000 * out_words,
        "load_duration": 1_000_000,
        "prompt_eval_count": prompt_words,
        "prompt_eval_duration": 2_000_000,
        "eval_count": out_words,
        "eval_duration": 1_000_000 * out_words,
    }


class OllamaApi(AsgiServer):
    """Ollama API fake; point ``ollama.Client(host=api.url)`` at it."""

    name = "ollama-api"

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        port: int | None = None,
        models: dict[str, tuple[str, ...]] | None = None,
        version: str = "0.12.6",
    ) -> None:
        super().__init__(host=host, port=port)
        self.models = dict(DEFAULT_MODELS if models is None else models)
        self.context_lengths = dict(DEFAULT_CONTEXT)
        self.states_capabilities = True  # False: an older server whose /api/show has no "capabilities"
        self.version = version
        self.default: Scripted | None = None
        self.violations: list[str] = []
        self.expect_violations = False  # set by a test that sends a bad request on purpose
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._requests: Recorder[RecordedRequest] = Recorder()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first."""
        return self._requests.snapshot()

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the /api/chat requests that parsed as JSON objects."""
        return [r.body for r in self.requests if r.path == "/api/chat" and isinstance(r.body, dict)]

    def wait_for_requests(self, count: int = 1, *, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until ``count`` requests arrived; raises ``TimeoutError`` otherwise."""
        return self._requests.wait_for(count, timeout=timeout)

    def enqueue(self, *replies: Scripted) -> None:
        """Queue replies for the next /api/chat calls, in order."""
        with self._lock:
            self._queue.extend(replies)

    def pending(self) -> int:
        """How many scripted replies are still queued."""
        with self._lock:
            return len(self._queue)

    def _pop(self) -> Scripted:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default if self.default is not None else HttpError(500, NO_REPLY)

    def build_app(self) -> Starlette:
        """Routes of the documented Ollama API subset."""
        return Starlette(
            routes=[
                Route("/", self._root, methods=["GET", "HEAD"]),
                Route("/api/chat", self._chat, methods=["POST"]),
                Route("/api/tags", self._tags, methods=["GET"]),
                Route("/api/version", self._version, methods=["GET"]),
                Route("/api/show", self._show, methods=["POST"]),
            ]
        )

    async def _record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._requests.append(RecordedRequest(request.method, request.url.path, body, raw))
        return body

    def _refuse(self, problems: list[str]) -> Response | None:
        if not problems:
            return None
        with self._lock:
            self.violations.extend(problems)
        return JSONResponse(
            {"error": f"fake ollama: invalid request: {'; '.join(problems)}"}, status_code=400
        )

    async def _root(self, request: Request) -> Response:
        await self._record(request)
        return PlainTextResponse("Ollama is running")

    async def _version(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse({"version": self.version})

    async def _tags(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse({"models": [self._model_entry(name) for name in self.models]})

    def _model_entry(self, name: str) -> dict[str, Any]:
        family = ARCHITECTURES.get(name) or re.split(r"[\d.:]", name, maxsplit=1)[0] or name
        size = re.search(r":(\d+(?:\.\d+)?b)", name)
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": 4_683_087_332,
            "digest": hashlib.sha256(name.encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family,
                "families": [family],
                "parameter_size": size.group(1).upper() if size else "7B",
                "quantization_level": "Q4_K_M",
            },
        }

    async def _show(self, request: Request) -> Response:
        body = await self._record(request)
        refused = self._refuse(show_problems(body))
        if refused is not None:
            return refused
        name = str(body.get("model") or body.get("name") or "")
        if name not in self.models:
            return JSONResponse({"error": f"model '{name}' not found"}, status_code=404)
        entry = self._model_entry(name)
        capabilities = self.models[name]
        family = entry["details"]["family"]
        template = TOOL_TEMPLATE if "tools" in capabilities else PLAIN_TEMPLATE
        shown: dict[str, Any] = {
            "license": "Apache License 2.0",
            "modelfile": f'# Modelfile generated by "ollama show"\nFROM {name}\nTEMPLATE """{template}"""\n',
            "parameters": 'stop                           "<|im_end|>"',
            "template": template,
            "details": entry["details"],
            "model_info": {
                "general.architecture": family,
                "general.parameter_count": 7_615_616_512,
                f"{family}.context_length": self.context_lengths.get(name, 8_192),
                f"{family}.embedding_length": 3_584,
            },
            "modified_at": entry["modified_at"],
        }
        if self.states_capabilities:
            shown["capabilities"] = list(capabilities)
        return JSONResponse(shown)

    async def _chat(self, request: Request) -> Response:
        body = await self._record(request)
        refused = self._refuse(chat_problems(body))
        if refused is not None:
            return refused
        model = str(body["model"])
        if model not in self.models:
            return JSONResponse(
                {"error": f'model "{model}" not found, try pulling it first'}, status_code=404
            )
        if body.get("tools") and "tools" not in self.models[model]:
            return JSONResponse({"error": f"registry.ollama.ai/library/{model} does not support tools"}, 400)
        if body.get("think") and "thinking" not in self.models[model]:
            return JSONResponse({"error": f'"{model}" does not support thinking'}, 400)
        scripted = self._pop()
        if isinstance(scripted, Delay):
            if await self.sleep_unless_closing(scripted.seconds):
                return Response(status_code=503)
            scripted = scripted.then or self._pop()
        if isinstance(scripted, Delay):  # a Delay queued right after a Delay just waits once
            scripted = scripted.then or HttpError(500, NO_REPLY)
        if isinstance(scripted, HttpError):
            return JSONResponse({"error": scripted.error}, status_code=scripted.status)
        if isinstance(scripted, RawBody):
            raw = scripted.body.encode() if isinstance(scripted.body, str) else scripted.body
            return Response(raw, status_code=scripted.status, media_type=scripted.content_type)
        broken = _format_breaks(body, scripted)
        if broken:
            with self._lock:
                self.violations.extend(broken)
            return JSONResponse({"error": f"fake ollama: {'; '.join(broken)}"}, status_code=500)
        head = {"model": model, "created_at": _now()}
        final = {**head, "done": True, "done_reason": scripted.done_reason, **_metrics(body, scripted)}
        logprobs = _logprobs(body, scripted.logprobs)
        if not body.get("stream", True):
            extra = {"logprobs": logprobs} if logprobs else {}
            return JSONResponse({**head, "message": _message(scripted), **extra, **final})
        return StreamingResponse(
            self._stream(head, final, scripted, logprobs), media_type="application/x-ndjson"
        )

    async def _stream(
        self, head: dict[str, Any], final: dict[str, Any], reply: Reply, logprobs: list[dict[str, Any]]
    ) -> AsyncIterator[bytes]:
        """Yield NDJSON chunks: thinking, content pieces (a token each with logprobs), tool calls, the final chunk."""
        chunks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for piece in re.findall(r"\S+\s*|\s+", reply.thinking or ""):
            chunks.append(({"role": "assistant", "content": "", "thinking": piece}, []))
        if logprobs:
            for entry in logprobs:
                chunks.append((_message(reply, content=entry["token"], with_tools=False), [entry]))
        else:
            for piece in re.findall(r"\S+\s*|\s+", reply.content):
                chunks.append((_message(reply, content=piece, with_tools=False), []))
        if reply.tool_calls:
            chunks.append((_message(reply, content=""), []))
        for sent, (message, entries) in enumerate(chunks):
            if reply.disconnect_after is not None and sent >= reply.disconnect_after:
                raise _Disconnect
            if reply.chunk_delay and await self.sleep_unless_closing(reply.chunk_delay):
                return
            chunk = {**head, "message": message, **({"logprobs": entries} if entries else {}), "done": False}
            yield json.dumps(chunk).encode() + b"\n"
        if reply.disconnect_after is not None:
            raise _Disconnect
        if reply.stream_error is not None:
            yield json.dumps({"error": reply.stream_error}).encode() + b"\n"
            return
        yield json.dumps({**final, "message": {"role": "assistant", "content": ""}}).encode() + b"\n"
