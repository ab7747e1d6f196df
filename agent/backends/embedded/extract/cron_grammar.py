"""Grammar of schedule phrases: clock times, intervals, days of the week and of the month, calendar words.

``parse_schedule`` reads folded text into a ``ScheduleSpec``; ``cron.extract_cron`` turns the spec into
fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.backends.embedded.extract.numbers import parse_number
from agent.backends.embedded.extract.period_dates import DAYNUM, parse_daynum
from agent.backends.embedded.extract.text import mask

DOW: dict[str, int] = {
    "sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tues": 2, "tue": 2,
    "wednesday": 3, "weds": 3, "wed": 3, "thursday": 4, "thurs": 4, "thur": 4, "thu": 4,
    "friday": 5, "fri": 5, "saturday": 6, "sat": 6,
}  # fmt: skip
_DOW_ALT = "|".join(sorted(DOW, key=len, reverse=True))
_HOUR_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_AMPM = r"(?P<ap>a\.?m\.?|p\.?m\.?|o'?clock)"

_T_PAST = re.compile(
    rf"\b(?P<q>half|quarter)\s+(?P<dir>past|to)\s+(?P<h>\d{{1,2}}|{_HOUR_WORDS}|noon|midday|midnight)\b"
    rf"(?:\s*{_AMPM}(?!\w))?"
)
# "7 and half", "seven and a quarter": how many languages say 7:30 and 7:15.
_T_AND_Q = re.compile(
    rf"(?<![\d:])(?P<h>\d{{1,2}}|\b(?:{_HOUR_WORDS}))\s+and\s+(?:a\s+)?(?P<q>half|quarter)\b(?:\s*{_AMPM}(?!\w))?"
)
_T_DOT = re.compile(rf"(?:\bat|@|\bthe|\bto)\s*(?P<h>\d{{1,2}})\.(?P<m>[0-5]\d)(?!\d)(?:\s*{_AMPM}(?!\w))?")
# "every day 11.30pm": a dotted time with its am/pm needs no "at".
_T_DOT_AMPM = re.compile(rf"(?<![\d.])(?P<h>\d{{1,2}})\.(?P<m>[0-5]\d)\s*{_AMPM}(?!\w)")
# "every Wednesday 9.30 morning": a dotted time after a weekday or before a part of the day needs no "at" either.
_T_DOT_DAY = re.compile(r"(?:(?<=days\s)|(?<=day\s))(?P<h>\d{1,2})\.(?P<m>[0-5]\d)(?![\d.])")
_T_DOT_PART = re.compile(
    r"(?<![\d.])(?P<h>\d{1,2})\.(?P<m>[0-5]\d)(?=\s*(?:in\s+the\s+)?(?:morning|afternoon|evening|night)\b)"
)
# "every sat, 8 in the morning": an hour with its part of the day needs no "at".
_T_PART = re.compile(
    r"(?<![\d:.])(?P<h>\d{1,2})(?=\s+(?:o'?clock\s+)?in\s+the\s+(?:morning|evening|afternoon|night)\b)"
)
# "export 5 every morning", "invoice run every monday 8": a bare hour beside the days it runs on.
_T_EVERY_PART = re.compile(
    r"(?<![\d:.])(?P<h>\d{1,2})(?=\s+(?:every|each)\s+(?:morning|evening|afternoon|night)\b)"
)
_T_WEEKDAY_HOUR = re.compile(
    r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?\s+(?P<h>\d{1,2})(?=\s*$|\s*[,.;!])"
)
_T_HOUR = re.compile(r"\b(?:at\s+)?(?:the\s+)?hour\s+(?P<h>\d{1,2})\b(?![:.]\d)")
_T_HM = re.compile(
    rf"(?<![\d:])(?P<h>\d{{1,2}})\s*(?:[:h]|hours?\s)\s*(?P<m>\d{{2}})(?!\d|\s*min)(?:\s*{_AMPM}(?!\w))?"
)
_T_AMPM = re.compile(rf"(?<![\d:])(?P<h>\d{{1,2}})\s*{_AMPM}(?!\w)")
_T_NAMED = re.compile(r"\b(?P<w>noon|midday|midnight)\b")
_T_WORD_HOUR = re.compile(rf"\bat\s+(?P<h>{_HOUR_WORDS})\b(?:\s*{_AMPM}(?!\w))?")
# "at 23 hour" and "to the 7" are how some people say "at 23:00" and "at 7".
_T_AT = re.compile(
    r"(?:\bat(?:\s+the)?|@|\bto\s+the)\s*(?P<h>\d{1,2})(?![\d:]|\.\d|\s*(?:minutes?|mins?|past|%|th|st|nd|rd)\b)"
)
_T_AND = re.compile(
    rf"(?:\band|&|,)\s*(?:at\s+)?(?P<h>\d{{1,2}})(?![\d:.]|\s*(?:minutes?|mins?|hours?|th|st|nd|rd|%)\b)(?:\s*{_AMPM}(?!\w))?"
)
_DAYPART = re.compile(
    r"\s*(?:o'?clock\s*|hours?\s*|h\s*)?(?:(?:in|of)\s+the\s+(?P<a>morning|afternoon|evening|night)|at\s+(?P<b>night)|(?P<c>tonight))"
)
_EVENING = re.compile(r"\b(?:night|evening|tonight)\b")
_AFTERNOON = re.compile(r"\bafternoon\b")

_EVERY_N_MIN = re.compile(
    r"\b(?:every|each|all)\s+(?P<n>\d{1,4}|[a-z]+(?:[\s-][a-z]+)?)\s*(?:minutes?|mins?|m)\b|"
    r"\b(?P<n2>\d{1,4}|[a-z]+)[\s-]*(?:minutes?|mins?|min)[\s-]+(?:cron|schedule|interval|intervals|cadence|cycle|"
    r"frequency|basis|rhythm|loop|timer|job)\b"
)
_EVERY_MIN = re.compile(r"\b(?:every|each)\s+minute\b|\bminutely\b")
_QUARTER_HOUR = re.compile(r"\b(?:every|each)\s+quarter\s+(?:of\s+an\s+)?hour\b")
_HALF_HOUR = re.compile(
    r"\b(?:every|each)\s+half\s+(?:an\s+)?hour\b|\bhalf[\s-]hourly\b|\btwice\s+an\s+hour\b"
)
_HOURLY = re.compile(r"\b(?:every|each)\s+hour\b|\bhourly\b|\bonce\s+an\s+hour\b")
_EVERY_N_HOURS = re.compile(
    r"\b(?:every|each|all)\s+(?P<n>\d{1,3}|[a-z]+)\s+hours?\b|"
    r"\b(?P<n2>\d{1,3}|[a-z]+)[\s-]*(?:hours?|hr)[\s-]+(?:cron|schedule|interval|intervals|cadence|cycle|frequency|"
    r"basis|rhythm|loop|timer|job)\b"
)
_MINUTE_OFFSET = re.compile(
    r"\bat\s+(?P<m>\d{1,2})\s+(?:minutes?\s+)?past(?:\s+(?:the|each|every)\s+hour)?\b|\bat\s+:(?P<m2>\d{2})\b|"
    r"\b(?:at\s+)?(?P<q>quarter|half)\s+past(?:\s+(?:the|each|every)\s+hour)\b|"
    r"\bon\s+the\s+(?P<q2>half|quarter)[\s-]+hour\b|\bon\s+the\s+hour\b"
)
_HOUR_WINDOW = re.compile(
    r"\b(?:from|between)\s+(?P<a>\d{1,2})(?::\d{2})?\s*(?P<aap>am|pm)?\s*(?:to|and|until|till|-)\s*"
    r"(?P<b>\d{1,2})(?::\d{2})?\s*(?P<bap>am|pm)?\b"
)

_DOW_RANGE = re.compile(rf"\b(?P<a>{_DOW_ALT})s?\s*(?:-|to|through|thru|till|until)\s*(?P<b>{_DOW_ALT})s?\b")
_DOW_ONE = re.compile(rf"\b(?P<d>{_DOW_ALT})s?\b")
# "before the working day begins" says when, not which days
_WEEKDAYS = re.compile(
    r"(?<!before the )(?<!after the )(?<!start of the )(?<!end of the )(?<!by the )"
    r"\b(?:week\s*days?|working\s+days?|business\s+days?|work\s*days?)\b(?!\s+(?:begins|starts|ends)\b)"
)
# "every weekend" is a schedule; "so my weekend numbers are clean" is not.
_WEEKENDS = re.compile(
    r"(?<!my )(?<!our )(?<!your )(?<!their )(?<!before the )(?<!after the )(?<!over the )(?<!by the )"
    r"(?<!until the )(?<!till the )(?<!for the )\bweekends?\b"
    r"(?!\s+(?:numbers|figures|reports?|team|shift|crew|staff|sales|totals|data|plans?)\b)"
)
_DAY_LIST = rf"{DAYNUM}(?:(?:\s*,\s*|\s+and\s+|\s*&\s*)(?:the\s+)?{DAYNUM})*"
# "the 1st and the 15th of each month"
_DOM_OF_MONTH = re.compile(
    rf"(?<!\bat\s)\b(?:the\s+)?(?P<list>{_DAY_LIST})\s+(?:days?\s+)?of\s+(?:(?:the|every|each|a)\s+)?month\b"
)
_DOM_ON_THE = re.compile(
    rf"\bon\s+(?:the\s+)?(?P<list>{_DAY_LIST})(?=\s+day\b)|\bon\s+the\s+(?P<list2>{_DAY_LIST})"
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)\b")
_MONTH_START = re.compile(r"\b(?:start|beginning)\s+of\s+(?:the|every|each)\s+month\b")

_DAILY = re.compile(
    r"\b(?:every\s*day|daily|each\s+day|(?:all|every|each)\s+(?:the\s+)?days|every\s+(?:night|morning|evening|afternoon)|nightly|"
    r"each\s+(?:night|morning|evening)|(?:once|twice)\s+a\s+day|per\s+day|every\s+24\s+hours)\b"
)
_WEEKLY = re.compile(r"\b(?:weekly|once\s+a\s+week|every\s+week|each\s+week)\b")
_MONTHLY = re.compile(
    r"\b(?:monthly|once\s+a\s+month|every\s+month|each\s+month|of\s+(?:the|every|each)\s+month)\b"
)
_QUARTERLY = re.compile(
    r"\b(?:quarterly|every\s+quarter|each\s+quarter|once\s+a\s+quarter)\b(?!\s+(?:of\s+an\s+)?hour)"
)
_YEARLY = re.compile(r"\b(?:yearly|annually|every\s+year|each\s+year|once\s+a\s+year)\b")
_FLOW_NAMES = re.compile(r"\bnightly[\s_-]+(?:sales[\s_-]+)?export\b")

UNSUPPORTED = re.compile(
    rf"\blast\s+day\s+of\b|\b(?:first|second|third|fourth|last|1st|2nd|3rd|4th)\s+(?:{_DOW_ALT})s?\s+of\b|"
    r"\bevery\s+other\b|\bbi-?weekly\b|\bfortnightly\b|\bevery\s+(?:2|two)\s+weeks\b"
)


@dataclass
class ScheduleSpec:
    """What a schedule phrase says, before it becomes cron fields."""

    times: list[tuple[int, int]] = field(default_factory=list)
    minute_step: str | None = None
    hour_step: str | None = None
    hour_window: str | None = None
    minute_offset: int | None = None
    day_of_month: str = "*"
    month: str = "*"
    day_of_week: str = "*"
    has_calendar: bool = False
    impossible: bool = False


def mask_flow_names(folded: str) -> str:
    """Blank out flow names that sound like schedules ("nightly sales export" is a flow, not "daily")."""
    return mask(folded, [m.span() for m in _FLOW_NAMES.finditer(folded)])


_NAMED_HOURS = {"noon": 12, "midday": 12, "midnight": 24}  # "a quarter to midnight" is 23:45


def _hour_number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else _NAMED_HOURS.get(raw) or parse_number(raw)


def _daypart(after: str, folded: str) -> str | None:
    """Part of the day for a time: words right after it ("6 in the evening") first, then the sentence."""
    if local := _DAYPART.match(after):
        return local.group("a") or local.group("b") or "evening"
    if _EVENING.search(folded):
        return "evening"
    return "afternoon" if _AFTERNOON.search(folded) else None


def _adjust(hour: int, ap: str | None, part: str | None) -> int:
    ap = (ap or "").replace(".", "")
    if ap == "pm" and hour < 12:
        return hour + 12
    if ap == "am" and hour == 12:
        return 0
    if not ap or ap.endswith("clock"):
        if part in ("evening", "night") and 5 <= hour <= 11:
            return hour + 12
        if part == "afternoon" and 1 <= hour <= 6:
            return hour + 12
    return 0 if hour == 24 else hour


def parse_times(folded: str) -> list[tuple[int, int]] | None:
    """Collect clock times in order of appearance; None when one of them is not a valid time."""
    found: list[tuple[int, int, int]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (
        _T_PAST,
        _T_AND_Q,
        _T_DOT,
        _T_DOT_AMPM,
        _T_DOT_DAY,
        _T_DOT_PART,
        _T_HM,
        _T_PART,
        _T_EVERY_PART,
        _T_AMPM,
        _T_WEEKDAY_HOUR,
        _T_NAMED,
        _T_HOUR,
        _T_WORD_HOUR,
        _T_AT,
        _T_AND,
    ):
        for m in pattern.finditer(folded):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            # A bare "and 17" is a time only as the continuation of a list of times ("at 9 and 17").
            if pattern is _T_AND and not any(start < m.start() for start, _, _ in found):
                continue
            taken.append(m.span())
            groups = m.groupdict()
            if groups.get("w"):
                hour, minute = (0 if groups["w"] == "midnight" else 12), 0
            else:
                raw = _hour_number(groups["h"])
                if raw is None:
                    return None
                hour, minute = raw, int(groups.get("m") or 0)
                if groups.get("q"):
                    minute = {"half": 30, "quarter": 15}[groups["q"]]
                    if groups.get("dir") == "to":
                        hour, minute = hour - 1, 45
                if groups["h"] in _NAMED_HOURS:
                    hour %= 24  # a named hour is already the clock's: "quarter past midnight" is 00:15
                else:
                    hour = _adjust(hour, groups.get("ap"), _daypart(folded[m.end() : m.end() + 30], folded))
            if not (0 <= hour <= 23 and 0 <= minute <= 59):
                return None
            found.append((m.start(), hour, minute))
    return [(h, m) for _, h, m in sorted(found)]


def _days_of_week(folded: str) -> str | None:
    days: set[int] = set()
    if _WEEKDAYS.search(folded):
        days.update(range(1, 6))
    if _WEEKENDS.search(folded):
        days.update((0, 6))
    for m in _DOW_RANGE.finditer(folded):
        a, b = DOW[m.group("a")], DOW[m.group("b")]
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    for m in _DOW_ONE.finditer(mask(folded, [m.span() for m in _DOW_RANGE.finditer(folded)])):
        days.add(DOW[m.group("d")])
    if not days:
        return None
    ordered = sorted(days)
    if len(ordered) >= 3 and ordered[-1] - ordered[0] == len(ordered) - 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ",".join(str(d) for d in ordered)


def _days_of_month(folded: str, monthly: bool) -> str | None:
    days: list[int] = []
    on_the = _DOM_ON_THE.search(folded)
    # "on the 1st and 15th" names days of the month even without the word "month"; "on the 5" does not.
    of_month = _DOM_OF_MONTH.search(folded)
    listed = on_the.group("list") or on_the.group("list2") if on_the is not None else ""
    said = on_the if on_the is not None and (monthly or _ORDINAL.search(listed)) else of_month
    if said is not None:
        # "every month on 3rd day at 04:00", "on the 1st and the 15th"
        parts = re.split(
            r"\s*(?:,|\band\b|&)\s*(?:the\s+)?", listed if said is on_the else said.group("list")
        )
        days.extend(parse_daynum(p) or 0 for p in parts if p.strip())
    elif _MONTH_START.search(folded):
        days.append(1)
    if not days:
        return None
    return ",".join(str(d) for d in sorted(set(days)))


def _intervals(folded: str, spec: ScheduleSpec) -> None:
    if _EVERY_MIN.search(folded):
        spec.minute_step = "*"
    elif _QUARTER_HOUR.search(folded):
        spec.minute_step = "*/15"
    elif _HALF_HOUR.search(folded):
        spec.minute_step = "*/30"
    elif m := _EVERY_N_MIN.search(folded):
        n = _hour_number(m.group("n") or m.group("n2"))
        if n == 60:
            spec.hour_step = "*"
        elif n is not None and 1 <= n <= 59:
            spec.minute_step = "*" if n == 1 else f"*/{n}"
        elif n is not None:
            spec.impossible = True
    if spec.minute_step is None and spec.hour_step is None:
        if m := _EVERY_N_HOURS.search(folded):
            n = _hour_number(m.group("n") or m.group("n2"))
            if n is not None and 1 <= n <= 23:
                spec.hour_step = "*" if n == 1 else f"*/{n}"
            elif n is not None and n != 24:
                spec.impossible = True
        elif _HOURLY.search(folded):
            spec.hour_step = "*"
    if m := _MINUTE_OFFSET.search(folded):
        q = m.group("q")
        q = q or m.group("q2")
        spec.minute_offset = int(m.group("m") or m.group("m2") or {"quarter": 15, "half": 30}.get(q or "", 0))
    if (spec.minute_step or spec.hour_step) and (w := _HOUR_WINDOW.search(folded)):
        a = _adjust(int(w.group("a")), w.group("aap"), None)
        b = _adjust(int(w.group("b")), w.group("bap") or ("pm" if int(w.group("b")) < a else None), None)
        spec.hour_window = f"{a}-{b}"


def parse_schedule(folded: str) -> ScheduleSpec:
    """Read a folded schedule phrase into its parts.

    Args:
        folded: Folded text with flow names masked.

    Returns:
        The spec; ``impossible`` is set when the phrase asks for something cron cannot express.
    """
    spec = ScheduleSpec()
    _intervals(folded, spec)
    rest = folded
    if spec.hour_window:
        rest = mask(rest, [m.span() for m in _HOUR_WINDOW.finditer(rest)])
    for pattern in (_MINUTE_OFFSET, _EVERY_N_MIN, _EVERY_N_HOURS, _DOM_OF_MONTH, _DOM_ON_THE):
        rest = mask(rest, [m.span() for m in pattern.finditer(rest)])
    times = parse_times(rest)
    if times is None:
        spec.impossible = True
        return spec
    spec.times = times
    monthly = bool(_MONTHLY.search(folded) or _QUARTERLY.search(folded) or _YEARLY.search(folded))
    dom = _days_of_month(folded, monthly or "month" in folded)
    dow = _days_of_week(folded)
    if _QUARTERLY.search(folded):
        spec.month = "1,4,7,10"
    elif _YEARLY.search(folded):
        spec.month = "1"
    spec.day_of_month = dom or ("1" if monthly else "*")
    spec.day_of_week = dow or ("0" if _WEEKLY.search(folded) else "*")
    spec.has_calendar = bool(dom or dow or monthly or _WEEKLY.search(folded) or _DAILY.search(folded))
    return spec
