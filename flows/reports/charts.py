"""PNG charts for reports, drawn with matplotlib's Agg canvas, with the plotted series kept inside the file.

The figure is built on an explicit ``FigureCanvasAgg`` rather than through pyplot, so no global backend is
switched, no GUI is needed and concurrent renders in different threads do not share pyplot's figure state.
matplotlib is imported on first use because it takes a noticeable time to load.

A fixed-size PNG shrunk onto a phone has unreadable labels, so the PNG also carries the series it shows (a
``tEXt`` chunk, ignored by every viewer): the console reads it back with ``read_chart_data`` and draws the chart
at the screen's own size, while Telegram keeps sending the PNG itself. One file holds both, so they never disagree.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

logger = logging.getLogger(__name__)

ChartKind = Literal["bar", "line"]
_MAX_BARS = 30
# The PNG text keyword the series is stored under (1-79 Latin-1 characters, PNG spec 11.3.4.3).
DATA_KEYWORD = "switchboard-chart"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ChartData(BaseModel):
    """What a chart plots: enough to draw it again at any size."""

    kind: ChartKind
    title: str
    ylabel: str
    labels: list[str]
    values: list[float]


def render_chart(
    *,
    kind: ChartKind,
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    ylabel: str,
    path: Path,
) -> Path:
    """Draw a bar or line chart and write it as PNG, atomically (temporary name, then rename).

    Args:
        kind: ``bar`` for breakdowns, ``line`` for trends.
        labels: Category or time labels along the x axis.
        values: One value per label.
        title: Chart title (report, period and region).
        ylabel: Name of the plotted value.
        path: Where the PNG goes; its folder is created.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(9, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # More bars than this are unreadable; the table still carries every row.
    keep = _MAX_BARS if kind == "bar" else len(labels)
    shown_labels, shown_values = list(labels)[:keep], list(values)[:keep]
    positions = list(range(len(shown_labels)))
    if kind == "bar":
        axes.bar(positions, shown_values, color="#3b6ea5")
    else:
        axes.plot(positions, shown_values, marker="o" if len(positions) <= 40 else None, color="#3b6ea5")
        axes.set_ylim(bottom=0)
    step = max(1, len(positions) // 15)
    axes.set_xticks(positions[::step], shown_labels[::step], rotation=35, ha="right", fontsize=8)
    axes.set_ylabel(ylabel)
    # Plain thousands separators instead of matplotlib's "1e6" offset, which operators misread.
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}")
    )
    axes.set_title(title, fontsize=11)
    axes.grid(axis="y", alpha=0.3)
    if not positions:
        axes.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    data = ChartData(kind=kind, title=title, ylabel=ylabel, labels=shown_labels, values=shown_values)
    # ASCII-only JSON, because a tEXt chunk is Latin-1 and customer names need not be.
    metadata = {DATA_KEYWORD: json.dumps(data.model_dump(), ensure_ascii=True)}
    figure.savefig(temporary, format="png", metadata=metadata)
    os.replace(temporary, path)
    logger.debug("chart written", extra={"path": str(path), "points": len(positions)})
    return path


def read_chart_data(path: Path) -> ChartData | None:
    """The series stored in a PNG written by ``render_chart``, or None (another PNG, or one written before)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    if not blob.startswith(_PNG_SIGNATURE):
        return None
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(blob):
        (length,) = struct.unpack(">I", blob[offset : offset + 4])
        chunk_type = blob[offset + 4 : offset + 8]
        body = blob[offset + 8 : offset + 8 + length]
        if chunk_type == b"tEXt":
            keyword, _, text = body.partition(b"\0")
            if keyword == DATA_KEYWORD.encode("latin-1"):
                try:
                    return ChartData.model_validate_json(text)
                except ValidationError:
                    return None
        if chunk_type in (b"IDAT", b"IEND"):
            # matplotlib writes its text chunks before the image data; nothing after it is ours.
            return None
        offset += 12 + length  # length, type, body, CRC
    return None
