"""Period grammar for phrases that name calendar dates: ranges, "since ...", single days.

Each matcher takes folded, typo-corrected text plus the reference date and returns a canonical explicit range
("YYYY-MM-DD..YYYY-MM-DD") or None. A day and month without a year mean the most recent such day not after
today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from agent.backends.embedded.extract.dates import (
    MONTHS,
    WEEKDAYS,
    format_range,
    quarter_of,
    quarter_range,
    safe_date,
    shift_months,
    week_start,
)

_ORDINAL_WORDS: dict[str, int] = {
    w: i + 1
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth "
        "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
    )
}
_ORDINAL_WORDS.update({f"twenty {w}": 20 + v for w, v in list(_ORDINAL_WORDS.items())[:9]})
_ORDINAL_WORDS.update({"thirtieth": 30, "thirty first": 31})

_ORD_ALT = "|".join(
    re.escape(w).replace(r"\ ", r"[\s-]") for w in sorted(_ORDINAL_WORDS, key=len, reverse=True)
)
MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAY_ALT = "|".join(WEEKDAYS)
MON = rf"\b(?:{MONTH_ALT})\b\.?"
DAYNUM = rf"(?:(?<!\d)\d{{1,2}}(?:st|nd|rd|th)?\b|\b(?:{_ORD_ALT})\b)"
DAY = rf"(?:the\s+)?{DAYNUM}"
YEAR = r"\b(?:19|20)\d{2}\b"
ISO = r"\b\d{4}[-/]\d{1,2}[-/]\d{1,2}\b"
DATE = rf"(?:{ISO}|{DAY}\s+(?:of\s+)?{MON}(?:\s*,?\s*{YEAR})?|{MON}\s+{DAY}(?:\s*,?\s*{YEAR})?)"
_TO = r"\s*(?:to|until|till|through|thru|and|-|\.\.)\s*"
_NOW = r"(?:today|now|date|the\s+present)"

_END_OF_MONTH = re.compile(rf"({_TO})(?:the\s+)?end\s+of\s+(?P<m>{MON})")
_FULL_RANGE = re.compile(rf"(?:\b(?:from|between)\s+)?(?P<a>{DATE}){_TO}(?P<b>{DATE}|{_NOW}\b)")
_DAYS_THEN_MONTH = re.compile(
    rf"(?:\b(?:from|between)\s+)?(?:the\s+)?(?P<d1>{DAYNUM}){_TO}(?:the\s+)?(?P<d2>{DAYNUM})\s+(?:of\s+)?"
    rf"(?P<m>{MON})(?:\s*,?\s*(?P<y>{YEAR}))?"
)
_MONTH_THEN_DAYS = re.compile(
    rf"(?P<m>{MON})\s+(?:the\s+)?(?P<d1>{DAYNUM}){_TO}(?:the\s+)?(?P<d2>{DAYNUM})(?!\s*(?:of\s+)?(?:{MONTH_ALT})\b)"
    rf"(?:\s*,?\s*(?P<y>{YEAR}))?"
)
_DAYS_ONLY = re.compile(rf"\b(?:from|between)\s+the\s+(?P<d1>{DAYNUM}){_TO}(?:the\s+)?(?P<d2>{DAYNUM})")
_SINCE = r"\b(?:since|from|after|starting(?:\s+(?:from|on))?|as\s+of|beginning)\s+"
_SINCE_DATE = re.compile(rf"{_SINCE}(?P<a>{DATE})")
_SINCE_WEEKDAY = re.compile(rf"{_SINCE}(?P<last>last\s+)?(?P<w>{WEEKDAY_ALT})\b")
_SINCE_STRICT_RELATIVE = r"\b(?:since|after|starting(?:\s+(?:from|on))?|as\s+of|beginning)\s+"
# "from last week" means "of last week", and "orders from yesterday" are yesterday's; only a clear "since last
# week", "since yesterday" or "from yesterday on" is open-ended.
_SINCE_RELATIVE = re.compile(
    rf"(?:{_SINCE_STRICT_RELATIVE}(?P<yday>yesterday)|\bfrom\s+(?P<yday_on>yesterday)\s+(?:on(?:wards?)?|to|until|till)\b)|"
    rf"{_SINCE}(?:(?:the\s+)?(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?(?P<cur>week|month|quarter|year))"
    rf"|{_SINCE_STRICT_RELATIVE}(?:the\s+(?:start|beginning)\s+of\s+(?:the\s+)?)?(?:last|previous)\s+"
    rf"(?P<prev>week|month|quarter|year)\b"
)
# "from september" usually means "of september", so whole months, quarters and years need a clearer "since".
_SINCE_STRICT = r"\b(?:since|after|starting(?:\s+(?:from|on|in))?|as\s+of|beginning)\s+"
_SINCE_MONTH = re.compile(rf"{_SINCE_STRICT}(?P<m>{MON})(?:\s*,?\s*(?P<y>{YEAR}))?")
# "since the start of October", "from mid-October": the part of the month says which day it starts on.
_SINCE_MONTH_PART = re.compile(
    rf"{_SINCE}(?:the\s+)?(?P<part>start|beginning|early|middle|mid|end|late)(?:\s+of|-)?\s*(?:the\s+month\s+of\s+)?"
    rf"(?P<m>{MON})(?:\s*,?\s*(?P<y>{YEAR}))?"
)
_SINCE_QUARTER = re.compile(
    rf"{_SINCE_STRICT}(?:the\s+(?:start|beginning)\s+of\s+)?q(?P<q>[1-4])\b(?:\s*(?P<y>{YEAR}))?"
)
_SINCE_YEAR = re.compile(rf"{_SINCE_STRICT}(?:the\s+start\s+of\s+)?(?P<y>{YEAR})(?![-/]\d)")
# "since the 3rd" is a day of this month; "from the third quarter" or "the second week" is not.
_SINCE_DAY = re.compile(
    rf"{_SINCE}(?:the\s+)(?P<d>{DAYNUM})(?!\s*(?:of\s+)?(?:{MONTH_ALT})\b)"
    r"(?!\s+(?:quarter|half|week|month|year|fiscal|term|period)\b)"
)
# "now the 16th to today": this month's day up to now; "since the season opened on the 1st of September".
_DAY_TO_NOW = re.compile(rf"\bthe\s+(?P<d>{DAYNUM}){_TO}{_NOW}\b")
_SINCE_EVENT = re.compile(rf"\bsince\s+(?:[a-z']+\s+){{1,5}}?(?:on|in)\s+(?P<a>{DATE})")
_SINGLE = re.compile(rf"(?P<a>{DATE})")
_ISO_PARTS = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_MON_ONLY = re.compile(MON)
_YEAR_ONLY = re.compile(YEAR)

DayMonthYear = tuple[int, int, int | None]


# Day-first numeric dates, as most of Europe writes them: "01.09.2026", "from 16.11 until 20.11". Without a year
# only in a range after "from" or "between", or after "since", where a decimal or a time ("16.30") cannot stand.
_DOTTED = r"(?<![\d.])(?P<{0}d>\d{{1,2}})\.(?P<{0}m>\d{{2}}|\d(?=\.))"  # "16.11", "1.9." (not "2.5")
_DOTTED_YEAR = re.compile(_DOTTED.format("a") + r"\.(?P<ay>(?:19|20)\d{2})(?![\d])")
_UNIT = r"(?:eur|usd|gbp|ron|chf|kg|k|pcs|units?|pieces|tonnes?|%|€|\$)"  # "between 2.10 and 2.12 eur"
_DOTTED_PAIR = re.compile(
    rf"\b(?:from|between)\s+{_DOTTED.format('a')}\.?(?P<to>{_TO}){_DOTTED.format('b')}\.?(?![\w%]|\s*{_UNIT}\b)"
)
_DOTTED_SINCE = re.compile(rf"(?P<since>{_SINCE})" + _DOTTED.format("a") + r"\.?(?![\d])")
# "01-Jul-2026", "30/Sep/26": a day, a month's name and a year joined by dashes or slashes.
_DASHED = re.compile(rf"(?<![\w-])(\d{{1,2}})[-/]({MONTH_ALT})\.?[-/]((?:19|20)?\d{{2}})(?![\w-])")
_MONTH_NAMES = [name for name, _ in sorted(MONTHS.items(), key=lambda kv: kv[1]) if len(name) > 3]


def _spelled(day: str, month: str, year: str = "") -> str | None:
    d, m = int(day), int(month)
    if not (1 <= d <= 31 and 1 <= m <= 12):
        return None
    return f"{d} {_MONTH_NAMES[m - 1]}{' ' + year if year else ''}"


def spell_numeric_dates(text: str) -> str:
    """``text`` with day-first numeric dates spelled out ("16.11" -> "16 november", "01-Jul-2026" -> "01 jul 2026")."""

    def pair(m: re.Match[str]) -> str:
        a, b = _spelled(m["ad"], m["am"]), _spelled(m["bd"], m["bm"])
        return f"from {a}{m['to']}{b}" if a and b else m.group()

    text = _DASHED.sub(lambda m: f"{m[1]} {m[2]} {m[3] if len(m[3]) == 4 else '20' + m[3]}", text)
    text = _DOTTED_YEAR.sub(lambda m: _spelled(m["ad"], m["am"], m["ay"]) or m.group(), text)
    text = _DOTTED_PAIR.sub(pair, text)
    return _DOTTED_SINCE.sub(
        lambda m: m["since"] + (_spelled(m["ad"], m["am"]) or m.group()[len(m["since"]) :]), text
    )


def parse_daynum(text: str) -> int | None:
    """Parse a day of the month written as "15", "15th" or "fifteenth"."""
    text = re.sub(r"^the\s+", "", text.strip())
    digits = re.match(r"(\d{1,2})", text)
    if digits:
        value = int(digits.group(1))
    else:
        value = _ORDINAL_WORDS.get(re.sub(r"[\s-]+", " ", text), 0)
    return value if 1 <= value <= 31 else None


def _last_day(month: int, year: int) -> int:
    return ((date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)).day


def month_number(text: str) -> int:
    """Return the month number of a month name or abbreviation (with an optional trailing dot)."""
    return MONTHS[text.strip().rstrip(".")]


def parse_date_text(text: str) -> DayMonthYear | None:
    """Split a matched date phrase ("1 Nov", "November 1st, 2025", "2026-03-01") into day, month and year."""
    iso = _ISO_PARTS.fullmatch(text.strip())
    if iso:
        return int(iso.group(3)), int(iso.group(2)), int(iso.group(1))
    mon = _MON_ONLY.search(text)
    if mon is None:
        return None
    year_m = _YEAR_ONLY.search(text)
    rest = (text[: mon.start()] + " " + text[mon.end() :]).replace(year_m.group() if year_m else "\0", " ")
    rest = re.sub(r"\b(?:of|the)\b|,", " ", rest).strip()
    day = parse_daynum(rest)
    if day is None:
        return None
    return day, month_number(mon.group()), int(year_m.group()) if year_m else None


def latest_on_or_before(day: int, month: int, today: date) -> date | None:
    """Return the most recent existing ``day``/``month`` that is not after ``today``."""
    for year in range(today.year, today.year - 9, -1):
        candidate = safe_date(year, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


def _resolve(dmy: DayMonthYear, today: date) -> date | None:
    day, month, year = dmy
    return safe_date(year, month, day) if year is not None else latest_on_or_before(day, month, today)


def build_range(first: DayMonthYear, last: DayMonthYear, today: date) -> str | None:
    """Turn two partial dates into an explicit range, inferring missing years from each other and today."""
    (d1, m1, y1), (d2, m2, y2) = first, last
    if y1 is None and y2 is not None:
        end = safe_date(y2, m2, d2)
        start = safe_date(y2, m1, d1)
        if start is not None and end is not None and start > end:
            start = safe_date(y2 - 1, m1, d1)
    else:
        start = _resolve(first, today)
        end = None
        if start is not None:
            end = safe_date(y2 if y2 is not None else start.year, m2, d2)
            if y2 is None and end is not None and end < start:
                end = safe_date(start.year + 1, m2, d2)
    if start is None or end is None:
        return None
    return format_range(start, end)


def match_full_range(text: str, today: date) -> str | None:
    """Match "from 2026-03-01 to 2026-03-15", "1 march - 15 april", "since 1 nov to today"."""
    # "from June first through the end of September": the month's last day
    text = _END_OF_MONTH.sub(lambda m: f"{m[1]}{_last_day(month_number(m['m']), today.year)} {m['m']}", text)
    for m in _FULL_RANGE.finditer(text):
        first = parse_date_text(m.group("a"))
        if first is None:
            continue
        if re.fullmatch(_NOW, m.group("b")):
            start = _resolve(first, today)
            return format_range(start, today) if start is not None and start <= today else None
        last = parse_date_text(m.group("b"))
        if last is not None:
            return build_range(first, last, today)
    return None


def match_partial_range(text: str, today: date) -> str | None:
    """Match "between 1 and 15 March", "march 1-15", "from the 1st to the 15th" (this month)."""
    for pattern in (_DAYS_THEN_MONTH, _MONTH_THEN_DAYS):
        m = pattern.search(text)
        if m is None:
            continue
        d1, d2 = parse_daynum(m.group("d1")), parse_daynum(m.group("d2"))
        year = int(m.group("y")) if m.group("y") else None
        if d1 is not None and d2 is not None:
            month = month_number(m.group("m"))
            return build_range((d1, month, year), (d2, month, year), today)
    m = _DAYS_ONLY.search(text)
    if m is None:
        return None
    d1, d2 = parse_daynum(m.group("d1")), parse_daynum(m.group("d2"))
    if d1 is None or d2 is None:
        return None
    anchor = today if d1 <= today.day else today.replace(day=1) - timedelta(days=1)
    return build_range((d1, anchor.month, anchor.year), (d2, anchor.month, anchor.year), today)


def _period_start(unit: str, today: date, *, previous: bool) -> date:
    if unit == "week":
        return week_start(today) - timedelta(days=7 if previous else 0)
    if unit == "month":
        return shift_months(today.replace(day=1), -1 if previous else 0)
    if unit == "quarter":
        start, _ = quarter_range(today.year, quarter_of(today))
        return shift_months(start, -3 if previous else 0)
    return date(today.year - (1 if previous else 0), 1, 1)


def match_since(text: str, today: date) -> str | None:
    """Match open-ended ranges up to today: "since 1 Nov", "since monday", "since Q3", "since 2025"."""
    start: date | None = None
    if m := _SINCE_DATE.search(text) or _SINCE_EVENT.search(text):
        dmy = parse_date_text(m.group("a"))
        start = _resolve(dmy, today) if dmy else None
    elif m := _SINCE_WEEKDAY.search(text):
        back = (today.weekday() - WEEKDAYS[m.group("w")]) % 7
        start = today - timedelta(days=back or (7 if m.group("last") else 0))
    elif m := _SINCE_RELATIVE.search(text):
        if m.group("yday") or m.group("yday_on"):
            start = today - timedelta(days=1)
        elif m.group("cur") and m.group("cur") != "year":
            return f"this_{m.group('cur')}"
        else:
            start = _period_start(m.group("cur") or m.group("prev"), today, previous=bool(m.group("prev")))
    elif m := _SINCE_MONTH_PART.search(text):
        first = _resolve((1, month_number(m.group("m")), int(m.group("y")) if m.group("y") else None), today)
        part = m.group("part")
        if first is not None and part in ("middle", "mid"):
            first = first.replace(day=15)
        elif first is not None and part in ("end", "late"):
            first = shift_months(first, 1) - timedelta(days=1)
        start = first
    elif m := _SINCE_QUARTER.search(text):
        q = int(m.group("q"))
        year = int(m.group("y")) if m.group("y") else today.year
        start = quarter_range(year, q)[0]
        if start > today and not m.group("y"):
            start = quarter_range(year - 1, q)[0]
    elif m := _SINCE_MONTH.search(text):
        month = month_number(m.group("m"))
        start = _resolve((1, month, int(m.group("y")) if m.group("y") else None), today)
    elif m := _SINCE_YEAR.search(text):
        start = date(int(m.group("y")), 1, 1)
    elif m := _SINCE_DAY.search(text) or _DAY_TO_NOW.search(text):
        day = parse_daynum(m.group("d"))
        anchor = today if day is not None and day <= today.day else today.replace(day=1) - timedelta(days=1)
        start = safe_date(anchor.year, anchor.month, day) if day is not None else None
    if start is None or start > today:
        return None
    return format_range(start, today)


def match_single_date(text: str, today: date) -> str | None:
    """Match one named day ("on 3 March", "2026-03-01", "november 1st") as a one-day range."""
    for m in _SINGLE.finditer(text):
        dmy = parse_date_text(m.group("a"))
        day = _resolve(dmy, today) if dmy else None
        if day is not None:
            return format_range(day, day)
    return None
