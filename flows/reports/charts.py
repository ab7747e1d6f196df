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
import math
import os
import struct
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

ChartKind = Literal["bar", "line"]
_MAX_BARS = 30
# The PNG text keyword the series is stored under (1-79 Latin-1 characters, PNG spec 11.3.4.3).
DATA_KEYWORD = "switchboard-chart"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_X_ROTATION, _X_FONT, _Y_FONT, _TITLE_FONT = 35, 8, 10, 11  # degrees, points
_PAD_PX = 12  # between a text and the figure's edge, and for tick marks and their padding


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
    axes.set_xticks(
        positions[::step], shown_labels[::step], rotation=_X_ROTATION, ha="right", fontsize=_X_FONT
    )
    axes.set_ylabel(ylabel)
    # Plain thousands separators instead of matplotlib's "1e6" offset, which operators misread.
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}")
    )
    axes.set_title(title, fontsize=_TITLE_FONT)
    axes.grid(axis="y", alpha=0.3)
    if not positions:
        axes.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])  # no scale without data
    _fit_margins(figure, axes, shown_labels, ylabel=ylabel, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    data = ChartData(kind=kind, title=title, ylabel=ylabel, labels=shown_labels, values=shown_values)
    # ASCII-only JSON, because a tEXt chunk is Latin-1 and customer names need not be.
    metadata = {DATA_KEYWORD: json.dumps(data.model_dump(), ensure_ascii=True)}
    figure.savefig(temporary, format="png", metadata=metadata)
    os.replace(temporary, path)
    logger.debug("chart written", extra={"path": str(path), "points": len(positions)})
    return path


def _fit_margins(figure: Figure, axes: Axes, labels: list[str], *, ylabel: str, title: str) -> None:
    """Make room for the tick labels, the y label and the title, measuring only the widest of each.

    ``tight_layout`` measures every text of the figure, which was a third of a chart's cost (about 20 ms of a
    chat turn); the margins depend only on the longest x label (rotated), the widest y tick and the two titles.
    """
    from matplotlib.font_manager import FontProperties

    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    width_px, height_px = figure.bbox.width, figure.bbox.height

    def size(text: str, points: float) -> tuple[float, float]:
        if not text:
            return 0.0, 0.0
        w, h, _ = renderer.get_text_width_height_descent(text, FontProperties(size=points), ismath=False)
        return float(w), float(h)

    slant = math.radians(_X_ROTATION)
    longest_w, label_h = max((size(label, _X_FONT) for label in labels), default=(0.0, 0.0))
    below = longest_w * math.sin(slant) + label_h * math.cos(slant)
    tick_w = max((size(text, _Y_FONT)[0] for text in _y_tick_texts(axes)), default=0.0)
    first_w = size(labels[0], _X_FONT)[0] * math.cos(slant) if labels else 0.0
    room = _PAD_PX * 3 + size(ylabel, _Y_FONT)[1] + tick_w
    # A long first label leans left past the first bar, which sits half a slot in from the axes' edge.
    left = max(room, first_w - (width_px - room) / max(1, len(labels)) / 2 + _PAD_PX)
    bottom = below + _PAD_PX * 2
    top = size(title, _TITLE_FONT)[1] + _PAD_PX * 3
    figure.subplots_adjust(
        left=min(0.4, left / width_px),
        right=1 - _PAD_PX / width_px,
        bottom=min(0.55, bottom / height_px),
        top=1 - top / height_px,
    )


def _y_tick_texts(axes: Axes) -> list[str]:
    """The y tick labels as drawn (the locator's ticks through the axis formatter)."""
    formatter = axes.yaxis.get_major_formatter()
    low, high = axes.get_ylim()
    return [formatter(tick, None) for tick in axes.yaxis.get_major_locator()() if low <= tick <= high]


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
