"""Rendering replies for Telegram: HTML escaping, splitting under 4,096, tables in <pre> or as PNG, charts."""

from __future__ import annotations

import html
import re
from pathlib import Path

from agent.state import DecisionView, Reply
from bot.render import MAX_TEXT, Block, format_table, render_reply, split_html
from tools.base import Table


def _unwrap(chunks: list[str]) -> str:
    return html.unescape(re.sub(r"</?(pre|i|b)>", "", "\n\n".join(chunks)))


def test_long_text_is_split_under_the_limit_without_losing_anything() -> None:
    text = "\n".join(f"line {i} <&> " + "x" * (i % 90) for i in range(400))
    chunks = split_html([Block("text", text)])
    assert len(chunks) > 1
    assert all(0 < len(c) <= MAX_TEXT for c in chunks)
    assert _unwrap(chunks).replace("\n\n", "\n") == text


def test_one_huge_line_and_entities_are_cut_between_characters() -> None:
    text = "&" * 5000  # each escapes to five characters
    chunks = split_html([Block("text", text)])
    assert all(len(c) <= MAX_TEXT for c in chunks)
    assert all(c.count("&amp;") * 5 == len(c) for c in chunks)
    assert sum(c.count("&amp;") for c in chunks) == 5000


def test_pre_blocks_are_closed_in_every_chunk() -> None:
    body = "\n".join(f"{i:>6}  {'row':<30}" for i in range(400))
    chunks = split_html([Block("text", "Here:"), Block("pre", body)])
    assert all(len(c) <= MAX_TEXT for c in chunks)
    assert all(c.count("<pre>") == c.count("</pre>") for c in chunks)


def test_narrow_table_goes_in_monospace_with_what_i_ran(tmp_path: Path) -> None:
    reply = Reply(
        text="Sales by region <last month>:",
        table=Table(title="Sales", columns=["region", "revenue"], rows=[["emea", 1500.5], ["apac", 90.0]]),
        decision=DecisionView(
            tool="run_report",
            args={"report": "sales_by_region", "period": "last_month"},
            confidence=0.91,
            action="execute",
        ),
        notes=["Figures exclude cancelled orders."],
    )
    (message,) = render_reply(reply, media_dir=tmp_path, key="u1")
    assert message.method == "sendMessage"
    assert message.payload["text"] == (
        "Sales by region &lt;last month&gt;:\n\n<b>Sales</b>\n\n"
        "<pre>region  revenue\n------  -------\nemea    1500.50\napac         90</pre>\n\n"
        "<i>Figures exclude cancelled orders.</i>\n\n"
        "<i>What I ran: run_report(report=sales_by_region, period=last_month) · confidence 0.91 · execute · "
        "embedded</i>"
    )
    assert list(tmp_path.iterdir()) == []


def test_wide_table_becomes_a_png_and_a_long_one_also_a_csv(tmp_path: Path) -> None:
    columns = ["id", "name", "status", "attempt", "actor", "created", "duration_ms", "error"]
    rows: list[list[str | int | float | bool | None]] = [
        [i, f"nightly_sales_export_{i}", "failed", 1, "scheduler", "2026-11-22 06:00:00", 12.5, None]
        for i in range(55)
    ]
    reply = Reply(text="55 runs.", table=Table(title="Runs", columns=columns, rows=rows))
    text, photo, document = render_reply(reply, media_dir=tmp_path, key="u2")
    assert (text.method, photo.method, document.method) == ("sendMessage", "sendPhoto", "sendDocument")
    assert text.payload["text"] == "55 runs."
    assert photo.payload["caption"] == "Runs · 40 of 55 rows"
    assert Path(photo.payload["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_text = Path(document.payload["path"]).read_text()
    assert csv_text.splitlines()[0] == ",".join(columns) and len(csv_text.splitlines()) == 56
    assert document.payload["filename"] == "runs.csv"


def test_chart_is_sent_as_a_photo_and_a_missing_one_is_mentioned(tmp_path: Path) -> None:
    chart = tmp_path / "sales_by_region.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\nrest")
    text, photo = render_reply(Reply(text="Here", chart_path=str(chart)), media_dir=tmp_path, key="u3")
    assert photo.payload == {"path": str(chart), "caption": "sales by region"}
    (only,) = render_reply(
        Reply(text="Here", chart_path=str(tmp_path / "gone.png")), media_dir=tmp_path, key="u4"
    )
    assert only.payload["text"] == "Here\n\n<i>(The chart gone.png is missing.)</i>"


def test_format_table_aligns_numbers_right() -> None:
    table = Table(columns=["name", "n"], rows=[["a", 5], ["bbb", 1234], ["c", None]])
    assert format_table(table) == "name     n\n----  ----\na        5\nbbb   1234\nc"
