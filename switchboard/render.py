r"""Rendering of tool results, tables and JSON for the terminal (rich) and for pipes.

Data is never markup: every value that comes from data or a user (a customer's name, an error, a summary) is
printed as a ``rich.text.Text`` (``plain``) or escaped (``safe``) into a markup string, and control characters
are shown as ``\x1b`` rather than sent to the terminal. A customer named ``[/bold] x`` or
``[link=https://example.com]Acme Bank[/link]`` prints exactly that.

A table goes to a terminal as a Rich table, and to a pipe or a file as kubectl prints one: a header line, then
one line per row, columns aligned with spaces, nothing wrapped or coloured, so ``grep`` and ``awk`` see whole rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from core.text import visible
from switchboard.terminal import console, err_console
from tools.base import Table, ToolResult

# At a terminal, a column whose every value is one word or short (a flow name, a status, a date) is not wrapped:
# "nightly_sales_" / "export" defeats both reading and copying. A prose column keeps at least PROSE_MIN_WIDTH.
SHORT_CELL = 20
PROSE_MIN_WIDTH = 24


def plain(value: object, style: str = "") -> Text:
    """``value`` as literal terminal text: no markup, no emoji codes, control characters shown."""
    return Text(visible(str(value)), style=style)


def safe(value: object) -> str:
    """``value`` escaped for use inside a markup string (``f"[dim]{safe(path)}[/]"``)."""
    return escape(visible(str(value)))


def render_table(table: Table, *, max_rows: int = 50, empty: str | None = None) -> None:
    """Print a result table; ``empty`` is said instead of printing a table with no rows."""
    if not table.rows and empty is not None:
        console.print(empty, highlight=False, markup=False)
        return
    rows = [[_cell(value) for value in row] for row in table.rows[:max_rows]]
    if console.is_terminal:
        _rich_table(table, rows)
    else:
        _piped_table(table.columns, rows)
    if len(table.rows) > max_rows:
        # In a pipe the note goes to stderr: stdout stays rows only, for grep, awk and wc -l.
        (console if console.is_terminal else err_console).print(
            f"… {len(table.rows) - max_rows} more rows", highlight=False
        )


def _rich_table(table: Table, rows: list[list[Text]]) -> None:
    title = plain(table.title) if table.title is not None else None
    rich = RichTable(title=title, show_lines=False, header_style="bold")
    needed = 1  # the left border; each column adds its padding and right border
    for index, column in enumerate(table.columns):
        cells = [row[index].plain for row in rows if index < len(row)]
        widest = max((cell_len(cell) for cell in [column, *cells]), default=0)
        if all(cell_len(cell) <= SHORT_CELL or len(cell.split()) <= 1 for cell in cells):
            # A name, a status, a date: kept whole on one line.
            rich.add_column(plain(column), no_wrap=True)
            needed += widest + 3
        else:
            # Prose (an error, a description) wraps at words, and keeps room enough to be read.
            least = max(min(widest, PROSE_MIN_WIDTH), cell_len(column))
            rich.add_column(plain(column), overflow="fold", min_width=least)
            needed += least + 3
    for row in rows:
        rich.add_row(*row)
    if needed > console.width:
        # Too narrow for whole names: one line per row, as in a pipe, which the terminal wraps (as kubectl's
        # rows are) rather than a table that cuts every column down to "nightly_sal…".
        _piped_table(table.columns, rows)
        return
    console.print(rich)


def _piped_table(columns: Sequence[str], rows: list[list[Text]]) -> None:
    # One line per row, whatever a cell holds: a line feed inside a value is written as \n.
    lines = [[visible(str(column)) for column in columns]]
    lines += [[cell.plain.replace("\n", "\\n").replace("\t", "\\t") for cell in row] for row in rows]
    count = max(len(line) for line in lines)
    widths = [max(cell_len(line[i]) for line in lines if i < len(line)) for i in range(count)]
    for line in lines:
        padded = [cell + " " * (widths[i] - cell_len(cell)) for i, cell in enumerate(line)]
        console.print(Text("  ".join(padded).rstrip()), highlight=False, soft_wrap=True)


def _cell(value: Any) -> Text:
    if value is None:
        return Text("—")
    if isinstance(value, float):
        return Text(f"{value:,.2f}")
    return plain(value)


def print_json(data: Any) -> None:
    """Print ``data`` as one JSON document: coloured in a terminal, plain in a pipe (``runs --json | jq``)."""
    text = json.dumps(data, ensure_ascii=False, default=str, indent=2)
    if console.is_terminal:
        console.print_json(text)
    else:
        console.file.write(text + "\n")


def render_result(result: ToolResult) -> None:
    """Print a tool result: summary, table, chart and artifacts."""
    console.print(plain(result.summary), highlight=False)
    if result.table is not None and result.table.rows:
        render_table(result.table)
    if result.chart_path:
        console.print(plain(f"Chart saved to {result.chart_path}"), highlight=False)
    if result.artifact_ids:
        console.print(f"Artifacts: {', '.join(str(i) for i in result.artifact_ids)}", highlight=False)
