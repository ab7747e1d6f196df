"""A finished trace as an indented tree, for a failing test's message and the README's example."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from core.tracing import PREFIX

SHOWN = (
    "thread_id",
    "run_id",
    "approval_id",
    "tool",
    "action",
    "flow",
    "step",
    "dataset",
    "destination",
    "target_kind",
    "outcome",
)


def render_tree(spans: Sequence[ReadableSpan], *, keys: tuple[str, ...] = SHOWN) -> str:
    """One line per span, indented under its parent: name, duration, ERROR, and the key attributes.

    A span whose parent is not among ``spans`` is a root; roots and siblings are in start order.
    """
    known = {item.context.span_id for item in spans if item.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for item in spans:
        parent = item.parent.span_id if item.parent is not None and item.parent.span_id in known else None
        children.setdefault(parent, []).append(item)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for item in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            lines.append("  " * depth + _line(item, keys))
            if item.context is not None:
                walk(item.context.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def _line(item: ReadableSpan, keys: tuple[str, ...]) -> str:
    took_ms = ((item.end_time or 0) - (item.start_time or 0)) / 1e6
    attributes = item.attributes or {}
    shown = " ".join(f"{key}={attributes[PREFIX + key]!s}" for key in keys if PREFIX + key in attributes)
    failed = "  ERROR" if item.status.status_code is StatusCode.ERROR else ""
    return f"{item.name}  {took_ms:.1f} ms{failed}  {shown}".rstrip()
