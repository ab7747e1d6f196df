"""Rendering of tool results and runs for the terminal (rich)."""

from __future__ import annotations

from typing import Any

from rich.table import Table as RichTable

from switchboard.app import console
from tools.base import Table, ToolResult


def render_table(table: Table, *, max_rows: int = 50) -> None:
    """Print a result table."""
    rich = RichTable(title=table.title, show_lines=False, header_style="bold")
    for column in table.columns:
        rich.add_column(column, overflow="fold")
    for row in table.rows[:max_rows]:
        rich.add_row(*[_cell(value) for value in row])
    console.print(rich)
    if len(table.rows) > max_rows:
        console.print(f"… {len(table.rows) - max_rows} more rows")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_result(result: ToolResult) -> None:
    """Print a tool result: summary, table, chart and artifacts."""
    console.print(result.summary, highlight=False)
    if result.table is not None and result.table.rows:
        render_table(result.table)
    if result.chart_path:
        console.print(f"Chart saved to {result.chart_path}", highlight=False)
    if result.artifact_ids:
        console.print(f"Artifacts: {', '.join(str(i) for i in result.artifact_ids)}", highlight=False)
