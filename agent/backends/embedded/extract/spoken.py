"""Dictated text as it was meant: what phone speech recognition writes for file names, codes, ids and addresses.

"load orders underscore today dot csv" is orders_today.csv, "customer ten forty two" is customer 1042, "run one oh
seven" is run 107, "x m l" is xml, "g dash fifty five" is G-55 and "orders at globex trading dot com" an address.
Only forms a typed message does not use are rewritten, so typed text comes back as it was.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from agent.backends.embedded.extract.numbers import TEENS, TENS, UNITS, parse_word_run

_EXT = "csv|tsv|json|jsonl|xml|xlsx|xls|dat|txt|yaml|zip"
_TLD = "com|net|org|io|eu|de|fr|uk|nl|co"
_DOT = re.compile(rf"\s+dot\s+(?=(?:{_EXT}|{_TLD})\b)", re.I)
_UNDERSCORE = re.compile(r"\s+underscore\s+", re.I)
_ADDRESS = re.compile(
    rf"\b(?P<local>[a-z0-9][\w.+-]*)\s+at\s+(?P<domain>(?:[a-z0-9-]+\s+){{0,3}}[a-z0-9-]+(?:\.(?:{_TLD}))+)\b",
    re.I,
)
# Letters spelled out one by one ("x m l", "v i p"): only the words people spell are joined.
_SPELLED = re.compile(r"\b[a-z](?:\s+[a-z]){1,4}\b", re.I)
_SPELLED_DASHED = re.compile(r"(?<![\w-])[A-Za-z](?:-[A-Za-z]){2,}(?![\w-])")
_SPELLED_WORDS = frozenset(
    "xml csv json vip sftp ftp emea apac erp dat ytd mtd qtd usa eu dq pdf tg sku id".split()
)
_SOUNDS = (
    (re.compile(r"\bsee\s+ess\s+vee\b", re.I), "csv"),
    (re.compile(r"\bex\s+em\s+el\b", re.I), "xml"),
    (re.compile(r"\bbuy\s+(?=(?:region|product|customer|status|sku|country|month|week)s?\b)", re.I), "by "),
    (re.compile(r"\bin\s+voice\b", re.I), "invoice"),
    (re.compile(r"\bin\s+a\s+pack\b(?!\s+of)", re.I), "in apac"),
)
_FILLER = re.compile(r"(?:^|(?<=\s))(?:um+|uh+|erm+|uhm+)\b[,.]?\s*", re.I)
_NUMBER_WORD = "|".join([*UNITS, *TEENS, *TENS, "hundred", "thousand", "oh"])
_RUN = rf"(?:{_NUMBER_WORD})(?:[\s-]+(?:{_NUMBER_WORD}|and(?=\s+(?:{_NUMBER_WORD}))))*"
# "customer ten forty two", "run one oh seven", "artifact two fifty": an id read out in groups.
_SPOKEN_ID = re.compile(
    rf"\b(?P<noun>customer|client|account|run|job|artifact|file|id)\s+(?:(?:number|no\.?|#)\s*)?"
    rf"(?P<words>(?>{_RUN}))\b(?=\s*(?:$|[,.?!;:)]|(?:and|a|an|the|please|pls|for|to|again|now|then|with|from|on|"
    r"into|in|as|is|was|has|did|failed|status|their|its|they|what|how|who|at|by|still|going|done|finished|ok|okay|"
    r"running|stuck)\b))",
    re.I,
)
# "g dash fifty five", "h two hundred": a product code. Letters that are also words ("a", "i", "x" for times, "v"
# for versus) and sound-alikes ("see three hundred") count only when the code is a known one.
_SOUND_LETTER = {
    "see": "c",
    "sea": "c",
    "bee": "b",
    "dee": "d",
    "gee": "g",
    "aitch": "h",
    "eff": "f",
    "ay": "a",
}
_SPOKEN_SKU = re.compile(
    rf"\b(?P<letter>[a-z]|{'|'.join(_SOUND_LETTER)})(?:\s+(?P<dash>dash|hyphen))?\s+(?P<words>{_RUN})"
    r"(?:\s+(?P<x>x)\b)?(?!\s*\w*-)",
    re.I,
)
_FREE_LETTERS = frozenset("bcdefghjklmnopqrstuwyz")
# Where a product is named: after "of", "the", a count or "units". A sound-alike letter counts only there.
_PRODUCT_SLOT = re.compile(rf"\b(?:of|the|dozen|units?|pieces|pcs|x|some|more|\d+|{_NUMBER_WORD})\s+$", re.I)


def spoken_digits(phrase: str) -> str | None:
    """The digits a read-out number stands for: "ten forty two" → "1042", "one oh seven" → "107"."""
    words = [w for w in re.split(r"[\s-]+", phrase.casefold()) if w]
    groups: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in ("oh", "zero"):
            groups.append("0")
            i += 1
            continue
        found = parse_word_run([(w, 0, 0) for w in words], i)  # "ten forty two": 10, then 42
        if found is None:
            return None
        groups.append(str(found[0]))
        i = found[1]
    return "".join(groups) or None


def _sku(match: re.Match[str], skus: Collection[str]) -> str:
    letter = match["letter"].casefold()
    letter = _SOUND_LETTER.get(letter, letter)
    digits = spoken_digits(match["words"])
    if digits is None:
        return match[0]
    code = f"{letter}{'-' if match['dash'] else ''}{digits}{'x' if match['x'] else ''}".upper()
    known = {s.upper().replace("-", "") for s in skus}
    said = match["letter"].casefold()
    if said not in _FREE_LETTERS and not _PRODUCT_SLOT.search(match.string[: match.start()]):
        return match[0]  # "I see three hundred orders", "a hundred"
    if code.replace("-", "") in known or (
        not known and said in _FREE_LETTERS and (match["dash"] or len(digits) >= 2)
    ):
        return code
    return match[0]


def unspoken(text: str, skus: Collection[str] = ()) -> str:
    """``text`` with dictated file names, codes, ids, addresses and spelled words written as typed."""
    out = _FILLER.sub("", text)
    for pattern, typed in _SOUNDS:
        out = pattern.sub(typed, out)
    out = _SPELLED_DASHED.sub(lambda m: m[0].replace("-", ""), out)  # "Wonka, W-O-N-K-A"
    out = _SPELLED.sub(
        lambda m: joined if (joined := m[0].replace(" ", "")).casefold() in _SPELLED_WORDS else m[0], out
    )
    out = _UNDERSCORE.sub("_", _DOT.sub(".", out))
    out = _ADDRESS.sub(lambda m: f"{m['local']}@{m['domain'].replace(' ', '')}", out)
    out = _SPOKEN_ID.sub(lambda m: f"{m['noun']} {spoken_digits(m['words']) or m['words']}", out)
    return _SPOKEN_SKU.sub(lambda m: _sku(m, skus), out)
