"""One span per Telegram update handled; the agent turn and its tool call are its children."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.runtime import thread_id_for
from core.trace_tree import render_tree
from tests.bot.conftest import OLIVE, Harness, run, running
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.tracing import ancestry, by_name, spans

__all__ = ["spans"]


def test_an_update_is_the_root_of_its_turns_trace(
    harness: Harness, backend: ScriptedBackend, spans: InMemorySpanExporter
) -> None:
    backend.enqueue("list_runs", {}, confidence=0.97)

    async def scenario() -> None:
        async with running(harness):
            await harness.text(OLIVE, "list the runs")

    run(scenario())

    found = list(spans.get_finished_spans())
    tree = render_tree(found)
    [update] = by_name(found, "telegram.update")
    [tool] = by_name(found, "tool.run")
    assert update.parent is None, tree
    assert (update.attributes or {})["switchboard.thread_id"] == thread_id_for(OLIVE, OLIVE), tree
    assert isinstance((update.attributes or {})["switchboard.update_id"], int)
    assert ancestry(found, tool) == ["tool.run", "node execute", "agent.turn", "telegram.update"], tree
