"""The parts issue 16 added in front of the router: names, clauses, the thread, and the training voices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from agent.backends.base import Turn
from agent.backends.embedded.dialogue import resolve_reference
from agent.backends.embedded.dialogue_time import shift_back
from agent.backends.embedded.entities import EntityIndex
from agent.backends.embedded.router_examples import ExampleFileError, expand_markup, load_training_examples
from agent.backends.embedded.signals import swallowed
from agent.backends.embedded.speech_acts import read_speech_act

TODAY = date(2026, 11, 22)
CUSTOMERS = {
    1001: "Cobalt Foods",
    1002: "Cobalt Systems",
    1003: "Keystone Retail Ltd",
    1004: "Initech Works",
    1005: "Summit Partners",
}
PRODUCTS = {"C-55": "Torque Wrench", "A100X": "Hex Bolt M8", "E200": "Safety Gloves"}


@pytest.fixture(scope="module")
def index() -> EntityIndex:
    return EntityIndex(CUSTOMERS, PRODUCTS)


@pytest.mark.parametrize(
    ("text", "router_text", "found"),
    [
        ("Cobalt Foods wants 120 torque wrenches", "customer wants 120 product", [(1001,), ("C-55",)]),
        ("who is keystone retial", "who is customer", [(1003,)]),
        ("raise Keystone Retail's limit", "raise customer limit", [(1003,)]),
        ("anything from Cobalt today", "anything from customer today", [(1001, 1002)]),
        ("who's initek", "who's customer", [(1004,)]),
        ("250 hex bolts m8 please", "250 product m8 please", [("A100X",)]),
    ],
)
def test_names_become_placeholders_with_their_ids(
    index: EntityIndex, text: str, router_text: str, found: list[tuple[object, ...]]
) -> None:
    tagged = index.tag(text)
    assert tagged.text == router_text
    assert [m.ids for m in tagged.mentions] == found


@pytest.mark.parametrize(
    "text", ["what's on the summit agenda", "sales by region last month", "email orders@cobaltfoods.eu"]
)
def test_everyday_words_and_addresses_are_not_names(index: EntityIndex, text: str) -> None:
    assert index.tag(text).mentions == ()


def test_a_capitalised_everyday_word_that_heads_a_name_is_one(index: EntityIndex) -> None:
    assert [m.ids for m in index.tag("Summit wants a quote").mentions] == [(1005,)]


@pytest.mark.parametrize(
    ("text", "ask", "negated", "holds"),
    [
        ("sales by region last month", "sales by region last month", (), False),
        ("don't start anything, I only want the status of run 5", "only want the status of run 5", 1, False),
        ("order 40 A100X for 1042 but don't place it yet, just quote", "just quote", 1, True),
        ("don't just quote it, actually place the order", "actually place the order", 1, False),
        (
            "don't run it now, schedule the invoice run for friday",
            "schedule the invoice run for friday",
            1,
            False,
        ),
        (
            "don't forget to send the report to finance",
            "don't forget to send the report to finance",
            (),
            False,
        ),
    ],
)
def test_the_clause_that_asks_is_routed(text: str, ask: str, negated: object, holds: bool) -> None:
    act = read_speech_act(text)
    assert act.ask == ask
    assert len(act.negated) == (negated if isinstance(negated, int) else 0)
    assert act.holds("create_order") is holds


def test_a_message_of_negations_asks_nothing() -> None:
    assert read_speech_act("please don't send anything to the bank today").asks_nothing
    assert not read_speech_act("don't send it, export it").asks_nothing


@pytest.mark.parametrize(
    ("period", "before"),
    [
        ("last_week", "2026-11-02..2026-11-08"),
        ("last_month", "2026-09-01..2026-09-30"),
        ("2026-07-01..2026-09-30", "2026-04-01..2026-06-30"),
        ("last_7_days", "2026-11-09..2026-11-15"),
    ],
)
def test_the_period_before_has_the_same_length(period: str, before: str) -> None:
    assert shift_back(period, today=TODAY) == before


def test_a_reference_needs_a_short_message_that_points_back() -> None:
    quote = Turn(
        role="assistant", tool="quote_price", args={"client_id": 1042, "product": "B200", "quantity": 5}
    )
    booked = resolve_reference("ok book it", quote, today=TODAY)
    assert booked is not None and (booked.tool, dict(booked.args)) == (
        "create_order",
        {"client_id": 1042, "product": "B200", "quantity": 5},
    )
    assert (
        resolve_reference(
            "book a table for two at the italian place near the office tonight", quote, today=TODAY
        )
        is None
    )
    assert resolve_reference("thanks", quote, today=TODAY) is None


def test_a_free_text_argument_that_swallowed_the_message_is_flagged() -> None:
    assert swallowed(
        "list every customer's credit card number", {"query": "every customer's credit card number"}
    )
    assert swallowed("look up Acme Logistics", {"query": "acme logistics"}) is None
    assert swallowed("acme", {"query": "acme"}) is None


def test_voice_markup_teaches_the_name_and_its_placeholder() -> None:
    assert expand_markup("{customer:Kestrel Foods} wants 40 {product:gloves}") == [
        "Kestrel Foods wants 40 gloves",
        "customer wants 40 product",
    ]
    assert expand_markup("sales by region") == ["sales by region"]


def test_a_voice_naming_an_unknown_tool_is_refused(tmp_path: Path) -> None:
    (tmp_path / "run_report.yaml").write_text("tool: run_report\nexamples: [a, b]\n", encoding="utf-8")
    (tmp_path / "voices").mkdir()
    voice = tmp_path / "voices" / "x.yaml"
    voice.write_text("voice: x\ndescription: d\nhow: h\nexamples:\n  run_reprot: [c]\n", encoding="utf-8")
    with pytest.raises(ExampleFileError, match="unknown tool 'run_reprot'"):
        load_training_examples(tmp_path)
    voice.write_text(
        "voice: x\ndescription: d\nhow: h\nexamples:\n  run_report: ['{customer:Acme']\n", encoding="utf-8"
    )
    with pytest.raises(ExampleFileError, match="unbalanced entity markup"):
        load_training_examples(tmp_path)
    voice.write_text(
        "voice: x\ndescription: d\nhow: h\nexamples:\n  run_report: ['{customer:Acme} sales']\n",
        encoding="utf-8",
    )
    texts, labels = load_training_examples(tmp_path)
    assert sorted(texts) == ["Acme sales", "a", "b", "customer sales"] and set(labels) == {"run_report"}
