"""Doubts about a complete call: a number no argument holds, or a name that took in the whole message.

"Same for North America, and give me 10" answered with the top 10 kept, "runs from 16.11 until 20.11" answered
with the last 7 days: calls like these would run without asking, so the backend checks them with the operator
first. Numbers that are no argument anyway are passed over: labels of other things ("ticket 7781", "row 14"),
values rejected ("200, not 20"), a time of day beside a call that takes none ("before the 14:00 cut-off"), years,
amounts with their word ("1 lakh", "1.5k", "the 500 break"), list numbering, and texting's "4" and "2".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.backends.embedded.extract.text import REJECTING
from agent.backends.embedded.signals import swallowed

_NUMBER = re.compile(r"(?<![\w.,/:#-])\d+(?:[.,:/]\d+)*(?![\w/:%-]|[.,]\w)")
_WORD_AFTER = re.compile(
    r"\s*(?:%|percent\b|dozens?\b|mins?\b|minutes?\b|lakhs?\b|crores?\b|thousand\b|hundred\b|million\b|"
    r"step\b|break\b|tier\b|threshold\b|mark\b)",
    re.I,
)
_LABEL_BEFORE = re.compile(
    r"\b(?:tickets?|claim|case|incident|inc|po|invoice|row|line|step|week|item|page|room|bay|dock|gate|door|flight|"
    r"version|v)(?:\s+(?:ref|reference|no|nr|number|id)\.?)?\s*[#:.]?\s*$",
    re.I,
)
_REJECTED_BEFORE = re.compile(rf"\b{REJECTING}\s+(?:the\s+)?$", re.I)
_TIME_BEFORE = re.compile(r"\b(?:at|before|after|by|until|till|around)\s+(?:the\s+)?$", re.I)
_CLOCK = re.compile(r"^(?:[01]?\d|2[0-3])(?::?[0-5]\d)?$")  # "6", "14:00", "0800"
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_TEXTING = frozenset({"2", "4"})  # "same 4 yday", "set invoice run 2 go fridays"; not "the 4 biggest"
_TEXTING_BEFORE = re.compile(
    r"(?<!\bthe)(?<!\btop)(?<!\bfirst)(?<!\blast)(?<!\bonly)(?<!\bjust)(?<=[a-z])\s$", re.I
)
# Arguments a number can fill; a tool with none of them ("explain_rule") says nothing about the numbers around it.
_NUMERIC_KINDS = frozenset({"integer", "number"})


def doubt(text: str, args_text: str, args: Mapping[str, Any], props: Mapping[str, Any]) -> str | None:
    """Why a complete call may not be what was asked, in the operator's words, or None when nothing is in doubt.

    A number no argument holds, or a name to look up that took in most of the message.

    ``text`` is the message, ``args_text`` the part its arguments are read from (without negated clauses).
    """
    if (number := stray_number(text, args, props)) is not None:
        return f"I couldn't tell what “{number}” was for"
    if swallowed(args_text, args) is not None:
        return "I wasn't sure which words are the name to look up"
    return None


def stray_number(text: str, args: Mapping[str, Any], props: Mapping[str, Any]) -> str | None:
    """The first number in ``text`` that no argument in ``args`` holds, for a tool with ``props``; or None."""
    if not any(_numeric(name, prop) for name, prop in props.items()):
        return None
    held = {part.lstrip("0") for value in args.values() for part in re.findall(r"\d+", str(value or ""))}
    held |= {str(int(h) - 12) for h in held if h.isdigit() and 13 <= int(h) <= 23}  # "5 pm" held as 17
    for found in _NUMBER.finditer(text):
        token, before, after = found.group(), text[: found.start()], text[found.end() :]
        if _passed_over(token, before, after, cron="cron" in props) or _held(token, held):
            continue
        return token
    return None


def _numeric(name: str, prop: Mapping[str, Any]) -> bool:
    """Whether an argument can hold a number: an integer, a period or schedule, a looked-up id, an artifact id."""
    kinds = {prop.get("type"), *(option.get("type") for option in prop.get("anyOf", ()))}
    return bool(kinds & _NUMERIC_KINDS) or name in ("period", "cron", "query", "file")


def _held(token: str, held: set[str]) -> bool:
    """Whether the call holds ``token``: "1,200" and "1.200" as 1200, "0530" as a cron's 5 and 30."""
    variants = (token.replace(",", ""), token.replace(".", "").replace(",", ""))
    if any(all(part.lstrip("0") in held for part in re.findall(r"\d+", v)) for v in variants):
        return True
    return (
        len(token) in (3, 4) and token.isdigit() and {token[:-2].lstrip("0"), token[-2:].lstrip("0")} <= held
    )


def _passed_over(token: str, before: str, after: str, *, cron: bool) -> bool:
    """A number that is no argument whatever the call: a label, a rejected value, a year, an amount's word."""
    if _WORD_AFTER.match(after) or _LABEL_BEFORE.search(before) or _REJECTED_BEFORE.search(before):
        return True
    if _YEAR.match(token) or (
        not cron and (":" in token or (_CLOCK.match(token) and _TIME_BEFORE.search(before)))
    ):
        return True
    if token in _TEXTING and _TEXTING_BEFORE.search(before) and re.match(r"\s\w", after):
        return True
    return bool(re.search(r"(?:^|\n)\s*$", before) and re.match(r"[.)]\s", after))  # "1. quote_price"
