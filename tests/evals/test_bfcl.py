"""BFCL AST matching on hand-made cases, and the whole BFCL run against the fake Ollama API on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import BadInput
from evals.bfcl import Item, check_item, load_category, match_call, run_bfcl, to_tool
from switchboard.commands.eval_cmd import DATASETS_DIR
from tests.evals.fakes import ANSWER, FUNCTION, write_bfcl
from tests.utils.servers.ollama_api import OllamaApi, text, tool_call


@pytest.mark.parametrize(
    ("name", "args", "error"),
    [
        ("geometry_area", {"base": 10, "height": 5}, None),
        ("geometry.area", {"base": 10, "height": 5.0, "unit": " C-M"}, None),
        ("geometry_area", {"base": 10, "height": 5, "dims": [1, 2], "opts": {"mode": "FAST"}}, None),
        (
            "geometry_volume",
            {"base": 10, "height": 5},
            "wrong function 'geometry_volume', expected 'geometry.area'",
        ),
        ("geometry_area", {"base": 10}, "missing required parameter 'height'"),
        ("geometry_area", {"base": 10, "height": 5, "color": "red"}, "unexpected parameter 'color'"),
        (
            "geometry_area",
            {"base": "10", "height": 5},
            "parameter 'base' has the wrong type (str, expected integer)",
        ),
        (
            "geometry_area",
            {"base": True, "height": 5},
            "parameter 'base' has the wrong type (bool, expected integer)",
        ),
        ("geometry_area", {"base": 11, "height": 5}, "parameter 'base'=11 is not one of [10]"),
        (
            "geometry_area",
            {"base": 10, "height": 5, "unit": "inches"},
            "parameter 'unit'='inches' is not one of ['units', 'cm', '']",
        ),
        (
            "geometry_area",
            {"base": 10, "height": 5, "dims": [2, 1]},
            "parameter 'dims'=[2, 1] is not one of [[1, 2], '']",
        ),
        (
            "geometry_area",
            {"base": 10, "height": 5, "opts": {"mode": "slow"}},
            "parameter 'opts'={'mode': 'slow'} is not one of [{'mode': ['fast']}, '']",
        ),
    ],
)
def test_match_call(name: str, args: dict[str, Any], error: str | None) -> None:
    assert match_call(FUNCTION, (name, args), ANSWER) == error


def test_parameter_without_empty_option_must_be_given() -> None:
    answer = {"geometry.area": {**ANSWER["geometry.area"], "precision": [2]}}
    assert (
        match_call(FUNCTION, ("geometry_area", {"base": 10, "height": 5}), answer)
        == "parameter 'precision' is missing"
    )


def test_check_item_counts_calls() -> None:
    simple = Item("s", "simple", [], [FUNCTION], [ANSWER])
    assert check_item(simple, []) == "made 0 call(s), expected 1"
    assert (
        check_item(simple, [("geometry_area", {"base": 10, "height": 5})] * 2) == "made 2 call(s), expected 1"
    )
    irrelevant = Item("i", "irrelevance", [], [FUNCTION], None)
    assert check_item(irrelevant, []) is None
    assert check_item(irrelevant, [("geometry_area", {})]) == "made 1 call(s) where none was relevant"


def test_to_tool_converts_types() -> None:
    tool = to_tool(FUNCTION)["function"]
    assert tool["name"] == "geometry_area"
    props = tool["parameters"]["properties"]
    assert tool["parameters"]["type"] == "object"
    assert (props["height"]["type"], props["opts"]["type"], props["dims"]["items"]) == (
        "number",
        "object",
        {"type": "integer"},
    )
    assert "optional" not in props["unit"]
    assert props["opts"]["description"] == 'Options. Keys: {"mode": {"type": "string"}}'


def test_load_category_reads_answers(tmp_path: Path) -> None:
    items = load_category(write_bfcl(tmp_path), "simple")
    assert [(i.id, i.messages[0]["content"], i.answers is not None) for i in items] == [
        ("simple_0", "area of base 10 height 5", True),
        ("simple_1", "area of base 10 height 7", True),
    ]
    assert load_category(tmp_path, "irrelevance")[0].answers is None


def test_run_bfcl_against_fake_ollama(tmp_path: Path, ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(
        tool_call("geometry_area", base=10, height=5),
        tool_call("geometry_area", base=10, height=5),  # wrong: height 7 was asked
        tool_call("weather_get", city="Paris, France"),
        text("Why did the chicken cross the road?"),
    )
    report = run_bfcl(write_bfcl(tmp_path), host=ollama_api.url, model="qwen2.5:7b-instruct")
    assert {k: (v.correct, v.n) for k, v in report.categories.items()} == {
        "simple": (1, 2),
        "multiple": (1, 1),
        "irrelevance": (1, 1),
    }
    assert report.failures == [{"id": "simple_1", "error": "parameter 'height'=5.0 is not one of [7.0]"}]
    first = ollama_api.chat_requests[0]
    assert first["messages"] == [{"role": "user", "content": "area of base 10 height 5"}]
    assert first["tools"][0]["function"]["name"] == "geometry_area"
    assert first["tools"][0]["function"]["parameters"]["properties"]["height"]["type"] == "number"
    assert first["options"]["temperature"] == 0
    assert [len(r["tools"]) for r in ollama_api.chat_requests] == [1, 1, 2, 1]


@pytest.mark.parametrize(("category", "answered"), [("live_simple", True), ("live_irrelevance", False)])
def test_the_live_categories_load_from_the_shipped_data(category: str, answered: bool) -> None:
    items = load_category(DATASETS_DIR / "bfcl-v3", category, limit=5)
    assert len(items) == 5 and all(item.category == category for item in items)
    assert all((item.answers is not None) is answered for item in items)


def test_an_unknown_category_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(
        BadInput, match=r"^unknown BFCL category 'parallel': use simple, multiple, irrelevance, "
    ):
        load_category(tmp_path, "parallel")
