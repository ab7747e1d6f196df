"""Product names as people say them: short words in the plural, and a product's last word after a count."""

from __future__ import annotations

import pytest

from agent.backends.embedded.entities import EntityIndex

CUSTOMERS = {2001: "Larch Builders", 2002: "Orchid Pharma"}
PRODUCTS = {
    "K-10": "Hard Hat",
    "K200": "Nut Set",
    "K300": "Utility Knife",
    "K400": "Spare Battery",
    "K500": "Archive Box",
    "K600": "Junction Box",
    "K700": "Rubber Gloves",
}


@pytest.fixture(scope="module")
def index() -> EntityIndex:
    return EntityIndex(CUSTOMERS, PRODUCTS)


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("Larch Builders needs 40 hard hats", "K-10"),
        ("quote 15 nut sets", "K200"),
        ("price of utility knives", "K300"),
        ("send 12 archive boxes", "K500"),
        ("order 300 gloves for Orchid Pharma", "K700"),
        ("what about 20 knives", "K300"),
    ],
)
def test_plurals_and_last_words_name_the_product(index: EntityIndex, text: str, product: str) -> None:
    assert index.tag(text).resolved("product") == (product,)


@pytest.mark.parametrize(
    "text",
    [
        "12 boxes for Larch Builders",  # two products end in "box"
        "the gloves are off",  # no count before it
        "last 5 hats",  # "hat" alone is too short to stand for "Hard Hat"
    ],
)
def test_a_last_word_alone_needs_a_count_and_one_product(index: EntityIndex, text: str) -> None:
    assert index.tag(text).resolved("product") is None
