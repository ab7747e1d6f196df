"""The names' word lookup answers exactly what trying every word with ``_word_matches`` would.

``EntityIndex`` finds a message's words among the names' words through ``_Vocabulary`` (lookups and one
rapidfuzz scan) instead of comparing each word with each name's; a candidate it failed to propose would be a name
silently not found, so the answers are compared with the brute-force scan's.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.backends.embedded.entities import _Vocabulary, _word_matches

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789'", min_size=1, max_size=12)
# Words whose plurals and near spellings exercise every rule: -s, -es, -ies, -ves, the stem and the edit ratio.
_NAME_WORDS = [
    "knife",
    "loaf",
    "loafe",
    "hat",
    "box",
    "battery",
    "wrench",
    "glove",
    "bolt",
    "retail",
    "bus",
    "glass",
]
_SAID = [
    "knives",
    "loaves",
    "hats",
    "boxes",
    "batteries",
    "wrenches",
    "gloves",
    "bolts",
    "retial",
    "buses",
    "glas",
]


@st.composite
def _near(draw: st.DrawFn) -> tuple[list[str], str]:
    """Words, and a message's word made from one of them by an edit or a plural ending (close, not equal)."""
    words = draw(st.lists(_WORDS, min_size=1, max_size=30))
    said = draw(st.sampled_from(words))
    at = draw(st.integers(0, len(said)))
    edit = draw(st.sampled_from(["insert", "delete", "replace", "s", "es", "ies", "ves", "e"]))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    if edit == "insert":
        said = said[:at] + letter + said[at:]
    elif edit == "delete":
        said = said[:at] + said[at + 1 :]
    elif edit == "replace":
        said = said[:at] + letter + said[at + 1 :]
    elif edit in ("ies", "ves"):
        said = said[:-1] + edit
    else:
        said += edit
    return words, said or letter


def _brute(words: list[str], said: str) -> tuple[str, ...]:
    return tuple(word for word in dict.fromkeys(words) if _word_matches(said, word))


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=40), _WORDS)
def test_any_words_match_as_the_full_scan_does(words: list[str], said: str) -> None:
    assert _Vocabulary(words).matches(said) == _brute(words, said)


@settings(max_examples=600, deadline=None)
@given(_near())
def test_near_spellings_match_as_the_full_scan_does(case: tuple[list[str], str]) -> None:
    words, said = case
    assert _Vocabulary(words).matches(said) == _brute(words, said)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NAME_WORDS), min_size=1, max_size=10), st.sampled_from(_SAID + _NAME_WORDS))
def test_plurals_and_typos_match_as_the_full_scan_does(words: list[str], said: str) -> None:
    assert _Vocabulary(words).matches(said) == _brute(words, said)


def test_the_answers_keep_the_words_order() -> None:
    vocabulary = _Vocabulary(["gloves", "glove", "globe"])
    assert vocabulary.matches("glove") == ("gloves", "glove", "globe")
    assert vocabulary.matches("knives") == ()


def test_a_shared_stem_matches_where_the_spelling_is_far() -> None:
    # "trssss" and "tree" share the stem "tr" (trailing s and e stripped) but are far by edit ratio (50).
    assert _Vocabulary(["tree", "trek"]).matches("trssss") == ("tree",)
