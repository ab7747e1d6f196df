"""What one ingested file may hold: the limits on its header, lines and cells (README, "Input limits").

Each limit bounds the work, and the size of any message, that one unit of a file can cause: a header names at
most ``MAX_COLUMNS`` columns in at most ``MAX_HEADER_CHARS`` characters, a line (a JSON record) holds at most
``MAX_LINE_CHARS`` characters and a CSV cell at most ``MAX_CELL_CHARS``. The readers enforce them while reading.
"""

from __future__ import annotations

from typing import Any

from core.errors import BadInput
from flows.ingest.rows import normalize_column

MAX_COLUMNS = 100
MAX_HEADER_CHARS = 16_384
MAX_LINE_CHARS = 1_048_576
MAX_CELL_CHARS = 65_536


def header_columns(raw: list[Any], *, name: str = "the file", where: str = "line 1") -> list[str]:
    """Normalised header names, with trailing empty header cells dropped.

    Args:
        raw: The header cells as read.
        name: The file's display name, for messages.
        where: Where the header is ("line 1", "row 3"), for messages.

    Raises:
        BadInput: the header names more than ``MAX_COLUMNS`` columns or holds more than ``MAX_HEADER_CHARS``
            characters.
    """
    names = [normalize_column(cell) if cell is not None else "" for cell in raw]
    while names and not names[-1]:
        names.pop()
    line = int(where.rsplit(" ", 1)[-1])
    if len(names) > MAX_COLUMNS:
        raise BadInput(
            f"{name}: {where}: the header has {len(names):,} columns, over the limit of {MAX_COLUMNS} "
            "(is this the right file?)",
            file=name,
            line=line,
            limit=MAX_COLUMNS,
        )
    size = sum(len(str(cell)) for cell in raw[: len(names)] if cell is not None)
    if size > MAX_HEADER_CHARS:
        raise BadInput(
            f"{name}: {where}: the header is {size:,} characters long, over the limit of {MAX_HEADER_CHARS:,} "
            "(is this the right file?)",
            file=name,
            line=line,
            limit=MAX_HEADER_CHARS,
        )
    return names


__all__ = ["MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_HEADER_CHARS", "MAX_LINE_CHARS", "header_columns"]
