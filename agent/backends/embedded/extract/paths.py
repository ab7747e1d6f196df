"""File names and paths, kept literal: "orders_today.csv", "/inbox/products.json", "'Q3 customers.xlsx'".

A description of a file ("today's orders file") is not a path and gives None: only the caller can look it up.
"""

from __future__ import annotations

import re

from agent.backends.embedded.extract.text import fold

FILE_EXTENSIONS = frozenset(
    (
        "csv tsv txt xlsx xls xlsm ods json jsonl ndjson xml dat parquet zip gz tgz pdf png svg yaml yml edi"
    ).split()
)
_QUOTED = re.compile(r"\"([^\"]{1,260})\"|(?<!\w)'([^']{1,260})'(?!\w)|`([^`]{1,260})`")
_UNQUOTED = re.compile(
    r"(?<![\w@/\\.:-])"
    r"(?P<path>(?:[a-z]:\\|~?/|\.{1,2}/)?(?:[\w.\-]+[/\\])*[\w\-][\w.\-]*?(?:\.(?P<ext>[a-z0-9]{1,8}))?)"
    r"(?![\w/\\@-]|\.[a-z0-9])"
)
_ROOTED = re.compile(r"^(?:[a-z]:\\|~?/|\.{1,2}/)")


def _looks_like_path(candidate: str, ext: str | None) -> bool:
    if "://" in candidate or "@" in candidate:
        return False
    if ext and ext in FILE_EXTENSIONS:
        return True
    return bool(_ROOTED.match(candidate)) and len(candidate) > 2 and not candidate.endswith(("/", "\\"))


def find_path(text: str) -> tuple[str, tuple[int, int]] | None:
    """Find the first path in text with its span (quoted paths may contain spaces).

    Args:
        text: Free text.

    Returns:
        ``(path, (start, end))`` with the path as written, or None.
    """
    folded = fold(text)
    for m in _QUOTED.finditer(folded):
        group = next(i for i in (1, 2, 3) if m.group(i) is not None)
        inner = m.group(group).strip()
        if group == 3 and " " in inner:
            # Backticks quote code ("`ingest_file products.json`"): the path is a word of it, not all of it.
            continue
        ext = inner.rsplit(".", 1)[1] if "." in inner else None
        if inner and _looks_like_path(inner, ext):
            start = m.start(group) + (len(m.group(group)) - len(m.group(group).lstrip()))
            return text[start : start + len(inner)], (m.start(), m.end())
    for m in _UNQUOTED.finditer(folded):
        path = m.group("path")
        if path and _looks_like_path(path, m.group("ext")):
            return text[m.start("path") : m.end("path")], m.span("path")
    return None


def extract_path(text: str) -> str | None:
    """Find a file name or path in text, as written.

    Args:
        text: E.g. "load orders_today.csv into orders" or "ingest /inbox/products.json".

    Returns:
        The path (case kept), or None when the text only describes a file.
    """
    found = find_path(text)
    return found[0] if found else None
