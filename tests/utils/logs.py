"""Capturing log lines as the JSON formatter writes them, for tests that check what a log line carries."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.logs import JsonFormatter


@contextmanager
def captured_json(logger: logging.Logger | None = None) -> Iterator[io.StringIO]:
    """Collect ``logger``'s lines (the root logger's by default) at INFO and above, JSON-formatted."""
    target = logger or logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    level = target.level
    target.addHandler(handler)
    target.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        target.removeHandler(handler)
        target.setLevel(level)


def json_records(stream: io.StringIO) -> list[dict[str, Any]]:
    """The captured lines, parsed."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]
