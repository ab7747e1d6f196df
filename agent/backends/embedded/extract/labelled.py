"""Arguments written as labels: "limit=1", "period: last_90_days", "recipient=123456789", "format dat".

Testers and engineers write them so. A label names the argument outright, so its value wins over whatever the
prose around it suggests (a defaulted limit, a period read from elsewhere). Only values the argument accepts count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.backends.embedded.extract.ids import UNIT_AFTER
from agent.backends.embedded.extract.schema import PropertySpec
from agent.backends.embedded.extract.text import is_negated
from core.periods import canonical_period

ArgValue = str | int | bool

_VALUE = r"(?P<value>\"[^\"]{1,200}\"|'[^']{1,200}'|\d{1,3}(?:,\d{3})+(?!\d)|[\w@.+:/\-]+)"
# "limit=1", "period: last_7_days", "qty = 200"; a bare space only before a value that is plainly a keyword
# ("format dat, period last_week"), so prose ("the period before") is never a label.
_LABELLED = re.compile(
    rf"(?<![\w-])(?P<key>[a-z][a-z_]{{1,15}})(?P<sep>\s*[=:]|\s+(?:must|should)\s+be|\s+is)\s*{_VALUE}", re.I
)
_SPACED = re.compile(rf"(?<![\w-])(?P<key>[a-z][a-z_]{{1,15}})\s+{_VALUE}", re.I)
_ALIASES = {
    "qty": "quantity",
    "client": "client_id",
    "customer": "client_id",
    "sku": "product",
    "text": "message",
    "msg": "message",
    "to": "recipient",
    "run": "run_id",
    "dryrun": "dry_run",
}
_PROSE = frozenset({"message", "query", "cron"})
# "customer 1042" and "run 57" without "=" or ":" are the id extractors' (ids.py), which know "customer 100 units".
_IDS = frozenset({"client_id", "run_id"})
_END = re.compile(r"\s*(?:$|[,;|)]|\.\s*$)")
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


def _typed(raw: str, spec: PropertySpec, *, strict: bool) -> ArgValue | None:
    value = raw.strip("\"'").rstrip(".")
    folded = value.casefold()
    if spec.enum:
        return folded if folded in spec.enum else None
    if spec.type == "integer":
        digits = value.replace(",", "")
        return int(digits) if digits.isdigit() else None
    if spec.type == "boolean":
        return True if folded in _TRUE else False if folded in _FALSE else None
    if spec.name == "period":
        try:
            period = canonical_period(value)
        except ValueError:
            return None
        return period if "_" in period or ".." in period or not strict else None
    # Free text follows a bare word only when quoted; a message or a query is more than a word.
    return None if strict or spec.name in _PROSE else value or None


def labelled_values(text: str, specs: Sequence[PropertySpec]) -> dict[str, ArgValue]:
    """The arguments ``text`` gives by label, by name or by a common alias ("qty", "text", "to")."""
    by_name = {spec.name: spec for spec in specs}
    found: dict[str, ArgValue] = {}
    for pattern, strict in ((_SPACED, True), (_LABELLED, False)):
        for match in pattern.finditer(text):
            key = match["key"].casefold()
            name = key if key in by_name else _ALIASES.get(key)
            if name is None or name not in by_name:
                continue
            if is_negated(text.casefold(), match.start(), match.end()):
                continue  # "mode replace is not wanted, only append"
            quoted = match["value"][:1] in "\"'"
            spec = by_name[name]
            if not (
                quoted or spec.enum or spec.type in ("integer", "boolean") or _END.match(text, match.end())
            ):
                continue  # "to: the finance team": a free value is all of what follows the label, or quoted
            if name in _IDS and (strict or UNIT_AFTER.match(text[match.end() :].casefold())):
                continue  # "quote for this client: 200 pieces D200": a count, the client is the thread's
            value = _typed(match["value"], spec, strict=strict and not quoted)
            if value is not None:
                found[name] = value
    return found
