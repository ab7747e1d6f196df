"""Five-field cron expressions: validation, and extraction from phrases ("every monday at 9:30").

A schedule that names days but no time runs at midnight, as cron's own ``@daily``/``@weekly``/``@monthly``
macros do. Phrases standard cron cannot express ("last day of the month", "first monday of the month", "every
90 minutes", two different minutes) give None rather than an approximation.
"""

from __future__ import annotations

import re

from agent.backends.embedded.extract import cron_grammar as g
from agent.backends.embedded.extract.text import fold

_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    ),
    ("day-of-week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
)
MACROS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_FIELD_TOKEN = re.compile(r"^[0-9a-z*/,\-]+$")


def _value(token: str, field: tuple[str, int, int, dict[str, int]], raw: str) -> int:
    name, low, high, names = field
    if token.isdigit():
        value = int(token)
    elif token in names:
        value = names[token]
    else:
        raise ValueError(f"invalid {name} field {raw!r}: {token!r} is not a number")
    if not low <= value <= high:
        raise ValueError(f"invalid {name} field {raw!r}: {value} is outside {low}-{high}")
    return value


def _check_field(raw: str, field: tuple[str, int, int, dict[str, int]]) -> str:
    token = raw.lower()
    if not _FIELD_TOKEN.match(token):
        raise ValueError(
            f"invalid {field[0]} field {raw!r}: only digits, names, '*', ',', '-' and '/' are allowed"
        )
    for item in token.split(","):
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            raise ValueError(
                f"invalid {field[0]} field {raw!r}: the step after '/' must be a positive number"
            )
        if base == "*":
            continue
        if not base:
            raise ValueError(f"invalid {field[0]} field {raw!r}: empty value")
        first, dash, last = base.partition("-")
        start = _value(first, field, raw)
        if dash and _value(last, field, raw) < start:
            raise ValueError(f"invalid {field[0]} field {raw!r}: range {base!r} runs backwards")
    return token


def validate_cron(expr: str) -> str:
    """Check a 5-field cron expression and return it in canonical form (single spaces, lower-case names).

    ``@daily``-style macros are expanded to their five fields.

    Args:
        expr: The expression, e.g. "30  9 * * MON".

    Returns:
        The canonical expression, e.g. "30 9 * * mon".

    Raises:
        ValueError: With a message naming the bad field, when the expression is invalid.
    """
    if not isinstance(expr, str):
        raise ValueError("a cron expression must be text")
    stripped = expr.strip().lower()
    if stripped in MACROS:
        return MACROS[stripped]
    parts = stripped.split()
    if len(parts) != 5:
        raise ValueError(
            f"a cron expression needs 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(parts)}: {expr.strip()!r}"
        )
    return " ".join(_check_field(part, field) for part, field in zip(parts, _FIELDS, strict=True))


def _literal_cron(text: str) -> str | None:
    tokens = [t for t in re.split(r"[\s\"'`]+", text.strip()) if t]
    for token in tokens:
        if token.lower() in MACROS:
            return MACROS[token.lower()]
    for i in range(len(tokens) - 4):
        window = tokens[i : i + 5]
        if not any(ch.isdigit() or ch == "*" for ch in "".join(window)):
            continue
        try:
            return validate_cron(" ".join(window).rstrip(".;,"))  # "at 30 4 * * 1, Mondays"
        except ValueError:
            continue
    return None


_TYPOS = re.compile(r"\b(?:evry|eveyr|evey|everey|evrey)\b")
_DROPPED_G = re.compile(r"\b(morn|even)in'?(?!\w)")  # "8 in the mornin"


def _join_hours(hours: list[int]) -> str:
    return ",".join(str(h) for h in sorted(set(hours)))


# A message that is only a time ("6 then", "no wait, 7am instead"): a follow-up moving a schedule's hour.
_BARE_TIME = re.compile(
    r"^\W*(?:(?:no|nope|wait|sorry|actually|oops|make\s+it|at)\W+)*(\d{1,2}(?::\d{2})?\s*(?:am|pm|h)?)"
    r"\W*(?:then|instead|please|pls|o'?clock)?\W*$",
    re.I,
)


# Four-digit clock times: "at 0200", "0630 hours".
_MILITARY = re.compile(
    r"\b(?:at\s+)?([01]\d|2[0-3])([0-5]\d)(?:\s*(?:hours|hrs|h))?\b(?=\W*(?:$|,|\.|over|utc|daily|every|on))",
    re.I,
)


# British "half eleven" is half past eleven.
_HALF_HOUR = re.compile(
    r"\bhalf\s+(?!past\b)(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})\b", re.I
)


def _schedule(text: str) -> tuple[str | None, bool, bool]:
    """The cron for a phrase, and whether the phrase names a time of day and whether it names days."""
    if bare := _BARE_TIME.match(text):
        text = f"at {bare.group(1)}"
    text = _HALF_HOUR.sub(r"half past \1", _MILITARY.sub(r"at \1:\2", text))
    literal = _literal_cron(text)
    if literal is not None:
        return literal, True, True
    folded = g.mask_flow_names(_DROPPED_G.sub(r"\1ing", _TYPOS.sub("every", fold(text))))
    if g.UNSUPPORTED.search(folded):
        return None, False, False
    spec = g.parse_schedule(folded)
    if spec.impossible:
        return None, False, False
    names_time = bool(spec.times) or spec.minute_step is not None or spec.hour_step is not None
    if spec.minute_step is not None:
        minute, hour = spec.minute_step, spec.hour_window or "*"
    elif spec.hour_step is not None:
        minute = str(spec.minute_offset if spec.minute_offset is not None else 0)
        hour = spec.hour_step if spec.hour_window is None else f"{spec.hour_window}{spec.hour_step[1:]}"
    elif spec.times:
        minutes = {m for _, m in spec.times}
        if len(minutes) > 1:
            return None, False, False
        minute, hour = str(minutes.pop()), _join_hours([h for h, _ in spec.times])
    elif spec.has_calendar:
        minute, hour = "0", "0"
    else:
        return None, False, False
    try:
        cron = validate_cron(f"{minute} {hour} {spec.day_of_month} {spec.month} {spec.day_of_week}")
    except ValueError:
        return None, False, False
    return cron, names_time, spec.has_calendar


def extract_cron(text: str) -> str | None:
    """Turn a schedule phrase, or a literal cron expression inside the text, into a canonical 5-field cron.

    Args:
        text: E.g. "every weekday at 6pm", "first of the month at 7", "every 15 minutes", "cron 0 6 * * *".

    Returns:
        The cron expression, or None when the text holds no schedule or one cron cannot express.
    """
    return _schedule(text)[0]


def revise_cron(previous: str, text: str) -> str | None:
    """Apply a change of schedule to an earlier cron expression, keeping what the change does not mention.

    A change that names only days keeps the earlier time of day ("only on weekdays" after "every monday at
    9:30" gives "30 9 * * 1-5"), and one that names only a time keeps the earlier days ("at 7 instead" after
    the same gives "0 7 * * 1"). Without the merge, the midnight default of a time-less phrase would silently
    replace the time the operator had set.

    Args:
        previous: The cron expression of the call being changed.
        text: The follow-up message.

    Returns:
        The revised cron expression, or None when the text holds no schedule (see :func:`extract_cron`).
    """
    cron, names_time, names_days = _schedule(text)
    if cron is None or names_time == names_days:
        return cron
    try:
        old = validate_cron(previous).split()
    except ValueError:
        return cron
    new = cron.split()
    fields = [*new[:2], *old[2:]] if names_time else [*old[:2], *new[2:]]
    return validate_cron(" ".join(fields))
