"""Turns an agent Reply into Telegram messages: HTML text, tables, charts and "what I ran".

Tables narrow enough for a phone go in a monospace ``<pre>`` block; wider or longer ones become a PNG, and
very long ones also come as a CSV document. Text is split under Telegram's 4,096-character limit without ever
cutting an HTML tag in half.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.state import Reply
from bot.table_image import cell_text, render_table_png
from tools.base import Table

MAX_TEXT = 4096
PRE_MAX_WIDTH = 48
PRE_MAX_ROWS = 30
IMAGE_MAX_ROWS = 40
BlockKind = Literal["text", "html", "pre", "italic", "bold"]


@dataclass(frozen=True)
class Block:
    """A paragraph of raw (unescaped) text and how to show it; ``html`` blocks are already markup."""

    kind: BlockKind
    text: str


@dataclass
class Outgoing:
    """One Bot API call to make: sendMessage, sendPhoto or sendDocument with its outbox payload."""

    method: str
    payload: dict[str, Any] = field(default_factory=dict)


def esc(value: object) -> str:
    """HTML-escape for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def format_table(table: Table) -> str:
    """A table as aligned monospace text: numbers right-aligned, a rule under the header."""
    rows = [[cell_text(v) for v in row] for row in table.rows]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(table.columns)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in table.rows)
        for i in range(len(widths))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)
        )

    out = [line(list(table.columns)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(s.rstrip() for s in out)


def fits_monospace(table: Table) -> bool:
    """True when the table reads well in a ``<pre>`` block on a phone."""
    width = max((len(s) for s in format_table(table).splitlines()), default=0)
    return width <= PRE_MAX_WIDTH and len(table.rows) <= PRE_MAX_ROWS


# Replies after which something ran; the others only propose a call.
RAN_KINDS = frozenset({"answer", "started", "error"})


def what_i_ran(reply: Reply) -> str | None:
    """'What I ran: tool(args) · confidence · action · backend', once a tool ran (None before it has)."""
    d = reply.decision
    if d is None or not d.tool or reply.kind not in RAN_KINDS:
        return None
    return f"What I ran: {_technical(reply)}"


def would_run(reply: Reply) -> str | None:
    """The proposed call as markup, hidden behind a spoiler: the technical details on request, not as the reply."""
    d = reply.decision
    if d is None or not d.tool or reply.kind in RAN_KINDS:
        return None
    return f"<i>Details:</i> <tg-spoiler>{esc(_technical(reply))}</tg-spoiler>"


def _technical(reply: Reply) -> str:
    d = reply.decision
    assert d is not None
    args = ", ".join(f"{k}={v}" for k, v in d.args.items() if v is not None)
    return f"{d.tool}({args}) · confidence {d.confidence:.2f} · {d.action} · {d.backend}"


def _escaped_pieces(raw: str, budget: int) -> list[str]:
    """Escape ``raw`` and cut it into pieces of at most ``budget`` characters, at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in raw.split("\n"):
        segments: list[str] = []
        escaped = ""
        for ch in line:  # a single line longer than the budget is cut between characters, never inside &amp;
            e = esc(ch)
            if len(escaped) + len(e) > budget:
                segments.append(escaped)
                escaped = ""
            escaped += e
        segments.append(escaped)
        for seg in segments:
            joined = f"{current}\n{seg}" if current else seg
            if current and len(joined) > budget:
                pieces.append(current)
                current = seg
            else:
                current = joined
    if current or not pieces:
        pieces.append(current)
    return pieces


def _block_html(block: Block, limit: int) -> list[str]:
    if block.kind == "html":
        return [block.text]
    wrap = {"text": ("", ""), "pre": ("<pre>", "</pre>"), "italic": ("<i>", "</i>"), "bold": ("<b>", "</b>")}
    start, end = wrap[block.kind]
    return [start + piece + end for piece in _escaped_pieces(block.text, limit - len(start) - len(end))]


def split_html(blocks: list[Block], *, limit: int = MAX_TEXT) -> list[str]:
    """Pack blocks into messages of at most ``limit`` characters, separated by blank lines."""
    chunks: list[str] = []
    current = ""
    for block in blocks:
        for part in _block_html(block, limit):
            if not part.strip():
                continue
            joined = f"{current}\n\n{part}" if current else part
            if current and len(joined) > limit:
                chunks.append(current)
                current = part
            else:
                current = joined
    if current:
        chunks.append(current)
    return chunks


def table_csv(table: Table) -> bytes:
    """The whole table as CSV, for tables too long to show."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    writer.writerows([[cell_text(v) for v in row] for row in table.rows])
    return buffer.getvalue().encode()


def _slug(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def render_reply(reply: Reply, *, media_dir: Path, key: str) -> list[Outgoing]:
    """Messages for one reply: text first, then table image, chart and CSV. Writes only media files.

    Args:
        reply: The agent's reply.
        media_dir: Where table images and CSV files are written (kept so a resend after a restart finds them).
        key: A unique key for this reply (used in file names).
    """
    blocks = [Block("text", reply.text)]
    photos: list[Outgoing] = []
    table = reply.table
    if table is not None and table.rows:
        if fits_monospace(table):
            if table.title:
                blocks.append(Block("bold", table.title))
            blocks.append(Block("pre", format_table(table)))
        else:
            image = render_table_png(table, media_dir / f"{_slug(key)}-table.png", max_rows=IMAGE_MAX_ROWS)
            shown = min(len(table.rows), IMAGE_MAX_ROWS)
            caption = f"{table.title or 'Table'} · {shown} of {len(table.rows)} rows"
            photos.append(Outgoing("sendPhoto", {"path": str(image), "caption": esc(caption)}))
            if len(table.rows) > IMAGE_MAX_ROWS:
                path = media_dir / f"{_slug(key)}-table.csv"
                path.write_bytes(table_csv(table))
                name = f"{(table.title or 'table').lower().replace(' ', '_')[:40]}.csv"
                photos.append(
                    Outgoing(
                        "sendDocument",
                        {"path": str(path), "filename": name, "caption": esc(f"All {len(table.rows)} rows")},
                    )
                )
    if reply.chart_path:
        chart = Path(reply.chart_path)
        if chart.is_file():
            photos.append(
                Outgoing("sendPhoto", {"path": str(chart), "caption": esc(chart.stem.replace("_", " "))})
            )
        else:
            blocks.append(Block("italic", f"(The chart {chart.name} is missing.)"))
    blocks += [Block("italic", note) for note in reply.notes]
    ran = what_i_ran(reply)
    if ran:
        blocks.append(Block("italic", ran))
    proposed = would_run(reply)
    if proposed:
        blocks.append(Block("html", proposed))
    texts = [Outgoing("sendMessage", {"text": chunk}) for chunk in split_html(blocks)]
    return texts + photos
