"""Draws a result table as a PNG (matplotlib, no pyplot state) when it is too wide for a phone."""

from __future__ import annotations

from pathlib import Path

from tools.base import Cell, Table

MAX_CELL = 40


def cell_text(value: Cell) -> str:
    """How a cell is shown: blanks for None, two decimals for fractional floats."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.2f}"
    return str(value)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render_table_png(table: Table, path: Path, *, max_rows: int) -> Path:
    """Write the first ``max_rows`` rows of ``table`` to ``path`` as a PNG and return the path."""
    from matplotlib.figure import Figure  # imported lazily: matplotlib takes a while to load

    rows = [[_clip(cell_text(v)) for v in row] for row in table.rows[:max_rows]]
    columns = [_clip(c) for c in table.columns]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    fig = Figure(
        figsize=(min(20.0, max(4.0, 0.085 * sum(w + 2 for w in widths))), 0.6 + 0.28 * (len(rows) + 1))
    )
    ax = fig.add_subplot()
    ax.axis("off")
    if table.title:
        ax.set_title(table.title, fontsize=11, loc="left")
    drawn = ax.table(
        cellText=rows or [[""] * len(columns)], colLabels=columns, loc="upper left", cellLoc="left"
    )
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(9)
    drawn.auto_set_column_width(list(range(len(columns))))
    for (row, _col), cell in drawn.get_celld().items():
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#e8eef7")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight", format="png")
    return path
