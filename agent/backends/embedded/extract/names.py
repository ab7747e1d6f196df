"""Fuzzy resolution of a typed name (usually a customer's) against candidates loaded by the caller."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

# Legal suffixes carry no identity: "Acme Logistics Ltd" and "acme logistics" are the same customer.
_SUFFIXES = re.compile(
    r"\b(?:ltd|limited|inc|incorporated|llc|gmbh|ag|plc|sa|sas|sarl|bv|nv|co|corp|corporation|pty|srl|spa|oy|ab)\b"
)


@dataclass(frozen=True)
class Match:
    """A candidate that matches a query.

    Attributes:
        id: The candidate's key (e.g. the customer id).
        name: The candidate's name as stored.
        score: Similarity from 0 to 100.
    """

    id: int
    name: str
    score: float


def _process(name: str) -> str:
    plain = utils.default_process(name)
    stripped = " ".join(_SUFFIXES.sub(" ", plain).split())
    return stripped or plain


def resolve_name(
    query: str, *, candidates: Mapping[int, str], score_cutoff: float = 75.0, limit: int = 5
) -> list[Match]:
    """Rank candidates by how well their name matches the query, tolerating typos, case and partial names.

    Args:
        query: What the operator typed ("acme", "Acme Logstics", "1042").
        candidates: Id to name, e.g. ``{1042: "Acme Logistics"}``.
        score_cutoff: Minimum score (0-100) to keep a candidate.
        limit: Maximum number of matches.

    Returns:
        Matches, best first (ties by id); empty when nothing is close enough. A query that is exactly a known
        id returns that candidate with score 100.
    """
    text = query.strip()
    if not text or not candidates:
        return []
    as_id = re.fullmatch(r"#?\s*(\d{1,12})", text)
    if as_id and int(as_id.group(1)) in candidates:
        key = int(as_id.group(1))
        return [Match(key, candidates[key], 100.0)]
    processed_query = _process(text)
    if not processed_query:
        return []
    choices = {key: _process(name) for key, name in candidates.items()}
    found = process.extract(
        processed_query, choices, scorer=fuzz.WRatio, score_cutoff=score_cutoff, limit=None, processor=None
    )
    ranked = sorted(
        (Match(key, candidates[key], float(score)) for _, score, key in found), key=lambda m: (-m.score, m.id)
    )
    return ranked[:limit]


def pick_name(matches: list[Match], *, min_score: float = 85.0, margin: float = 5.0) -> Match | None:
    """Return the one clear winner among matches, or None when the best is weak or closely followed.

    Args:
        matches: Output of ``resolve_name``, best first.
        min_score: The best match must score at least this.
        margin: And beat the runner-up by at least this many points.

    Returns:
        The winning match, or None (the caller should ask which one was meant).
    """
    if not matches or matches[0].score < min_score:
        return None
    if len(matches) > 1 and matches[0].score - matches[1].score < margin:
        return None
    return matches[0]


def find_names_in_text(
    text: str, *, candidates: Mapping[int, str], score_cutoff: float = 90.0, limit: int = 5
) -> list[Match]:
    """Find candidates whose whole name appears in a longer text ("quote 5 B200 for Acme Logistics").

    Args:
        text: The operator's message.
        candidates: Id to name.
        score_cutoff: Minimum partial-match score (0-100); typos of one or two letters still pass at 90.
        limit: Maximum number of matches.

    Returns:
        Matches, best first (ties by id). Names shorter than 4 characters are never searched for.
    """
    haystack = _process(text)
    if not haystack:
        return []
    choices = {key: _process(name) for key, name in candidates.items() if len(_process(name)) >= 4}
    found = process.extract(
        haystack,
        choices,
        scorer=fuzz.partial_ratio,
        score_cutoff=score_cutoff,
        limit=None,
        processor=None,
    )
    ranked = sorted(
        (Match(key, candidates[key], float(score)) for _, score, key in found), key=lambda m: (-m.score, m.id)
    )
    return ranked[:limit]


def find_names_by_word(text: str, *, candidates: Mapping[int, str], score: float = 80.0) -> list[Match]:
    """Find candidates whose first word (4+ letters, e.g. "Acme", "Globex") appears as a whole word in text.

    A fallback for messages that name a customer by its short name; several hits mean the short name is
    shared.

    Args:
        text: The operator's message.
        candidates: Id to name.
        score: The score given to every hit.

    Returns:
        Matches ordered by id.
    """
    words = set(_process(text).split())
    hits: list[Match] = []
    for key, name in sorted(candidates.items()):
        parts = _process(name).split()
        if parts and len(parts[0]) >= 4 and parts[0] in words:
            hits.append(Match(key, name, score))
    return hits
