"""Traces (OpenTelemetry): the one module that touches the OTel API; everything else calls ``span``.

A chat turn is one trace: the console's HTTP request or the bot's Telegram update, the agent turn, the graph's
nodes, each tool call, a flow's steps and the delivery they end in, with the thread, run and approval ids as
``switchboard.*`` attributes (``SpanAttributes`` is the whole vocabulary, so a typo is a type error).

Off unless ``telemetry.otlp_endpoint`` (or ``OTEL_EXPORTER_OTLP_ENDPOINT``) is set: then ``configure`` installs an
SDK ``TracerProvider`` whose ``BatchSpanProcessor`` sends spans over OTLP/HTTP. Off, no provider is installed and
``span`` returns one shared do-nothing object before it looks at its arguments (benchmarks/tracing.py measures it).

Spans follow the call through ``contextvars``: into ``asyncio.to_thread``, FastAPI's thread pool, LangGraph's
nodes, and DBOS workflows and steps run in the caller's thread. Where work crosses a queue (a background flow
started by a turn, taken by whichever process serves the queue), the caller puts ``carrier()`` into the work's
input and the worker continues the trace with ``attached(...)``. DBOS's own OTel spans stay off
(``enable_otlp=False`` in core/durable.py): ours already name the workflow's work, and DBOS's would add a logger
provider and a second way to configure export.

Attributes are ids, names, kinds and outcomes, never argument values; an exception is recorded by its type and,
for a ``SwitchboardError`` (whose message is safe to show a user), its message, with the span's status ERROR.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Literal, ParamSpec, TypedDict, TypeVar, Unpack

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from core.config import TelemetrySettings
from core.errors import SwitchboardError

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
PREFIX = "switchboard."
Kind = Literal["internal", "server", "client", "consumer", "producer"]
Value = str | int | float | bool
_KINDS = {
    "internal": SpanKind.INTERNAL,
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "consumer": SpanKind.CONSUMER,
    "producer": SpanKind.PRODUCER,
}
_PROPAGATOR = TraceContextTextMapPropagator()


class SpanAttributes(TypedDict, total=False):
    """The ``switchboard.*`` attributes a span may carry (ids and names only: never argument values); None is left out."""

    thread_id: str | None
    run_id: int | None
    approval_id: str | None
    tool: str | None
    action: str | None
    node: str | None
    source: str | None
    flow: str | None
    step: int | None
    stage: str | None
    dataset: str | None
    destination: str | None
    target_kind: str | None
    channel: str | None
    outcome: str | None
    attempts: int | None
    update_id: int | None
    workflow_id: str | None


class Handle:
    """What a ``span`` block gets: it may add attributes or rename the span (off, both do nothing)."""

    __slots__ = ()

    def set(self, **attributes: Unpack[SpanAttributes]) -> None:
        """Add ``switchboard.*`` attributes."""

    def set_raw(self, attributes: Mapping[str, Value]) -> None:
        """Add attributes under their own names (semantic conventions: ``http.route``, ...)."""

    def rename(self, name: str) -> None:
        """Rename the span (an HTTP server span learns its route template only once routed)."""

    def fail(self, description: str) -> None:
        """Mark the span failed without an exception (an HTTP 5xx answered by an error handler)."""


class _Off(Handle, AbstractContextManager[Handle]):
    """The shared do-nothing span: tracing is off."""

    __slots__ = ()

    def __enter__(self) -> Handle:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


_OFF = _Off()


class _Live(Handle):
    __slots__ = ("_span",)

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def set(self, **attributes: Unpack[SpanAttributes]) -> None:
        self._span.set_attributes({PREFIX + k: v for k, v in attributes.items() if v is not None})  # type: ignore[misc]

    def set_raw(self, attributes: Mapping[str, Value]) -> None:
        self._span.set_attributes(attributes)

    def rename(self, name: str) -> None:
        self._span.update_name(name)

    def fail(self, description: str) -> None:
        self._span.set_status(Status(StatusCode.ERROR, description))


_lock = threading.Lock()
_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def enabled() -> bool:
    """True while a provider is installed (spans are recorded)."""
    return _tracer is not None


def provider() -> TracerProvider | None:
    """The installed SDK provider, if any."""
    return _provider


def install(tracer_provider: TracerProvider) -> None:
    """Record spans on ``tracer_provider`` from now on (``configure`` calls it; tests install their own).

    Switchboard's spans come from this module's tracer, not from OTel's global provider (which can be set only
    once per process), so a test can install a fresh provider and ``uninstall`` it afterwards.
    """
    global _tracer, _provider
    with _lock:
        _provider = tracer_provider
        _tracer = tracer_provider.get_tracer("switchboard")


def uninstall() -> TracerProvider | None:
    """Stop recording; returns the provider that was installed (not shut down)."""
    global _tracer, _provider
    with _lock:
        was, _tracer, _provider = _provider, None, None
    return was


def configure(settings: TelemetrySettings) -> bool:
    """Install the OTLP exporting provider when an endpoint is configured; returns whether tracing is on.

    Without an endpoint nothing is installed (and a provider installed before is left as it is). The provider is
    also made OTel's global one when none was set, so libraries instrumented with OTel join the same traces.
    """
    url = settings.traces_url
    if url is None:
        return enabled()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    tracer_provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    exporter = OTLPSpanExporter(endpoint=url, timeout=settings.export_timeout_s)
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    previous = uninstall()
    if previous is not None:
        previous.shutdown()
    install(tracer_provider)
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(tracer_provider)
    logger.info("traces are exported over OTLP", extra={"endpoint": url})
    return True


@contextmanager
def configured(settings: TelemetrySettings) -> Iterator[bool]:
    """``configure`` for the block; on the way out, flush and remove the provider it installed (if it did)."""
    before = _provider
    on = configure(settings)
    try:
        yield on
    finally:
        if _provider is not before:
            shutdown()


def shutdown() -> None:
    """Send what is buffered and stop (a composition root calls it on its way out)."""
    was = uninstall()
    if was is not None:
        was.shutdown()


def span(
    name: str,
    *,
    kind: Kind = "internal",
    raw: Mapping[str, Value] | None = None,
    **attributes: Unpack[SpanAttributes],
) -> AbstractContextManager[Handle]:
    """A span around the block, child of the current one; an exception leaves it with status ERROR.

    Args:
        name: What the span does ("agent.turn", "tool run_flow", ...).
        kind: Its OTel span kind ("server" for a request, "consumer" for a queued update).
        raw: Attributes under their own names (OTel semantic conventions such as ``http.request.method``).
        attributes: ``switchboard.*`` attributes; None values are left out.
    """
    tracer = _tracer
    if tracer is None:
        return _OFF
    named = {PREFIX + k: v for k, v in attributes.items() if v is not None}
    return _recording(tracer, name, kind, {**(raw or {}), **named})  # type: ignore[dict-item]


@contextmanager
def _recording(tracer: trace.Tracer, name: str, kind: Kind, attributes: dict[str, Value]) -> Iterator[Handle]:
    with tracer.start_as_current_span(
        name, kind=_KINDS[kind], attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield _Live(current)
        except BaseException as exc:
            _record_failure(current, exc)
            raise


def _record_failure(current: trace.Span, exc: BaseException) -> None:
    # Not ``record_exception``: its message and stack trace may quote what a trace should not hold (a URL with
    # credentials from a library's error). A SwitchboardError's message is the one shown to users.
    message = exc.message if isinstance(exc, SwitchboardError) else ""
    kind = type(exc).__qualname__
    current.add_event("exception", {"exception.type": kind, "exception.message": message})
    current.set_status(Status(StatusCode.ERROR, f"{kind}: {message}" if message else kind))


def traced(
    name: str, *, params: tuple[str, ...] = (), **attributes: Unpack[SpanAttributes]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function to run in ``span(name)``, with the arguments named in ``params`` as attributes.

    Each name in ``params`` must be an argument of the function and a ``SpanAttributes`` key (an id or a name).
    Whether tracing is on is looked up at each call, so decorating at import time is fine.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func) if params else None

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if _tracer is None:
                return func(*args, **kwargs)
            found: dict[str, Any] = dict(attributes)
            if signature is not None:
                binding = signature.bind_partial(*args, **kwargs)
                binding.apply_defaults()
                bound = binding.arguments
                found |= {key: bound[key] for key in params if isinstance(bound.get(key), Value)}
            with span(name, **found):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def annotate(**attributes: Unpack[SpanAttributes]) -> None:
    """Add ``switchboard.*`` attributes to the current span (a run id known only once the run is open)."""
    if _tracer is None:
        return
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({PREFIX + k: v for k, v in attributes.items() if v is not None})  # type: ignore[misc]


def carrier() -> dict[str, str]:
    """The current span's W3C ``traceparent`` to put into work that another thread or process will do."""
    if _tracer is None:
        return {}
    found: dict[str, str] = {}
    _PROPAGATOR.inject(found)
    return found


@contextmanager
def attached(carried: Mapping[str, str] | None) -> Iterator[None]:
    """Continue the trace ``carried`` (from ``carrier()`` or an HTTP request's headers) in the block."""
    if _tracer is None or not carried:
        yield
        return
    token = otel_context.attach(_PROPAGATOR.extract(carried))
    try:
        yield
    finally:
        otel_context.detach(token)
