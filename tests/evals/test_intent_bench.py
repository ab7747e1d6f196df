"""The generic intent benchmark runner and the CLINC150/SNIPS converters (tiny slices of the real files)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.backends.embedded.encoder import Encoder
from agent.backends.embedded.router_models import Alternative, Prediction
from evals.benchmarks_convert import (
    SNIPS_INTENTS,
    ConversionError,
    IntentExample,
    convert_clinc150,
    convert_snips,
    prepare_benchmark,
    write_split,
)
from evals.intent_bench import (
    IntentBenchError,
    IntentSplits,
    cross_validate,
    load_intent_dir,
    run_intent_benchmark,
    score_predictions,
)

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
# CI runs with shared/ beside the clone, so there the data must be found: skip only outside CI.
needs_datasets = pytest.mark.skipif(
    not (DATASETS / "clinc150").is_dir() and not os.environ.get("CI"),
    reason=f"no public datasets at {DATASETS}",
)

TRAIN = {
    "weather": [
        "what's the weather like",
        "will it rain tomorrow",
        "forecast for the weekend",
        "is it sunny out",
        "how cold is it outside",
        "do I need an umbrella",
        "weather in paris",
        "temperature right now",
    ],
    "alarm": [
        "set an alarm for 7am",
        "wake me up at six",
        "alarm at 5:30 tomorrow",
        "set my alarm for noon",
        "cancel my morning alarm",
        "alarm please at 8",
        "new alarm 9pm",
        "turn on an alarm for 6:15",
    ],
    "music": [
        "play some jazz",
        "put on my workout playlist",
        "play the new adele album",
        "skip this song",
        "play music",
        "i want to hear some rock",
        "shuffle my favourites",
        "play something relaxing",
    ],
    "oos": [
        "what is the capital of peru",
        "write a poem about the sea",
        "how do I bake bread",
        "tell me a joke",
        "who won the match yesterday",
        "translate hello into spanish",
        "what's 12 times 9",
        "book a flight",
    ],
}
VAL = [
    ("rain later today?", "weather"),
    ("alarm for 10 please", "alarm"),
    ("play pop music", "music"),
    ("how tall is everest", "oos"),
    ("best pasta recipe", "oos"),
]
TEST = [
    ("is it going to snow", "weather"),
    ("wake me at 7 tomorrow", "alarm"),
    ("put on some classical music", "music"),
    ("who painted the mona lisa", "oos"),
    ("explain quantum physics", "oos"),
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load()


def _examples(pairs: list[tuple[str, str]]) -> list[IntentExample]:
    return [IntentExample(text=t, intent=i) for t, i in pairs]


@pytest.fixture
def intent_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "toy"
    write_split(folder / "train.jsonl", _examples([(t, i) for i, ts in TRAIN.items() for t in ts]))
    write_split(folder / "val.jsonl", _examples(VAL))
    write_split(folder / "test.jsonl", _examples(TEST))
    return folder


def test_run_intent_benchmark_on_a_directory(intent_dir: Path, encoder: Encoder) -> None:
    stages: list[str] = []

    result = run_intent_benchmark(intent_dir, encoder=encoder, latency_samples=3, progress=stages.append)

    assert (result.name, result.n_train, result.n_val, result.n_test) == ("toy", 32, 5, 5)
    assert (result.n_test_in_scope, result.n_test_oos, result.n_intents) == (3, 2, 3)
    assert result.calibrated_on == "val"
    assert result.in_scope_accuracy == result.in_scope_accuracy_argmax == 1.0
    assert result.oos_recall == 1.0
    assert result.macro_f1 == 1.0
    assert result.latency_ms_p95 >= result.latency_ms_p50 > 0
    assert stages == [
        "encoding train (32)",
        "encoding val (5)",
        "fitting router",
        "encoding and routing test (5)",
        "timing single decisions",
    ]


def test_run_intent_benchmark_without_val_calibrates_out_of_fold(encoder: Encoder) -> None:
    splits = IntentSplits(
        name="mem", train=_examples([(t, i) for i, ts in TRAIN.items() for t in ts]), test=_examples(TEST)
    )

    result = run_intent_benchmark(splits, encoder=encoder, latency_samples=0)

    assert result.calibrated_on == "out-of-fold train"
    assert result.n_val == 0
    assert result.in_scope_accuracy_argmax == 1.0
    assert (result.latency_ms_p50, result.latency_ms_p95) == (0.0, 0.0)


def test_cross_validate_pools_every_example(encoder: Encoder) -> None:
    pool = _examples([(t, i) for i, ts in TRAIN.items() for t in ts])

    result = cross_validate(pool, encoder=encoder, folds=4)

    assert (result.n_test, result.n_test_in_scope, result.n_test_oos) == (32, 24, 8)
    assert result.calibrated_on == "out-of-fold inside each of 4 folds"
    assert result.in_scope_accuracy_argmax >= 0.9


def test_score_predictions_counts_refusals_as_oos() -> None:
    def pred(label: str | None, top: str) -> Prediction:
        return Prediction(
            label=label,
            probability=0.5,
            top_label=top,
            alternatives=[Alternative(label=top, probability=0.5)],
            oos_probability=0.1,
        )

    gold = ["a", "a", "b", "oos", "oos"]
    predictions = [pred("a", "a"), pred(None, "a"), pred("a", "a"), pred(None, "b"), pred("b", "b")]

    assert score_predictions(gold, predictions) == {
        "n_test_in_scope": 3,
        "n_test_oos": 2,
        "in_scope_accuracy": 1 / 3,
        "in_scope_accuracy_argmax": 2 / 3,
        "false_refusal_rate": 1 / 3,
        "oos_recall": 0.5,
        "oos_precision": 0.5,
        # a: P=1/2 R=1/2, b: P=0 R=0, oos: P=1/2 R=1/2
        "macro_f1": pytest.approx((0.5 + 0.0 + 0.5) / 3),
    }


def test_malformed_or_missing_splits_are_clear_errors(tmp_path: Path, encoder: Encoder) -> None:
    with pytest.raises(IntentBenchError, match="Intent split not found: .*train.jsonl"):
        load_intent_dir(tmp_path)
    (tmp_path / "train.jsonl").write_text('{"text": "hi", "intent": "a"}\n{"text": "no intent"}\n')
    (tmp_path / "test.jsonl").write_text("")
    with pytest.raises(IntentBenchError, match=r"train.jsonl:2: expected \{\"text\": ..., \"intent\": ...\}"):
        load_intent_dir(tmp_path)
    (tmp_path / "train.jsonl").write_text('{"text": "hi", "intent": "a"}\n')
    with pytest.raises(IntentBenchError, match="train needs at least two in-scope intents, found 1"):
        run_intent_benchmark(tmp_path, encoder=encoder)


@needs_datasets
def test_convert_clinc150_slice(tmp_path: Path) -> None:
    full = json.loads((DATASETS / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    tiny = {split: rows[:3] for split, rows in full.items()}
    (tmp_path / "data_full.json").write_text(json.dumps(tiny))

    out = convert_clinc150(tmp_path, tmp_path / "out")

    splits = load_intent_dir(out)
    for name, got in (("train", splits.train), ("val", splits.val), ("test", splits.test)):
        expected = tiny[name] + tiny[f"oos_{name}"]
        assert [(e.text, e.intent) for e in got or []] == [(t, i) for t, i in expected]
    assert {e.intent for e in splits.test[3:]} == {"oos"}


@needs_datasets
def test_convert_snips_slice(tmp_path: Path) -> None:
    src = tmp_path / "snips"
    for intent in SNIPS_INTENTS:
        (src / intent).mkdir(parents=True)
        for kind in ("train", "validate"):
            raw = json.loads(
                (DATASETS / "snips" / intent / f"{kind}_{intent}.json").read_text(encoding="utf-8")
            )
            (src / intent / f"{kind}_{intent}.json").write_text(json.dumps({intent: raw[intent][:2]}))

    splits = load_intent_dir(convert_snips(src, tmp_path / "out"))

    assert splits.val is None
    assert [e.intent for e in splits.train] == [i for i in SNIPS_INTENTS for _ in range(2)]
    assert len(splits.test) == 14
    first = json.loads((src / "PlayMusic" / "train_PlayMusic.json").read_text())["PlayMusic"][0]
    joined = " ".join("".join(chunk["text"] for chunk in first["data"]).split())
    assert IntentExample(text=joined, intent="PlayMusic") in splits.train


def test_prepare_benchmark_errors(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="Unknown benchmark 'atis'; choose one of: clinc150, snips"):
        prepare_benchmark("atis", datasets_dir=tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(ConversionError, match="CLINC150 file not found: .*data_full.json"):
        prepare_benchmark("clinc150", datasets_dir=tmp_path, cache_dir=tmp_path / "cache")
