"""What tracing costs when it is off: ``core.tracing.span`` with no provider installed vs. a bare function call.

Off is the default (no OTLP endpoint), so every traced call in a chat turn pays this. A turn makes about 20 spans
(request, turn, nodes, tool calls); the row reports the cost per span and per such turn.
"""

from __future__ import annotations

import timeit
from typing import Any

from core import tracing

SPANS_PER_TURN = 20


def _bare(thread_id: str, run_id: int) -> None:
    return None


def bench_tracing_off(*, number: int = 200_000, repeat: int = 5) -> dict[str, Any]:
    """Nanoseconds per ``with span(...)`` block (tracing off) and per bare call with the same arguments."""
    if tracing.enabled():
        raise RuntimeError("tracing is on in this process; the benchmark measures it off")

    def traced() -> None:
        with tracing.span("tool.run", thread_id="t1", run_id=1):
            pass

    def bare() -> None:
        _bare("t1", 1)

    span_ns = min(timeit.repeat(traced, number=number, repeat=repeat)) / number * 1e9
    bare_ns = min(timeit.repeat(bare, number=number, repeat=repeat)) / number * 1e9
    return {
        "span_off_ns": round(span_ns, 1),
        "bare_call_ns": round(bare_ns, 1),
        "ratio": round(span_ns / bare_ns, 2),
        "per_turn_us": round(span_ns * SPANS_PER_TURN / 1000, 2),
    }


if __name__ == "__main__":
    print(bench_tracing_off())
