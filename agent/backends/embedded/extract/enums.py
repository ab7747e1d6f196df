"""Match free text to one value of an enum, through a synonym table, word boundaries and typo tolerance.

Scoring: exact phrase hits beat fuzzy ones, and among exact hits the phrase with more words wins ("customer
sync nightly" is customer_sync, not the one-word synonym "nightly"). A hit inside a longer hit is ignored
("America" in "Latin America"), and so is a negated one ("not as csv"). When different values tie for the
best score the answer is None: the caller should ask rather than guess. Synonyms written in capitals ("US",
"NA") only match that exact capitalisation, because their lower-case forms are everyday words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein

from agent.backends.embedded.extract.text import fold, is_negated, phrase_pattern

_TOKEN = re.compile(r"[a-z0-9_]+(?:'[a-z]+)?")
_MIN_FUZZY_LEN = 5
_FILLER = frozenset({"the", "a", "an", "of", "to", "by", "per", "in", "for", "on", "via"})


@dataclass(frozen=True)
class EnumHit:
    """One occurrence of an enum value's phrase in the text.

    Attributes:
        value: The canonical enum value.
        span: ``(start, end)`` in the text.
        words: Number of words in the phrase that matched.
        exact: False for a typo-tolerant match.
        negated: True when a negation ("not", "instead of") precedes it.
    """

    value: str
    span: tuple[int, int]
    words: int
    exact: bool
    negated: bool


@dataclass(frozen=True)
class _Phrase:
    value: str
    pattern: re.Pattern[str]
    case_sensitive: bool
    words: int
    target: str | None  # the typo-tolerant form, None when the phrase is too short for fuzzy matching
    limit: int
    size: int


def _word_count(phrase: str) -> int:
    # Filler words add no evidence: "the us" is as strong as "europe", not stronger.
    return len([w for w in re.split(r"[\s_\-]+", phrase) if w and w.casefold() not in _FILLER])


def _compile_phrase(value: str, phrase: str) -> _Phrase:
    case_sensitive = phrase.isupper() and len(phrase) <= 4
    needle = phrase if case_sensitive else fold(phrase)
    target = " ".join(w for w in re.split(r"[\s_\-]+", fold(phrase).strip()) if w)
    compact = target.replace(" ", "")
    fuzzy = len(compact) >= _MIN_FUZZY_LEN and not case_sensitive
    # How many typos, by the words that carry meaning: "the sales" is no typo of "the states", "the bnak" is one.
    content = "".join(w for w in target.split() if w not in _FILLER)
    return _Phrase(
        value=value,
        pattern=re.compile(phrase_pattern(needle, number_gaps=True, plural=not case_sensitive)),
        case_sensitive=case_sensitive,
        words=_word_count(phrase),
        target=target if fuzzy else None,
        limit=1 if len(content) <= 8 else 2,
        size=target.count(" ") + 1,
    )


@lru_cache(maxsize=128)
def _compile_table(table: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[_Phrase, ...]:
    # Compiled once per enum: recompiling ~60 patterns per message cost milliseconds.
    seen: set[tuple[str, str]] = set()
    phrases: list[_Phrase] = []
    for value, synonyms in table:
        for phrase in (value, value.replace("_", " "), *synonyms):
            if phrase and (value, phrase) not in seen:
                seen.add((value, phrase))
                phrases.append(_compile_phrase(value, phrase))
    return tuple(phrases)


def _phrases(values: Sequence[str], synonyms: Mapping[str, Sequence[str]]) -> tuple[_Phrase, ...]:
    return _compile_table(tuple((v, tuple(synonyms.get(v, ()))) for v in values))


def _exact_hits(text: str, folded: str, phrases: tuple[_Phrase, ...]) -> list[EnumHit]:
    hits: list[EnumHit] = []
    for p in phrases:
        for m in p.pattern.finditer(text if p.case_sensitive else folded):
            hits.append(EnumHit(p.value, m.span(), p.words, True, is_negated(folded, m.start(), m.end())))
    return hits


# English words one letter from a value's name, so never its typo: "produce the same export" names no products.
_WORDS = frozenset({"produce", "produced", "producer", "custom", "customs"})


def _fuzzy_hits(folded: str, phrases: tuple[_Phrase, ...]) -> list[EnumHit]:
    # Numbers between the words are skipped, as the exact patterns do: "top 10 custoners" is "top customers".
    tokens = [t for t in _TOKEN.finditer(folded) if not t.group().isdigit()]
    windows: dict[int, list[tuple[str, int, int]]] = {}
    hits: list[EnumHit] = []
    for p in phrases:
        if p.target is None:
            continue
        if p.size not in windows:
            windows[p.size] = [
                (
                    " ".join(t.group() for t in tokens[i : i + p.size]),
                    tokens[i].start(),
                    tokens[i + p.size - 1].end(),
                )
                for i in range(len(tokens) - p.size + 1)
            ]
        for window, start, end in windows[p.size]:
            # Typos rarely hit the first letter; requiring it keeps "sending" from becoming "pending".
            if window[0] != p.target[0] or abs(len(window) - len(p.target)) > p.limit or window in _WORDS:
                continue
            if DamerauLevenshtein.distance(
                window, p.target, score_cutoff=p.limit
            ) <= p.limit and _short_words_kept(window, p.target):
                hits.append(EnumHit(p.value, (start, end), p.size, False, is_negated(folded, start, end)))
    return hits


def _short_words_kept(window: str, target: str) -> bool:
    # A typo in a two-letter word is another word: "revenue has" is not "revenue na".
    return all(a == b for a, b in zip(window.split(), target.split(), strict=False) if len(b) <= 2)


def _drop_contained(hits: list[EnumHit]) -> list[EnumHit]:
    def inside(a: EnumHit, b: EnumHit) -> bool:
        return (
            b.span[0] <= a.span[0]
            and a.span[1] <= b.span[1]
            and (b.span[1] - b.span[0]) > (a.span[1] - a.span[0])
        )

    return [h for h in hits if not any(inside(h, other) for other in hits)]


def find_enum_hits(
    text: str, *, values: Sequence[str], synonyms: Mapping[str, Sequence[str]]
) -> list[EnumHit]:
    """List every phrase occurrence for the enum; fuzzy ones only when no exact hit exists.

    Args:
        text: Free text.
        values: The enum's canonical values.
        synonyms: Extra phrases per value.

    Returns:
        Hits in order of position, with hits nested in longer hits removed.
    """
    folded = fold(text)
    phrases = _phrases(values, synonyms)
    hits = _exact_hits(text, folded, phrases)
    if not any(not h.negated for h in hits):
        hits += _fuzzy_hits(folded, phrases)
    return sorted(_drop_contained(hits), key=lambda h: h.span)


def enum_candidates(
    text: str, *, values: Sequence[str], synonyms: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """Return the values tied for the best match, in order of first appearance (empty when none matched).

    Args:
        text: Free text.
        values: The enum's canonical values.
        synonyms: Extra phrases per value.

    Returns:
        One value when the text is clear, several when it is ambiguous, none when the enum is not mentioned.
    """
    hits = [h for h in find_enum_hits(text, values=values, synonyms=synonyms) if not h.negated]
    if not hits:
        return ()
    best = max((h.exact, h.words) for h in hits)
    ordered: list[str] = []
    for hit in hits:
        if (hit.exact, hit.words) == best and hit.value not in ordered:
            ordered.append(hit.value)
    return tuple(ordered)


def match_enum(text: str, *, values: Sequence[str], synonyms: Mapping[str, Sequence[str]]) -> str | None:
    """Pick the single enum value the text refers to.

    Args:
        text: Free text, e.g. "send it as an xml file".
        values: The enum's canonical values, e.g. ``("csv", "xml", "json", "dat")``.
        synonyms: Extra phrases per value, e.g. ``{"csv": ["spreadsheet"]}``.

    Returns:
        The value, or None when nothing matched or two values matched equally well.
    """
    found = enum_candidates(text, values=values, synonyms=synonyms)
    return found[0] if len(found) == 1 else None
