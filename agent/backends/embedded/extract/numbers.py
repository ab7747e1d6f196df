"""Integer extraction from digits ("1,200", "2k") and English number words ("forty two", "a dozen").

Ordinals ("1st", "third") are positions, not quantities, and are never returned. Digits glued to letters or to
other digits by ``-``, ``:``, ``/`` or ``.`` (SKUs like C-55, dates, times, versions) are not numbers here
either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.backends.embedded.extract.text import fold, overlaps

UNITS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# "lakh" and "crore" are how South Asian English counts 100,000 and 10,000,000.
SCALES: dict[str, int] = {
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "lakh": 100_000,
    "lakhs": 100_000,
    "crore": 10_000_000,
    "crores": 10_000_000,
}
_MULTIPLIERS: dict[str, int] = {"hundred": 100, "dozen": 12, "dozens": 12, **SCALES}

_DIGITS = re.compile(
    r"(?<![\w.:/])(?<!\w-)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
    r"(?:(?P<k>k)|\s+(?P<mult>hundred|thousand|million|billion|dozens?|lakhs?|crores?))?"
    r"(?![\w:/]|[.,\-]\d)"
)
_WORD = re.compile(r"[a-z]+")
_HALF_DOZEN = re.compile(r"\bhalf\s+a\s+dozen\b")
_JOINERS = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class ExtractedNumber:
    """An integer found in text.

    Attributes:
        value: The integer.
        span: ``(start, end)`` indices into the original text.
    """

    value: int
    span: tuple[int, int]


def _digit_numbers(folded: str) -> list[ExtractedNumber]:
    found: list[ExtractedNumber] = []
    for m in _DIGITS.finditer(folded):
        whole = int(m.group("int").replace(",", ""))
        frac = m.group("frac") or ""
        factor = 1000 if m.group("k") else _MULTIPLIERS.get(m.group("mult") or "", 1)
        if len(frac) == 3 and factor == 1 and not m.group("int").count(","):
            # "1.500 units": a dot between thousands, as much of Europe writes it; 1.5 would not be a count.
            whole, frac = whole * 1000 + int(frac), ""
        # Fractions only survive when a multiplier makes them whole ("2.5k"); "1.5" is not an integer.
        numerator = (whole * 10 ** len(frac) + int(frac or "0")) * factor
        if numerator % (10 ** len(frac)):
            continue
        found.append(ExtractedNumber(numerator // 10 ** len(frac), (m.start(), m.end())))
    return found


def parse_word_run(words: list[tuple[str, int, int]], i: int) -> tuple[int, int] | None:
    """Parse number words greedily from ``words[i]``; return (value, index after the last word used)."""
    total, current, last, last_scale = 0, 0, "", 10**12
    j, end_used = i, i
    n = len(words)
    while j < n:
        w = words[j][0]
        nxt = words[j + 1][0] if j + 1 < n else ""
        if w in ("a", "an"):
            if j != i or nxt not in _MULTIPLIERS:
                break
            current, last = 1, "unit"
        elif w == "and":
            if last not in ("hundred", "scale") or not (nxt in UNITS or nxt in TEENS or nxt in TENS):
                break
        elif w in UNITS:
            v = UNITS[w]
            if last == "tens" and v > 0:
                current += v
            elif last in ("", "hundred", "scale") and not (v == 0 and last):
                current += v
            else:
                break
            last = "unit"
        elif w in TEENS or w in TENS:
            if last not in ("", "hundred", "scale"):
                break
            current += TEENS.get(w, TENS.get(w, 0))
            last = "teen" if w in TEENS else "tens"
        elif w == "hundred":
            if not (last in ("", "unit", "teen") and current < 100 and total % 1000 == 0):
                break
            current = max(current, 1) * 100
            last = "hundred"
        elif w in SCALES:
            scale = SCALES[w]
            if last in ("scale", "and") or scale >= last_scale:
                break
            total += max(current, 1) * scale
            current, last, last_scale = 0, "scale", scale
        elif w == "dozen":
            if last not in ("", "unit", "teen", "tens"):
                break
            current = max(current, 1) * 12
            j += 1
            end_used = j
            break
        else:
            break
        j += 1
        if w not in ("a", "an", "and"):
            end_used = j
    if end_used == i or words[i][0] in ("a", "an") and end_used == i + 1:
        return None
    return total + current, end_used


def _word_numbers(folded: str) -> list[ExtractedNumber]:
    found: list[ExtractedNumber] = []
    taken: list[tuple[int, int]] = []
    for m in _HALF_DOZEN.finditer(folded):
        found.append(ExtractedNumber(6, (m.start(), m.end())))
        taken.append((m.start(), m.end()))
    words = [
        (m.group(), m.start(), m.end())
        for m in _WORD.finditer(folded)
        if not any(s <= m.start() < e for s, e in taken)
    ]
    i = 0
    while i < len(words):
        # Words only chain across plain spaces or hyphens ("forty-two"), never across punctuation.
        run_end = i + 1
        while run_end < len(words) and _JOINERS.fullmatch(folded[words[run_end - 1][2] : words[run_end][1]]):
            run_end += 1
        parsed = parse_word_run(words[i:run_end], 0)
        if parsed is None:
            i += 1
            continue
        value, used = parsed
        start, end = words[i][1], words[i + used - 1][2]
        before, after = folded[start - 1 : start], folded[end : end + 1]
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            found.append(ExtractedNumber(value, (start, end)))
        i += used
    return found


def extract_numbers(text: str) -> list[ExtractedNumber]:
    """Find every integer written in digits or in English words, in order of appearance.

    Args:
        text: Free text.

    Returns:
        The numbers with their spans; empty when there are none.
    """
    folded = fold(text)
    digits = _digit_numbers(folded)
    # "3 thousand" is one number: drop the word-number reading of its multiplier.
    words = [n for n in _word_numbers(folded) if not overlaps(n.span, [d.span for d in digits])]
    return sorted(digits + words, key=lambda n: n.span)


def parse_number(text: str) -> int | None:
    """Parse text that is one number as a whole ("12", "-5", "1,200", "2k", "forty two", "a dozen").

    Args:
        text: Text holding just a number, optionally signed and surrounded by spaces or end punctuation.

    Returns:
        The integer, or None when the text is not exactly one number.
    """
    stripped = fold(text).strip().rstrip(".!?").strip()
    sign = 1
    for prefix in ("-", "minus "):
        if stripped.startswith(prefix):
            sign, stripped = -1, stripped[len(prefix) :].strip()
            break
    numbers = extract_numbers(stripped)
    if len(numbers) != 1 or numbers[0].span != (0, len(stripped)):
        return None
    return sign * numbers[0].value
