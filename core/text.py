r"""Bounded text: the one way user- or file-supplied text is quoted in messages, and the control-character rule.

Anything a user or a file supplies can be arbitrarily long (a 10 MB CSV header with no newline is one "column
name"), so every message that quotes it (an error, a run's error, an audit field, a chat reply) quotes it through
``clip``, which keeps the start and says how much was cut: ``'Acme… 9.8 MB more'``. The bounds:

- ``QUOTE_LIMIT``: one quoted value (a column name, a cell, an argument) is at most 1,000 characters;
- ``MESSAGE_LIMIT``: one message (an error's message, a run's error, a text field of an audit record) is at most
  4,000 characters;
- ``REPLY_LIMIT``: one chat reply is at most 8,000 characters;
- ``ITEMS_LIMIT``: a list (or mapping) quoted in an error's details or an audit record holds at most 50 items.

Control characters (C0 except tab, line feed and carriage return; DEL; C1) have no business in names, e-mails,
SKUs or chat arguments, and a NUL or an ESC in stored data is a trap for every later reader (C strings, terminals,
CSV exports). Ingest and tool arguments reject them (``find_control``); ``visible`` shows any that reach a
terminal as ``\x1b`` instead of sending them to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

QUOTE_LIMIT = 1_000
MESSAGE_LIMIT = 4_000
REPLY_LIMIT = 8_000
ITEMS_LIMIT = 50
# Room kept for the "… 9.8 MB more" marker, so a clipped text is never longer than its limit (clip is idempotent).
_MARKER_ROOM = 32

# C0 controls except \t \n \r, DEL, and C1 controls (0x9b is a one-byte CSI on some terminals).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Every control character, tab and line breaks included: what a single-line value may not contain.
LINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters, marked with how much was cut.

    Args:
        text: Any text, of any length.
        limit: The most characters to return (at least 64).

    Returns:
        ``text`` itself when it fits; otherwise its start followed by ``… 1,234 more characters`` (or, for
        10,000 characters and more, ``… 9.8 MB more``, measured in UTF-8 bytes, 1 MB = 1,048,576 bytes).
    """
    if len(text) <= limit:
        return text
    keep = max(limit - _MARKER_ROOM, 1)
    return text[:keep] + _cut(text[keep:])


def clip_repr(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` of a string (or anything), clipped: for quoting a value as ``'name'`` in a message.

    The value is cut before ``repr`` runs, so quoting a 10 MB value costs no more than quoting 1,000 characters.
    """
    if isinstance(value, str) and len(value) > limit:
        keep = max(limit - _MARKER_ROOM, 1)
        return repr(value[:keep])[:keep] + _cut(value[keep:])
    return clip(repr(value), limit)


def clip_join(values: list[str], *, limit: int = MESSAGE_LIMIT // 2, items: int = ITEMS_LIMIT) -> str:
    """``', '.join(values)`` with at most ``items`` values and ``limit`` characters, saying how many were left out."""
    shown = ", ".join(values[:items])
    if len(values) > items:
        shown += f" (and {len(values) - items:,} more)"
    return clip(shown, limit)


def clip_data(value: Any, limit: int = QUOTE_LIMIT, *, items: int = ITEMS_LIMIT) -> Any:
    """A JSON-like value with every string clipped and every list or mapping cut to ``items`` entries.

    Used on an error's details and on audit data derived from errors, so no structure quoting a file or a user
    grows with its input. A list or mapping that was cut keeps its first ``items - 1`` entries and ends with a
    marker entry naming how many were left out (so clipping twice changes nothing).
    """
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index == items - 1 and len(value) > items:
                out["…"] = f"{len(value) - index:,} more"
                break
            out[clip(key, limit) if isinstance(key, str) else key] = clip_data(item, limit, items=items)
        return out
    if isinstance(value, list | tuple):
        if len(value) <= items:
            return [clip_data(item, limit, items=items) for item in value]
        kept = [clip_data(item, limit, items=items) for item in value[: items - 1]]
        return [*kept, f"… {len(value) - len(kept):,} more"]
    return value


def find_control(text: str, *, single_line: bool = False) -> str | None:
    """The first control character in ``text`` as ``U+0000``, or None when there is none.

    Args:
        text: The value to check.
        single_line: Also count tab, line feed and carriage return (for names, e-mails, SKUs, queries).
    """
    found = (LINE_CONTROL_CHARACTERS if single_line else CONTROL_CHARACTERS).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def control_message(code: str) -> str:
    """What to say about a value holding the control character ``code`` (``U+0000``)."""
    return f"must not contain control characters (found {code})"


def visible(text: str) -> str:
    r"""``text`` with control characters (but tab and line feed) shown as ``\x1b`` rather than sent to a terminal."""
    return _TERMINAL_UNSAFE.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def _cut(rest: str) -> str:
    """The marker for a cut-off ``rest``: "… 1,234 more characters", or "… 9.8 MB more" for a long one."""
    if len(rest) < 10_000:
        return f"… {len(rest):,} more character{'s' if len(rest) != 1 else ''}"
    size = len(rest.encode("utf-8", "surrogatepass"))
    if size >= 1_048_576:
        return f"… {size / 1_048_576:.1f} MB more"
    return f"… {size / 1_024:.1f} KB more"


__all__ = [
    "CONTROL_CHARACTERS",
    "ITEMS_LIMIT",
    "LINE_CONTROL_CHARACTERS",
    "MESSAGE_LIMIT",
    "QUOTE_LIMIT",
    "REPLY_LIMIT",
    "clip",
    "clip_data",
    "clip_join",
    "clip_repr",
    "control_message",
    "find_control",
    "visible",
]


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '1,382 rows', '0 duplicates': the number with its noun agreeing."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {plural or noun + 's'}"
