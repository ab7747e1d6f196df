"""New vocabulary: the words of live messages the router never saw in its training examples.

The router's word features come from ``prompts/examples`` (``load_training_examples``), split the way its
featurizer splits them (``router_features.analyze``'s ``w:`` unigrams). A rising share of unseen words says the
operators talk about things (products, customers, tasks) the router was not trained on. Numbers are left out:
an order number or a quantity is new every time and says nothing about the router.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from agent.backends.embedded.router_examples import load_training_examples
from agent.backends.embedded.router_features import analyze

TOP_TOKENS = 10
_WORD = "w:"


class TokenCount(BaseModel):
    """One unseen word and how often it was used."""

    model_config = ConfigDict(frozen=True)

    token: str
    count: int


class NewVocabulary(BaseModel):
    """The words of a window's messages against the training vocabulary.

    Attributes:
        tokens: Words counted (numbers left out).
        unseen: Of them, words not in the training vocabulary.
        share: ``unseen / tokens`` (0 when there are no words).
        top: The most used unseen words, most used first.
    """

    model_config = ConfigDict(frozen=True)

    tokens: int
    unseen: int
    share: float
    top: list[TokenCount]


def words(text: str) -> list[str]:
    """The words of ``text`` as the router's featurizer sees them (lower case), numbers left out."""
    return [gram[len(_WORD) :] for gram in analyze(text) if gram.startswith(_WORD) and not gram[2:].isdigit()]


@lru_cache(maxsize=4)
def training_vocabulary(fingerprint: str) -> frozenset[str]:
    """Every word of the router's training examples (cached per router fingerprint: reading them takes ~0.1 s)."""
    del fingerprint  # the cache key: the examples it names are the ones on disk
    texts, _labels = load_training_examples()
    return frozenset(word for text in texts for word in words(text))


def new_vocabulary(texts: Iterable[str], vocabulary: frozenset[str]) -> NewVocabulary:
    """Count the words of ``texts`` that are not in ``vocabulary``."""
    total = 0
    unseen: Counter[str] = Counter()
    for text in texts:
        for word in words(text):
            total += 1
            if word not in vocabulary:
                unseen[word] += 1
    count = sum(unseen.values())
    return NewVocabulary(
        tokens=total,
        unseen=count,
        share=round(count / total, 4) if total else 0.0,
        top=[TokenCount(token=token, count=n) for token, n in unseen.most_common(TOP_TOKENS)],
    )
