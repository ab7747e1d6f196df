"""Changing one value of a thread's previous call: its time of day, its period, or its count.

"make it 4 instead" or "no, 10pm" after a schedule, "and the week before?" after a report, "make that five hundred"
after a quote (``dialogue.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from agent.backends.embedded.extract.cron import revise_cron
from agent.backends.embedded.extract.dates import format_range, resolve_period
from agent.backends.embedded.extract.numbers import TEENS, TENS, UNITS, parse_number
from agent.backends.embedded.extract.text import REJECTING
from agent.backends.embedded.next_step import Reference
from core.periods import add_months

# "make it 4 instead", "move it to 6:30" after a schedule: the new time of day.
_NEW_TIME = re.compile(
    r"\b(make|change|move|set|switch|push|bump|shift)\s+(it|that)\s+(to\s+)?(at\s+)?(\d{1,2})(:(\d{2}))?\s*(am|pm)?\b",
    re.I,
)
_HOUR_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})"
_NEW_TIME_WORDS = re.compile(
    r"\b(?:make|change|move|set|switch|push|bump|shift)\s+(?:it|that)\s+(?:to\s+)?(?P<time>(?:at\s+)?(?:"
    rf"(?:half|quarter)\s+(?:past\s+|to\s+)?{_HOUR_WORD}|noon|midday|midnight|"
    rf"{_HOUR_WORD}(?:\s+(?:thirty|fifteen|forty[\s-]five|o'?clock))?)(?:\s*(?:am|pm|in\s+the\s+(?:morning|evening)))?)\b",
    re.I,
)
# A change said as such: "make that the 2nd instead", "Tuesday instead of Monday", "change only the day".
_CHANGE = re.compile(
    r"\binstead\b|\brather\s+than\b|^\W*(actually\W+)?(make|change|move)\s+(it|that|only)\b|"
    r"\bi\s+(wanted|meant)\b|,\s*not\s+(on\s+)?[a-z]+days?\b",  # "I wanted Thursday, not Friday"
    re.I,
)
_REJECTED_DAY = re.compile(
    rf"\b{REJECTING}\s+(on\s+)?(mon|tues?|wed(nes)?|thu(rs)?|fri|sat(ur)?|sun)(day)?s?\b",
    re.I,
)
_NTH = re.compile(r"(?<!on )\bthe\s+(\d{1,2}(?:st|nd|rd|th))\b(?!\s+of)", re.I)
_DAYPART = re.compile(
    r"\s*(?:o'?clock\s*)?(?:(?:in|at)\s+(?:the\s+)?(?:night|evening|afternoon|morning)|tonight)", re.I
)
# "no, 10pm" after a schedule: the new time of day alone.
_BARE_TIME = re.compile(
    r"^\W*(?:(?:no|nah|actually|rather|better|instead)\W+)*(?:at\s+)?(\d{1,2})(:(\d{2}))?\s*(am|pm)\W*$", re.I
)


def moved_cron(text: str, cron: object) -> str | None:
    """``cron`` at the time of day ``text`` moves it to ("make it 4 instead"), when both are plain enough."""
    found = _NEW_TIME.search(text)
    if found is None and (bare := _BARE_TIME.match(text)) is not None:
        return _at_time(cron, int(bare.group(1)), int(bare.group(3) or 0), bare.group(4).lower())
    if found is None:
        # "actually make it half five, the shift starts at six": the time in words, up to the clause's end
        worded = _NEW_TIME_WORDS.search(text)
        if worded is None or not isinstance(cron, str):
            return None
        said = worded.group("time")
        return revise_cron(cron, said if said.lower().startswith("at") else f"at {said}")
    if _DAYPART.search(text, found.end()) and isinstance(cron, str):
        # "make it at 10 in the night instead": the part of the day says which 10
        return revise_cron(cron, f"at {text[found.start(5) :]}")
    return _at_time(cron, int(found.group(5)), int(found.group(7) or 0), (found.group(8) or "").lower())


def _at_time(cron: object, hour: int, minute: int, half: str) -> str | None:
    """``cron`` moved to ``hour``:``minute`` (``half`` "am", "pm" or ""), when it has a time of day to move."""
    if not isinstance(cron, str) or len(fields := cron.split()) != 5:
        return None
    if not (fields[0].isdigit() and fields[1].isdigit()):
        return None  # "every 15 minutes" has no time of day to move
    hour += 12 if half == "pm" and hour < 12 else 0
    hour -= 12 if half == "am" and hour == 12 else 0
    if hour > 23 or minute > 59:
        return None
    return " ".join([str(minute), str(hour), *fields[2:]])


def shift_period(period: str, step: int, *, today: date) -> str | None:
    """The period of the same length just before (``step`` -1) or after (+1) ``period``.

    A calendar unit to date moves by the whole unit: the quarter before "this_quarter" is "last_quarter".
    """
    unit = period.removeprefix("this_")
    if step == -1 and period.startswith("this_") and unit in ("week", "month", "quarter", "year"):
        return f"last_{unit}"
    try:
        start, end = resolve_period(period, today=today)
    except ValueError:
        return None
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        first = add_months(start, step * months)
        return format_range(first, add_months(first, months) - timedelta(days=1))
    length = (end - start).days + 1
    return format_range(start + timedelta(days=step * length), end + timedelta(days=step * length))


def shift_back(period: str, *, today: date) -> str | None:
    """The period of the same length just before ``period`` ("last_week" → the week before it)."""
    return shift_period(period, -1, today=today)


# A new count alone: "make it 20", "30 instead", "how about 50?", "make that five hundred", "20 instead of 10".
_NUMBER_WORDS = "|".join([*UNITS, *TEENS, *TENS, "hundred", "thousand", "dozen"])
_COUNT = rf"(?P<n>\d{{1,3}}(?:,\d{{3}})+|\d{{1,6}}|(?:a\s+)?(?:{_NUMBER_WORDS})(?:[\s-]+(?:and\s+)?(?:{_NUMBER_WORDS}))*)"
_NEW_COUNT = (
    re.compile(
        r"^\W*(?:(?:no|ok(?:ay)?|alright|right|fine|great|perfect|cool|yeah|yes|so|actually|sorry|hmm+|and)\W+)*"
        r"(?:(?:make|change|set|bump|up)\s+(?:it|that)(?:\s+(?:up\s+)?to)?|(?:give|show)\s+(?:me|us)|how\s+about|"
        r"what\s+about|what\s+if\s+(?:they|we|it|he|she)\s+(?:go|goes|went|take|"
        rf"takes|order|orders|bump\s+it|push\s+it)(?:\s+(?:up\s+)?to)?)\s*{_COUNT}\s*(?:units|pcs|pieces|x)?\s*"
        r"(?:instead|then|please|pls)?\W*$",
        re.I,
    ),
    re.compile(rf"^\W*{_COUNT}\s*(?:instead|then)\W*$", re.I),
    re.compile(rf"^\W*and\s+at\s+{_COUNT}\s*(?:units|pcs|pieces)?\W*$", re.I),  # "and at 500?"
    # "Please revise the quotation to 180 units; all other particulars unchanged."
    re.compile(
        r"^\W*(?:(?:please|kindly|pls)\s+)?(?:revise|update|change|amend|adjust|increase|reduce|lower|raise)\s+"
        rf"(?:the\s+|that\s+|this\s+)?(?:quote|quotation|quantity|qty|amount|count)\s+(?:up\s+|down\s+)?to\s+{_COUNT}\b",
        re.I,
    ),
    # "What if we scale to 500 to hit the next discount break?": the new count, whatever the reason after it.
    re.compile(
        r"^\W*(?:and\s+)?what\s+if\s+(?:we|they|he|she|it)\s+(?:scale|go|went|take|order|bump|increase|move|jump)\w*"
        rf"\s+(?:it\s+)?(?:up\s+)?to\s+{_COUNT}\b",
        re.I,
    ),
    re.compile(
        r"^\W*(?:(?:ok(?:ay)?|actually|sorry|and)\W+)*(?:(?:give|show|get)\s+me|let'?s\s+(?:do|see|have)|i\s+(?:want|"
        rf"need|meant))?\s*{_COUNT}\s+(?:instead\s+of|rather\s+than|not)\s+(?:the\s+)?[\w,]+\W*$",
        re.I,
    ),
)


# "Could you show just the top 3? The slide only has room for three." after a top-N report: a shorter list.
_TOP_N = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|and|so|now|thanks|great)\W+)*(?:(?:could|can|would)\s+(?:you|u)\s+)?(?:(?:please|pls)\s+)?"
    rf"(?:(?:show|give|list|get)\s+(?:me\s+|us\s+)?)?(?:just|only)\s+the\s+top\s+{_COUNT}\b",
    re.I,
)
_PREVIOUS = re.compile(r"(the\s+)?(previous|prior|preceding)\s", re.I)
_UNIT = r"(week|wk|month|mo|mth|quarter|qtr|year|yr|day|one|period)"
_BEFORE = re.compile(
    rf"\b(the\s+)?{_UNIT}\s+(before|prior|earlier)(\s+that)?\b|\b(one|a|1)\s+{_UNIT}\s+(back|earlier)\b|"
    r"\b(the\s+)?(previous|prior|preceding)\s+(one|week|wk|month|quarter|qtr|year|period)\b|\bone\s+before\b",
    re.I,
)
_AFTER = re.compile(rf"\b(the\s+)?{_UNIT}\s+after(\s+that)?\b|\bthe\s+following\s+{_UNIT}\b", re.I)
# "that one" points back; it is no quantity of one.
THAT_ONE = re.compile(r"\b(that|this|the\s+same|the)\s+one\b", re.I)
_ONE = re.compile(r"\bone\b", re.I)  # the run before is "the one before", "that one", "and previous one?"


def _other_unit(said: str, period: object) -> bool:
    """Whether "the previous <unit>" names another unit than a keyword period's ("last_7_days", "this_week")."""
    unit = re.search(r"(week|month|quarter|year)\b", said.casefold())
    if unit is None or not _PREVIOUS.match(said) or not isinstance(period, str) or ".." in period:
        return False
    return unit.group(1) not in period and not (unit.group(1) == "week" and period.endswith("_7_days"))


# "Give me 20, not 10.": the value rejected after the new one
_NOT_THAT = re.compile(rf",?\s*{REJECTING}\s+[\w.,-]+\W*$", re.I)


def new_count(text: str) -> int | None:
    """The count a message sets alone ("make it 25", "make that five hundred", "give me 20, not 10")."""
    text = _NOT_THAT.sub("", text) or text
    for pattern in _NEW_COUNT:
        if (found := pattern.match(text)) and (count := parse_number(found["n"])) is not None:
            return count
    return None


# "Make it 20 and North America only", "Same for North America, and give me 10": a count beside another value
_AND = re.compile(r",(?!\d)\s*(?:and\s+)?|\s+and\s+", re.I)


def count_beside(text: str, args: Mapping[str, Any]) -> dict[str, int]:
    """The count one part of a follow-up sets while the others change other values."""
    if (slot := count_slot(args)) is None:
        return {}
    counts = [count for part in _AND.split(text) if (count := new_count(part)) is not None]
    return {slot: counts[-1]} if counts else {}


def new_value(text: str, tool: str, args: Mapping[str, Any]) -> Reference | None:
    """The same call at another time ("make it half five") or with another count ("make it 20" after the top 10)."""
    if tool == "schedule_flow" and (moved := moved_cron(text, args.get("cron"))) is not None:
        # "make it 5:15, and only on weekdays": the days said with the new time change too
        days = revise_cron(moved, _NEW_TIME.sub(" ", text))
        if days is not None and days.split()[:2] == moved.split()[:2]:
            moved = days
        return Reference(tool, {**args, "cron": moved}, "the schedule at another time")
    cron = args.get("cron")
    if tool == "schedule_flow" and isinstance(cron, str) and _CHANGE.search(text):
        # "Make that the 2nd instead", "Tuesday instead of Monday": the days change, the time stays
        said = _REJECTED_DAY.sub(" ", text)
        if cron.split()[2] != "*":  # a monthly schedule: "the 2nd" is its day of the month
            said = _NTH.sub(r"on the \1", said)
        revised = revise_cron(cron, said)
        if revised is not None and revised != cron:
            return Reference(tool, {**args, "cron": revised}, "the schedule on other days")
    if (top := _TOP_N.match(text)) and count_slot(args) == "limit" and (count := parse_number(top["n"])):
        return Reference(tool, {**args, "limit": count}, "")
    if (count := new_count(text)) is not None and (slot := count_slot(args)) is not None:
        return Reference(tool, {**args, slot: count}, "")
    return None


def count_slot(args: Mapping[str, Any]) -> str | None:
    """The count a bare number changes: the list's length, or the quantity quoted or ordered."""
    if "quantity" in args:
        return "quantity"
    return "limit" if "limit" in args or args.get("report") in ("top_customers", "top_products") else None


def next_period(text: str, tool: str, args: Mapping[str, Any], today: date) -> Reference | None:
    """The same call for the period before or after ("and the week before?"), or the run before ("the one before")."""
    for pattern, step, why in ((_BEFORE, -1, "the period before"), (_AFTER, 1, "the period after")):
        if not (found := pattern.search(text)):
            continue
        if _other_unit(found.group(), args.get("period")):
            return None  # "and for the previous month?" after the last 7 days: last month, said outright
        if isinstance(args.get("period"), str):
            shifted = shift_period(str(args["period"]), step, today=today)
            if shifted is not None:
                return Reference(tool, {**args, "period": shifted}, why)
        run_id = args.get("run_id")
        if tool == "get_run_status" and isinstance(run_id, int) and _ONE.search(text) and run_id + step > 0:
            return Reference(
                tool, {**args, "run_id": run_id + step}, f"the run {'before' if step < 0 else 'after'}"
            )
    return None
