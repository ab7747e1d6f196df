"""core.tracing: off by default at no cost, OTLP export when an endpoint is set, spans that join across threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from opentelemetry.util._once import Once

from core import tracing
from core.config import TelemetrySettings
from core.errors import NotFound
from core.trace_tree import render_tree
from switchboard.settings import load_settings
from tests.utils.servers.http import HttpReceiver
from tests.utils.tracing import ancestry, by_name, spans

__all__ = ["spans"]


@pytest.fixture
def fresh_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTel's global provider as in a new process (restored afterwards: it can be set only once per process)."""
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_PROXY_TRACER_PROVIDER", trace.ProxyTracerProvider())


def test_without_an_endpoint_nothing_is_installed_and_spans_are_one_shared_no_op(fresh_globals: None) -> None:
    assert TelemetrySettings().traces_url is None
    assert tracing.configure(TelemetrySettings()) is False

    assert (tracing.enabled(), tracing.provider()) == (False, None)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert tracing.span("a", thread_id="t1") is tracing.span("b")  # nothing built per call
    assert tracing.carrier() == {}
    with tracing.span("a", run_id=1) as span:
        span.set(outcome="x")


def test_the_standard_otel_variables_fill_the_telemetry_settings(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "sb-test")
    loaded = load_settings()
    assert loaded.telemetry.traces_url == "http://127.0.0.1:4318/v1/traces"
    assert loaded.telemetry.service_name == "sb-test"

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/traces")
    assert load_settings().telemetry.traces_url == "http://127.0.0.1:9/traces"
    # SWITCHBOARD_* wins over OTEL_*, as the environment wins over the YAML file.
    monkeypatch.setenv("SWITCHBOARD_TELEMETRY", '{"otlp_endpoint": "http://127.0.0.1:5000"}')
    assert load_settings().telemetry.otlp_endpoint == "http://127.0.0.1:5000"


def test_spans_are_exported_over_otlp_http_to_the_configured_endpoint(fresh_globals: None) -> None:
    with HttpReceiver() as receiver:
        on = tracing.configure(TelemetrySettings(otlp_endpoint=receiver.url, service_name="sb-test"))
        try:
            assert on and isinstance(trace.get_tracer_provider(), TracerProvider)
            with tracing.span("agent.turn", thread_id="t1"), tracing.span("tool.run", tool="list_runs"):
                pass
        finally:
            tracing.shutdown()  # flushes the batch
        [request] = [r for r in receiver.requests if r.path == "/v1/traces"]

    assert (request.method, request.header("content-type")) == ("POST", "application/x-protobuf")
    sent = ExportTraceServiceRequest.FromString(request.body)
    [resource] = sent.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
    exported = [s for scope in resource.scope_spans for s in scope.spans]
    named = {s.name: s for s in exported}
    assert service == "sb-test"
    assert sorted(named) == ["agent.turn", "tool.run"]
    assert named["tool.run"].parent_span_id == named["agent.turn"].span_id
    assert {a.key: a.value.string_value for a in named["tool.run"].attributes} == {
        "switchboard.tool": "list_runs"
    }
    assert tracing.enabled() is False


def test_an_exception_leaves_the_span_failed_with_only_a_safe_message(spans: InMemorySpanExporter) -> None:
    with pytest.raises(NotFound), tracing.span("domain"):
        raise NotFound("no destination called bank")
    with pytest.raises(RuntimeError), tracing.span("library"):
        raise RuntimeError("cannot reach https://user:hunter2@example.com")

    domain, library = spans.get_finished_spans()
    assert (domain.status.status_code, domain.status.description) == (
        StatusCode.ERROR,
        "NotFound: no destination called bank",
    )
    assert [dict(e.attributes or {}) for e in domain.events] == [
        {"exception.type": "NotFound", "exception.message": "no destination called bank"}
    ]
    assert (library.status.status_code, library.status.description) == (StatusCode.ERROR, "RuntimeError")
    assert "hunter2" not in repr([dict(e.attributes or {}) for e in library.events])


def test_a_carried_trace_continues_in_another_thread(spans: InMemorySpanExporter) -> None:
    # A plain executor does not copy contextvars (as DBOS's queue threads don't): the carrier takes the trace over.
    with tracing.span("enqueue"), ThreadPoolExecutor(1) as pool:
        carried = tracing.carrier()

        def work() -> None:
            with tracing.attached(carried), tracing.span("worker"):
                pass

        pool.submit(work).result()

    found = spans.get_finished_spans()
    [worker] = by_name(found, "worker")
    assert ancestry(found, worker) == ["worker", "enqueue"]
    assert list(carried) == ["traceparent"]


def test_traced_names_its_attributes_from_the_arguments(spans: InMemorySpanExporter) -> None:
    @tracing.traced("approval.approve", params=("approval_id", "thread_id"), outcome="approved")
    def approve(approval_id: str, *, thread_id: str | None = None, secret: str = "x") -> str:
        tracing.annotate(run_id=7)
        return approval_id

    assert approve("ap-1", secret="hunter2") == "ap-1"
    [made] = spans.get_finished_spans()
    assert dict(made.attributes or {}) == {
        "switchboard.approval_id": "ap-1",
        "switchboard.outcome": "approved",
        "switchboard.run_id": 7,
    }
    assert render_tree([made]).split("  ")[0] == "approval.approve"
