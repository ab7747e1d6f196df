"""PNG charts for reports, drawn with matplotlib's Agg canvas.

The figure is built on an explicit ``FigureCanvasAgg`` rather than through pyplot, so no global backend is
switched, no GUI is needed and concurrent renders in different threads do not share pyplot's figure state.
matplotlib is imported on first use because it takes a noticeable time to load.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

ChartKind = Literal["bar", "line"]
_MAX_BARS = 30


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
    figure.savefig(temporary, format="png")
    os.replace(temporary, path)
    logger.debug("chart written", extra={"path": str(path), "points": len(positions)})
    return path
