"""The database's own names in a message: customers and products, found before the router reads it.

"Cobalt Foods wants 120 torque wrenches, book it" reads to a sentence encoder like a question about Cobalt Foods;
with the names typed ("customer wants 120 product, book it") it reads as the order it is. ``EntityIndex`` finds
the names (typos tolerated), the router sees the placeholder text, and the extractors get the resolved ids.

Matching is word by word: every distinctive word of a name must appear, in order and next to each other, each
word close enough by edit similarity ("retial" for "retail", "wrenches" for "wrench") or its plural ("hats" for
"hat"). A product may also be named by its last word alone right after a count ("50 gloves"), when no other
product ends in that word. A customer may also be named by its first word alone ("Cobalt"), which is usually
shared by several customers and so resolves to all of them; a first word that is an everyday English word
("Summit", "Harbor") counts only when capitalised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

# Legal suffixes and sizes carry no identity: "Acme Logistics Ltd" is "Acme Logistics"; "Hex Bolt M8" is matched
# on "hex bolt" (the size may be said or not).
_NOISE = re.compile(
    r"^(?:ltd|limited|inc|incorporated|llc|gmbh|ag|plc|sa|sas|sarl|bv|nv|co|corp|corporation|pty|srl|spa|oy|ab)$"
)
_SIZE = re.compile(r"^(?=.*\d)[a-z0-9]+$")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_COUNT = re.compile(
    r"\d+k?|dozen|hundred|thousand|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|fifty"
)
# Entity kind → the word the router sees in its place (the training files' markup expands to the same word).
PLACEHOLDERS: Mapping[str, str] = {"customer": "customer", "product": "product"}
_TOKENIZER = Path(__file__).resolve().parent / "assets" / "tokenizer.json"


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Whole words of the encoder's vocabulary: everyday English, unlike "globex" or "initech"."""
    vocab = json.loads(_TOKENIZER.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(word for word in vocab if word.isalpha() and len(word) > 2)


@dataclass(frozen=True)
class Mention:
    """A name found in a message.

    Attributes:
        kind: ``customer`` or ``product``.
        start: Offset of the first character in the message.
        end: Offset after the last character.
        ids: What it resolves to (customer ids or SKUs), best first; several when the name is shared.
    """

    kind: str
    start: int
    end: int
    ids: tuple[int | str, ...]


@dataclass(frozen=True)
class Tagged:
    """A message with its names found: the router's text and the mentions."""

    text: str
    mentions: tuple[Mention, ...]

    def resolved(self, kind: str) -> tuple[int | str, ...] | None:
        """The ids the message's names of ``kind`` resolve to (one name only), or None."""
        found = [m for m in self.mentions if m.kind == kind]
        return found[0].ids if len(found) == 1 else None


@dataclass(frozen=True)
class _Name:
    kind: str
    key: int | str
    words: tuple[str, ...]


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text.lower())]


def _plural_of(said: str, name_word: str) -> bool:
    """Whether ``said`` is an English plural of ``name_word``: hats, boxes, knives, batteries."""
    if said in (name_word + "s", name_word + "es"):
        return True
    if name_word.endswith("y") and said == name_word[:-1] + "ies":
        return True
    return name_word.endswith(("f", "fe")) and said == name_word.rstrip("e")[:-1] + "ves"


def _word_matches(said: str, name_word: str) -> bool:
    if said == name_word or (name_word.isalpha() and _plural_of(said, name_word)):
        return True
    if len(name_word) < 4 or len(said) < 3:
        return False
    if said.rstrip("s").rstrip("e") == name_word.rstrip("s").rstrip("e"):
        return True  # plurals: "wrenches", "gloves", "bolts"
    cutoff = 80.0 if len(name_word) < 6 else 75.0
    return fuzz.ratio(said, name_word) >= cutoff


class _Vocabulary:
    """Words of names, and which of them a message's word matches (``_word_matches``), without trying each.

    The exact word, its singulars and its stem are looked up, and the close spellings come from one rapidfuzz scan
    over the words long enough to be matched that way; every candidate is then checked with ``_word_matches``, so
    the answer is the brute-force scan's, found in a few lookups. A message's word is remembered, since the same
    words come back message after message ("the", "runs", "last").

    Args:
        words: The words, in the order the answers keep.
    """

    def __init__(self, words: list[str]) -> None:
        self._order = {word: position for position, word in enumerate(dict.fromkeys(words))}
        self._stems: dict[str, list[str]] = {}
        for word in self._order:
            if len(word) >= 4:
                self._stems.setdefault(word.rstrip("s").rstrip("e"), []).append(word)
        self._long = [word for word in self._order if len(word) >= 4]
        self.matches = lru_cache(maxsize=4096)(self._matches)

    def _matches(self, said: str) -> tuple[str, ...]:
        # The word itself and what it may be the plural of: hats, boxes, batteries, knives (loaves: loaf or loafe).
        stem = said[:-3]
        candidates = {said, said[:-1], said[:-2], stem + "y", stem + "f", stem + "fe"}
        if len(said) >= 3:
            candidates.update(self._stems.get(said.rstrip("s").rstrip("e"), ()))
            # 75 is the lower of _word_matches's two cutoffs: the check below applies the word's own.
            close = process.extract(said, self._long, scorer=fuzz.ratio, score_cutoff=75.0, limit=None)
            candidates.update(word for word, _, _ in close)
        found = [word for word in candidates if word in self._order and _word_matches(said, word)]
        return tuple(sorted(found, key=self._order.__getitem__))


class EntityIndex:
    """Customers' and products' names, ready to be found in messages.

    Args:
        customers: Customer id → name.
        products: SKU → product name.
    """

    def __init__(self, customers: Mapping[int, str], products: Mapping[str, str]) -> None:
        self._customers = customers
        names: list[_Name] = []
        heads: dict[str, list[int]] = {}
        for key, name in customers.items():
            words = tuple(w for w, _, _ in _words(name) if not _NOISE.match(w))
            if words:
                names.append(_Name("customer", key, words))
                if len(words[0]) >= 4:
                    heads.setdefault(words[0], []).append(key)
        nouns: dict[str, list[str]] = {}
        for sku, name in products.items():
            words = tuple(w for w, _, _ in _words(name) if not _SIZE.match(w))
            if words:
                names.append(_Name("product", sku, words))
                if len(words[-1]) >= 4 and words[-1].isalpha():
                    nouns.setdefault(words[-1], []).append(sku)
        # A product's last word names it on its own after a count ("50 gloves"), when no other product shares it.
        self._nouns = {noun: skus[0] for noun, skus in nouns.items() if len(skus) == 1}
        self._by_first: dict[str, list[_Name]] = {}
        for item in names:
            self._by_first.setdefault(item.words[0], []).append(item)
        self._firsts = _Vocabulary(list(self._by_first))
        self._heads = {head: tuple(sorted(keys)) for head, keys in heads.items()}
        common = _common_words()  # loaded now, not on the first message
        self._rare_heads = _Vocabulary([head for head in self._heads if head not in common])

    def named_args(self, text: str | Tagged) -> dict[str, object]:
        """Argument values a message gives by name: a customer's id (or the choices), a product's SKU."""
        tagged = text if isinstance(text, Tagged) else self.tag(text)
        named: dict[str, object] = {}
        customers = tagged.resolved("customer")
        if customers:
            named["client_id"] = (
                customers[0]
                if len(customers) == 1
                else tuple(f"{self._customers.get(int(c), c)} ({c})" for c in customers)
            )
        products = tagged.resolved("product")
        if products and len(products) == 1:
            named["product"] = named["sku"] = products[0]
        return named

    def tag(self, text: str) -> Tagged:
        """Find the names in ``text`` and put their placeholders in the router's copy of it."""
        words = _words(text)
        candidates: dict[tuple[int, int], tuple[str, list[int | str]]] = {}
        for i, (word, _, _) in enumerate(words):
            for first in self._firsts.matches(word):
                for name in self._by_first[first]:
                    size = len(name.words)
                    if i + size <= len(words) and all(
                        _word_matches(words[i + k][0], name.words[k]) for k in range(1, size)
                    ):
                        kind, keys = candidates.setdefault((i, i + size), (name.kind, []))
                        if kind == name.kind:
                            keys.append(name.key)
        taken = [False] * len(words)
        found: dict[tuple[int, int], tuple[str, list[int | str]]] = {}
        # Longest names first, so "Cobalt Foods" wins over the head word "Cobalt" and a product inside it.
        for (i, j), entry in sorted(
            candidates.items(), key=lambda item: (item[0][0] - item[0][1], item[0][0])
        ):
            if not any(taken[i:j]):
                found[(i, j)] = entry
                taken[i:j] = [True] * (j - i)
        for i, (word, _, _) in enumerate(words):
            if taken[i] or i == 0 or not _COUNT.fullmatch(words[i - 1][0]):
                continue
            nouns = [sku for noun, sku in self._nouns.items() if word == noun or _plural_of(word, noun)]
            if len(nouns) == 1:
                found[(i, i + 1)] = ("product", [nouns[0]])
                taken[i] = True
        common = _common_words()
        for i, (word, start, _) in enumerate(words):
            if taken[i] or (word in common and not text[start].isupper()):
                continue
            shared = self._heads.get(word)
            if shared is None and len(word) >= 5 and word not in common:
                close = self._rare_heads.matches(word)
                shared = self._heads[close[0]] if len(close) == 1 else None  # "initek" for "Initech"
            if shared is None:
                continue
            found[(i, i + 1)] = ("customer", list(shared))
            taken[i] = True
        if not found:
            return Tagged(text=text, mentions=())
        mentions = []
        for (i, j), (kind, keys) in sorted(found.items()):
            start, end = words[i][1], words[j - 1][2]
            if text[end : end + 2] in ("'s", "’s"):
                end += 2
            elif text[end : end + 1] in ("'", "’") and text[end - 1] in "sS":
                end += 1
            mentions.append(Mention(kind=kind, start=start, end=end, ids=tuple(dict.fromkeys(keys))))
        pieces, cursor = [], 0
        for mention in mentions:
            pieces.extend([text[cursor : mention.start], PLACEHOLDERS[mention.kind]])
            cursor = mention.end
        pieces.append(text[cursor:])
        return Tagged(text="".join(pieces), mentions=tuple(mentions))


def typed_names(index: EntityIndex | None, text: str) -> str:
    """``text`` with the database's customer and product names as the words "customer" and "product"."""
    return index.tag(text).text if index is not None else text
