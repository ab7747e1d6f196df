"""Identifiers and counts: customer ids, run ids, order quantities, "top N" limits and product SKUs."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from rapidfuzz.distance import DamerauLevenshtein

from agent.backends.embedded.extract.numbers import ExtractedNumber, extract_numbers
from agent.backends.embedded.extract.text import fold, overlaps, phrase_pattern

# "account ref. 1264", "run reference 1187", "customer master 1053" (an ERP's word for the record)
_ID_TAIL = (
    r"(?:[\s_-]*(?:id|no\.?|n[°º]|number|num|nr|ref\.?|reference|master)(?:\s+is)?)?\s*[:#=]?\s*#?\s*"
    r"(?P<n>\d{1,9})(?![\w-]|[.:/,]\d)"
)
# "the customer with id 1333", "client whose number is 1042": the id word is required after "with".
_ID_WITH = r"(?:\s+(?:with|having|whose|under|of)(?:\s+(?:the|an?))?\s+(?:id|no\.?|number|num|nr|code|identifier|identification(?:\s+number)?)(?:\s+(?:is|of))?)?"
# "party" is a customer in Indian business English; "client code 1404" names one too.
_CLIENT = re.compile(
    rf"\b(?:client|cliente|customer|cust|acct|account|company|party)s?(?:\s+code)?{_ID_WITH}{_ID_TAIL}"
    # "kindly quote for this customer 100 units of E-10": a count, not an id
    r"(?!\s+(?:units?|pcs|pieces?|boxes|cases?|pallets?|cartons?|items?|bags?|rolls?)\b)"
)
_RUN = re.compile(rf"\b(?:run|job|execution|build|attempt){_ID_TAIL}")
_RUN_VERB = re.compile(
    r"\b(?:retry|rerun|re-run|restart|resume|relaunch)\s+(?:it\s+)?#?\s*(?P<n>\d{1,9})\b(?![-:/.]\d)"
)
_ID_LEAD = r"(?:[\s_-]*(?:id|no\.?|number|num|nr))?\s*[:#=]?\s*#?\s*$"
_CLIENT_BEFORE = re.compile(rf"\b(?:client|customer|cust|acct|account|party)s?(?:\s+code)?{_ID_LEAD}")
_RUN_BEFORE = re.compile(rf"\b(?:run|job|execution|retry|rerun){_ID_LEAD}")
_HASH = re.compile(r"(?<![\w#])#\s?(?P<n>\d{1,9})\b")
_TIME_UNIT = re.compile(
    r"^\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock|h(?![-\w])|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|weeks?|months?|"
    r"quarters?|years?|%|percent|st|nd|rd|th)\b"
)
UNIT_AFTER = re.compile(
    r"^\s*(?:units?|pcs|pc\b|pieces?|x\b|boxes|box|cases?|items?|pallets?|cartons?|packs?|packets?|each|ea\b|"
    r"rolls?\b|pairs?\b|sets?\b|kits?\b|bags?\b|reels?\b|bottles?\b|tubes?\b|cans?\b|sheets?\b|crates?\b|"
    r"dozens?\b|lots?\b|bundles?\b|of\b|more\b|off\b)"
)
_QTY_BEFORE = re.compile(r"(?:\bqty|\bquantity|\bx|×|\bcount|\bamount)\s*(?:of\s*)?[:=]?\s*$")
# "500 x", "x 7", "1,500 x E100X" (a thousands comma is part of the count).
_QTY_GLUED = re.compile(
    r"(?<![\w,.-])(?:(?P<a>\d{1,3}(?:,\d{3})+|\d{1,6})\s*[x×]|[x×]\s*(?P<b>\d{1,3}(?:,\d{3})+|\d{1,6}))(?![\w-])"
)
_NOT_QTY_BEFORE = re.compile(r"(?:\bat|\bsince|\blast|\bpast|\bnext|\btop|\bfirst|\bon|\bq|#)\s*$")
# Another system's number is no count or id of ours, whatever follows it: "row 14 of my sheet", "ticket 8890".
_OTHER_NUMBER_BEFORE = re.compile(
    r"\b(?:ticket|case|incident|row|line|page|tab|sheet|step|ref(?:erence)?|invoice|po)\s*(?:no\.?|nr|number)?"
    r"\s*[#:]?\s*$"
)
_LIMIT_BEFORE = re.compile(
    r"(?:\btop|\bfirst|\bbest|\bbiggest|\blargest|\bbottom|\bworst|\bhighest|\blimit(?:\s+(?:to|of|it\s+to))?|"
    r"\bonly|\bjust)(?:\s+the)?\s*$"
)
# "the 3 first", as a French or Spanish speaker says it.
_LIMIT_AFTER = re.compile(
    r"^\s*(?:top|biggest|largest|best|highest|worst|first\b(?!-)|rows|lines|entries|results)\b"
)
_SKU = re.compile(r"(?<![\w-])(?P<l>[A-Za-z]{1,3})(?P<h>-?)(?P<d>\d{2,5})(?P<t>[A-Za-z]{0,2})(?![\w-])")
# "x" is a count ("A100X x500"), unless the catalogue has such a code.
_NOT_SKU_PREFIX = frozenset("q h fy cy wk no id nr top run job at am pm utc gmt v x".split())
# A code that names another document is no product: "PO ref QA-4471", "NCR NC-2210", "batch BT-77".
_LABELLED = re.compile(
    r"\b(?:ref|reference|po|ticket|ncr|case|invoice|inv|batch|serial|awb|tracking)\.?\s*(?:no\.?|number)?\s*[#:]?\s*$",
    re.I,
)
_A_BEFORE_SKU = re.compile(r"\b(?:a|an|single)\s+$")


def _id_from(patterns: Sequence[re.Pattern[str]], before: re.Pattern[str], text: str) -> int | None:
    folded = fold(text)
    for pattern in patterns:
        m = pattern.search(folded)
        if m:
            return int(m.group("n"))
    # Ids spelled out ("run fifty seven") are rare but cheap to support.
    for number in extract_numbers(text):
        if before.search(folded[: number.span[0]]) and not UNIT_AFTER.match(folded[number.span[1] :]):
            return number.value
    return None


# "number 64." ends a sentence; "6.5" is no id.
_BARE_NUMBER = re.compile(r"(?<![\w.-])#?(\d{1,9})(?![\w-]|\.\d)")


def bare_numbers(text: str) -> list[str]:
    """The numbers in ``text`` that could be one of our ids, each once: not "6.5", nor "ticket 8890" or "row 14"."""
    found = (m[1] for m in _BARE_NUMBER.finditer(text) if not owned_elsewhere(text[: m.start()]))
    return list(dict.fromkeys(found))  # "that 518 one ... give 518 another go" names one run


def owned_elsewhere(before: str) -> bool:
    """Whether the number after ``before`` belongs to another system ("ticket 8890", "row 14")."""
    return _OTHER_NUMBER_BEFORE.search(fold(before)) is not None


def client_id_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans of every "client 1042"-style mention, so other extractors can skip those digits."""
    return [m.span() for m in _CLIENT.finditer(fold(text))]


def run_id_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans of every "run 57"-style mention."""
    folded = fold(text)
    return [m.span() for p in (_RUN, _RUN_VERB) for m in p.finditer(folded)]


def extract_client_id(text: str) -> int | None:
    """Find a customer id written as "client 1042", "customer #1042", "acct 1042" or "account no. 1042".

    Args:
        text: Free text.

    Returns:
        The id, or None when no id is tied to a customer word.
    """
    return _id_from((_CLIENT,), _CLIENT_BEFORE, text)


def extract_run_id(text: str) -> int | None:
    """Find a run id written as "run 57", "run #57", "job 57", "retry 57" or a lone "#57".

    Args:
        text: Free text.

    Returns:
        The id, or None (e.g. "the latest run").
    """
    found = _id_from((_RUN, _RUN_VERB), _RUN_BEFORE, text)
    if found is not None:
        return found
    folded = fold(text)
    for m in _HASH.finditer(folded):
        if not overlaps(m.span(), client_id_spans(text)):
            return int(m.group("n"))
    return None


def extract_limit(text: str) -> int | None:
    """Find a row limit: "top 5", "top five", "first 20", "the 10 biggest", "limit to 3".

    Args:
        text: Free text.

    Returns:
        The limit, or None when the text asks for no particular number.
    """
    folded = fold(text)
    glued = re.search(r"\btop(\d{1,4})\b", folded)
    if glued:
        return int(glued.group(1))
    for number in extract_numbers(text):
        start, end = number.span
        if _TIME_UNIT.match(folded[end:]):
            continue
        if _LIMIT_BEFORE.search(folded[:start]) or _LIMIT_AFTER.match(folded[end:]):
            return number.value
    return None


def _goods_pattern(products: Sequence[str]) -> re.Pattern[str] | None:
    """Words of the catalogue's product names, plurals included, as they may follow a count."""
    words = {w for name in products for w in re.findall(r"[a-z]{3,}", fold(name))}
    if not words:
        return None
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"^\s*(?:of\s+(?:the\s+)?)?(?:{alternatives})(?:e?s)?\b")


class _Counted:
    """What makes a number a count of goods: a unit, a SKU or a product's name right after it."""

    def __init__(self, text: str, known: Sequence[str] | None, products: Sequence[str] | None) -> None:
        self.folded = fold(text)
        keys = {sku_key(k) for k in known or ()}
        self.sku_starts = {m.start() for m in _SKU.finditer(text) if _is_sku_token(m, keys)}
        self.goods = _goods_pattern(products or ())

    def explicit(self, number: ExtractedNumber) -> bool:
        """Said to be a count: "qty 75", "75 units"."""
        start, end = number.span
        return bool(UNIT_AFTER.match(self.folded[end:]) or _QTY_BEFORE.search(self.folded[:start]))

    def strong(self, number: ExtractedNumber) -> bool:
        end = number.span[1]
        return bool(
            self.explicit(number)
            or _next_word_start(self.folded, end) in self.sku_starts
            or (self.goods is not None and self.goods.match(self.folded[end:]))
        )

    def stated_elsewhere(self, numbers: Sequence[ExtractedNumber]) -> bool:
        """Whether the count is said outright ("qty 75", "x300"), so a number before a SKU is no count."""
        return any(self.explicit(n) for n in numbers) or _QTY_GLUED.search(self.folded) is not None


def _quantity_candidates(text: str, counted: _Counted) -> list[ExtractedNumber]:
    folded = counted.folded
    excluded = client_id_spans(text) + run_id_spans(text)
    kept: list[ExtractedNumber] = []
    for number in extract_numbers(text):
        start, end = number.span
        if overlaps(number.span, excluded) or _TIME_UNIT.match(folded[end:]):
            continue
        if owned_elsewhere(folded[:start]):
            continue
        # "a quote on 90 A250X", "re-price it at 1,500 units": a count of goods, whatever comes before it.
        if not counted.strong(number) and (
            _NOT_QTY_BEFORE.search(folded[:start]) or _LIMIT_BEFORE.search(folded[:start])
        ):
            continue
        if re.fullmatch(r"(?:19|20)\d\d", folded[start:end]) and not UNIT_AFTER.match(folded[end:]):
            continue  # a year, not a count
        kept.append(number)
    return kept


def extract_quantity(
    text: str, *, known: Sequence[str] | None = None, products: Sequence[str] | None = None
) -> int | None:
    """Find an order quantity: "12 A100X", "twelve units", "qty 5", "5x", "a dozen", "an A100X" (1).

    Ids ("client 1042", "run 57"), times, periods, limits and years are not quantities.

    Args:
        text: Free text.
        known: Catalogue SKUs, so a code like "H100X" counts as a SKU after a number.
        products: Catalogue product names, so "on 300 epoxy resin" is a count of goods.

    Returns:
        The quantity, or None when there is none or several equally plausible ones.
    """
    folded = fold(text)
    glued = _QTY_GLUED.search(folded)
    if glued:
        return int((glued.group("a") or glued.group("b")).replace(",", ""))
    counted = _Counted(text, known, products)
    candidates = _quantity_candidates(text, counted)
    # "create_order 1119 B-55 qty 75": the count said outright beats a number that merely precedes the SKU.
    strong = [n for n in candidates if counted.explicit(n)] or [n for n in candidates if counted.strong(n)]
    if strong:
        return strong[0].value
    if len({n.value for n in candidates}) == 1:
        return candidates[0].value
    if not candidates and any(_A_BEFORE_SKU.search(folded[:s]) for s in counted.sku_starts):
        return 1
    return None


# "quote A100X for 1042", "12 h100x 4 1277": a number after "for" that ends the request is whom it is for.
_FOR_BEFORE = re.compile(r"\b(?:for|4)\s*#?\s*$")
_REQUEST_END = re.compile(r"^\s*(?:$|[,.;!?]|(?:please|pls|thanks|asap|now|today)\b)")
_NOT_CLIENT_BEFORE = re.compile(
    r"(?:\brun|\bjob|\btop|\blast|\bpast|\bnext|\bfirst|\bat|\bq|\bqty|\bquantity|#)\s*$"
)


def find_client_number(
    text: str,
    *,
    known_ids: Collection[int] = (),
    known: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
) -> ExtractedNumber | None:
    """Find a customer id given as a bare number: a known customer's id, or a number after "for" at the end.

    Counts of goods ("220 pressure gauges", "12 H100X", "50 units") and ids of other things are skipped.

    Args:
        text: Free text without a "customer 1042"-style id (see :func:`extract_client_id`).
        known_ids: The database's customer ids.
        known: Catalogue SKUs.
        products: Catalogue product names.

    Returns:
        The number with its span, or None when there is none or several different ones.
    """
    counted = _Counted(text, known, products)
    folded = counted.folded
    excluded = run_id_spans(text)
    found: list[ExtractedNumber] = []
    numbers = extract_numbers(text)
    stated = counted.stated_elsewhere(numbers)  # then "1119 B-55" is the client ordering B-55
    for number in numbers:
        start, end = number.span
        counts = counted.explicit(number) or (counted.strong(number) and not stated)
        if number.value < 100 or overlaps(number.span, excluded) or counts:
            continue
        if _TIME_UNIT.match(folded[end:]) or _NOT_CLIENT_BEFORE.search(folded[:start]):
            continue
        stated_for = _FOR_BEFORE.search(folded[:start]) and _REQUEST_END.match(folded[end:])
        if number.value in known_ids or stated_for:
            found.append(number)
    return found[0] if len({n.value for n in found}) == 1 else None


def _next_word_start(folded: str, index: int) -> int:
    rest = folded[index:]
    return index + len(rest) - len(rest.lstrip())


def _is_sku_token(m: re.Match[str], known_keys: Collection[str] = ()) -> bool:
    # "h100x", "H-55" and "H200" are catalogue codes even though a lone "h" usually starts a half-year or an hour.
    code = m.group("l").lower() == "h" and bool(m.group("h") or len(m.group("d")) >= 3)
    return m.group("l").lower() not in _NOT_SKU_PREFIX or code or sku_key(m.group()) in known_keys


def _sku_text(m: re.Match[str]) -> str:
    # A lone lower-case "s" after the digits is a plural ("two C-55s"), not part of the code.
    if m.group("t") == "s":
        return (m.group("l") + m.group("h") + m.group("d")).upper()
    return m.group().upper()


def sku_key(sku: str) -> str:
    """Reduce a SKU to upper-case letters and digits, so "c-55", "C55" and "C 55" compare equal."""
    return re.sub(r"[^A-Z0-9]", "", sku.upper())


def _resolve_known(found: list[str], text: str, known: Sequence[str]) -> list[str]:
    by_key = {sku_key(k): k for k in known}
    resolved: list[str] = []
    for token in found:
        key = sku_key(token)
        if key in by_key:
            resolved.append(by_key[key])
            continue
        # Only longer codes get typo repair: "B201" may be a real product missing from the list.
        close = [k for kk, k in by_key.items() if len(key) >= 5 and DamerauLevenshtein.distance(key, kk) <= 1]
        # An unknown code is kept as typed, so the tool can say "no product Z999" instead of asking again.
        resolved.append(close[0] if len(close) == 1 else token)
    folded = fold(text)
    for sku in known:
        if re.search(phrase_pattern(fold(sku)), folded) and sku not in resolved:
            resolved.append(sku)
    return resolved


def extract_sku(text: str, *, known: Sequence[str] | None = None) -> str | None:
    """Find the product SKU in text ("A100X", "b200", "C-55"), matched against the catalogue when given.

    Args:
        text: Free text.
        known: Catalogue SKUs; a code matching one of them is returned in the catalogue's spelling ("C55" ->
            "C-55", typo "A1000X" -> "A100X"); an unknown code is returned as typed, upper-cased.

    Returns:
        The SKU in canonical upper case, or None when there is none or several different ones.
    """
    keys = {sku_key(k) for k in known or ()}
    found = [
        _sku_text(m)
        for m in _SKU.finditer(text)
        if _is_sku_token(m, keys) and not _LABELLED.search(text[: m.start()])
    ]
    if known:
        found = _resolve_known(found, text, known)
    distinct = list(dict.fromkeys(found))
    return distinct[0] if len(distinct) == 1 else None
