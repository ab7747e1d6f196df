r"""Rendering of tool results and runs for the terminal (rich).

Data is never markup: every value that comes from data or a user (a customer's name, an error, a summary) is
printed as a ``rich.text.Text`` (``plain``) or escaped (``safe``) into a markup string, and control characters
are shown as ``\x1b`` rather than sent to the terminal. A customer named ``[/bold] x`` or
``[link=https://example.com]Acme Bank[/link]`` prints exactly that.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from core.text import visible
from switchboard.app import console
from tools.base import Table, ToolResult


def plain(value: object, style: str = "") -> Text:
    """``value`` as literal terminal text: no markup, no emoji codes, control characters shown."""
    return Text(visible(str(value)), style=style)


def safe(value: object) -> str:
    """``value`` escaped for use inside a markup string (``f"[dim]{safe(path)}[/]"``)."""
    return escape(visible(str(value)))


def render_table(table: Table, *, max_rows: int = 50) -> None:
    """Print a result table."""
    title = plain(table.title) if table.title is not None else None
    rich = RichTable(title=title, show_lines=False, header_style="bold")
    for column in table.columns:
        rich.add_column(plain(column), overflow="fold")
    for row in table.rows[:max_rows]:
        rich.add_row(*[_cell(value) for value in row])
    console.print(rich)
    if len(table.rows) > max_rows:
        console.print(f"… {len(table.rows) - max_rows} more rows", highlight=False)


def _cell(value: Any) -> Text:
    if value is None:
        return Text("—")
    if isinstance(value, float):
        return Text(f"{value:,.2f}")
    return plain(value)


def render_result(result: ToolResult) -> None:
    """Print a tool result: summary, table, chart and artifacts."""
    console.print(plain(result.summary), highlight=False)
    if result.table is not None and result.table.rows:
        render_table(result.table)
    if result.chart_path:
        console.print(plain(f"Chart saved to {result.chart_path}"), highlight=False)
    if result.artifact_ids:
        console.print(f"Artifacts: {', '.join(str(i) for i in result.artifact_ids)}", highlight=False)
