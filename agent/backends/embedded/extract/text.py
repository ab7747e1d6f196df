"""Text helpers shared by the extractors: length-preserving folding, masking and phrase patterns.

Every extractor works on a folded copy of the operator's message whose characters sit at the same indices as
in the original, so a span found in the folded text can cut the original (to keep the case of a path or a
name).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# The words that reject the value after them: "200, not 20", "Tuesday instead of Monday", "csv rather than xml".
REJECTING = r"(?:not|instead\s+of|rather\s+than)"

_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\t": " ",
        "\n": " ",
        "\r": " ",
    }
)

# Latin letters with accents fold to their base letter, one for one ("México" reads as "mexico", "Zürich" as
# "zurich"), so indices stay aligned; letters that decompose to more than a base and accents stay as they are.
_ACCENTS = str.maketrans(
    {
        ch: base[0]
        for ch in map(chr, range(0xC0, 0x180))
        if len(base := unicodedata.normalize("NFKD", ch)) > 1
        and all(unicodedata.combining(mark) for mark in base[1:])
    }
)

# Word characters for boundaries: an underscore counts, so "orders" does not match inside "orders_today.csv".
WORD_BOUNDARY_BEFORE = r"(?<![\w])"
WORD_BOUNDARY_AFTER = r"(?![\w])"
NEGATION = re.compile(
    r"(?:\bnot|\bno|\bnever|\bexcept|\binstead\s+of|\brather\s+than|\bwithout|\bdon'?t|\bisn'?t|"
    # "make it xml, their system can't read csv"
    r"\b(?:can'?t|cannot|won'?t|doesn'?t|unable\s+to)\s+(?:read|open|take|handle|accept|use|import|process|load|parse))"
    r"(?:\s+(?:the|a|an|to|in|as|via|by|for|on))?\s*$"
)


def fold(text: str) -> str:
    """Lower-case text, strip accents and straighten quotes, dashes and spaces, keeping every character at its index.

    Args:
        text: Any text.

    Returns:
        A string of the same length as ``text``.
    """
    mapped = text.translate(_CHAR_MAP).translate(_ACCENTS)
    lowered = mapped.lower()
    if len(lowered) == len(mapped):
        return lowered
    # A few characters (e.g. "İ") lower to two code points; keep those as they are so indices stay aligned.
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in mapped)


def mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Blank out spans of text with spaces, keeping its length.

    Args:
        text: The text to mask.
        spans: ``(start, end)`` pairs; out-of-range parts are ignored.

    Returns:
        The text with every character inside a span replaced by a space.
    """
    chars = list(text)
    for start, end in spans:
        for i in range(max(start, 0), min(end, len(chars))):
            chars[i] = " "
    return "".join(chars)


_SEPARATOR = r"[\s_\-]*"
# A count between two words of a phrase ("top 5 customers") does not change what the phrase names.
_NUMBER_GAP = (
    r"(?:[\s_\-]+(?:\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"twenty[\s-]five|thirty|fifty|hundred)[\s_\-]+|[\s_\-]*)"
)


def phrase_pattern(phrase: str, *, number_gaps: bool = False, plural: bool = False) -> str:
    """Build a regex source matching a phrase on word boundaries, tolerant of spaces, hyphens and underscores.

    Args:
        phrase: Words separated by spaces, hyphens or underscores (e.g. "fixed width", "sales_by_region").
        number_gaps: Also match with a count between two words ("top 5 customers" for "top customers").
        plural: Also match a plural of the last word ("bulk discounts" for "bulk discount"), when it is a
            word of three letters or more.

    Returns:
        A regex source (not compiled) for use with the folded text, or for case-sensitive use when the phrase
        is written in capitals.
    """
    words = [w for w in re.split(r"[\s_\-]+", phrase.strip()) if w]
    body = (_NUMBER_GAP if number_gaps else _SEPARATOR).join(re.escape(w) for w in words)
    if plural and words and words[-1].isalpha() and len(words[-1]) >= 3 and not words[-1].endswith("s"):
        body += "(?:e?s)?"
    return WORD_BOUNDARY_BEFORE + body + WORD_BOUNDARY_AFTER


# Said after the value: "mode replace is not wanted, only append".
_NEGATION_AFTER = re.compile(
    r"\s+(?:is|are)\s+not\s+(?:wanted|needed|required|desired|allowed|ok(?:ay)?)\b|\s+not\s+(?:wanted|needed)\b"
)


def is_negated(folded: str, start: int, end: int | None = None) -> bool:
    """Tell whether the words just before ``start`` negate what follows ("not the bank", "instead of csv").

    Args:
        folded: Folded text.
        start: Index where the negated phrase would begin.
        end: Index where it ends, to also read a negation said after it ("replace is not wanted").

    Returns:
        True when a negation word ends right before ``start`` (or one follows ``end``).
    """
    if end is not None and _NEGATION_AFTER.match(folded, end):
        return True
    return NEGATION.search(folded[max(0, start - 24) : start]) is not None


def overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    """Tell whether a span overlaps any of the given spans.

    Args:
        span: ``(start, end)``.
        spans: Other ``(start, end)`` pairs.

    Returns:
        True on any overlap.
    """
    return any(span[0] < end and start < span[1] for start, end in spans)
