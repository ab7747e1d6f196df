"""Tracing in tests: an SDK provider with an in-memory exporter, installed in ``core.tracing`` for one test.

Switchboard's spans come from ``core.tracing``'s own tracer, never OTel's global provider (settable once per
process), so each test installs a fresh provider and removes it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core import tracing

__all__ = ["ancestry", "by_name", "spans"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span the test makes, finished, in the exporter's ``get_finished_spans()``."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


def by_name(found: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    """The spans called ``name``, in start order."""
    return sorted((s for s in found if s.name == name), key=lambda s: s.start_time or 0)


def ancestry(found: Sequence[ReadableSpan], item: ReadableSpan) -> list[str]:
    """``item``'s name and its ancestors' names up to its root, following parent span ids."""
    index = {s.context.span_id: s for s in found if s.context is not None}
    names = [item.name]
    while item.parent is not None and item.parent.span_id in index:
        item = index[item.parent.span_id]
        names.append(item.name)
    return names
