"""The intent router on a small real intent set, its calibration and storage, and the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.backends.embedded import router_calibration as cal
from agent.backends.embedded.encoder import Encoder
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_examples import (
    EXAMPLES_DIR,
    OOS_LABEL,
    ExampleFileError,
    load_training_examples,
)
from agent.backends.embedded.router_features import TfidfFeaturizer, analyze
from agent.backends.embedded.router_models import Alternative, Prediction, RouterConfig
from agent.backends.embedded.router_store import FORMAT_VERSION, RouterStoreError

TRAIN = {
    "weather": [
        "what's the weather like",
        "will it rain tomorrow",
        "forecast for the weekend",
        "is it going to be sunny",
        "how cold is it outside",
        "do I need an umbrella today",
        "weather in paris",
        "temperature right now",
    ],
    "alarm": [
        "set an alarm for 7am",
        "wake me up at six",
        "alarm at 5:30 tomorrow",
        "set my alarm for noon",
        "cancel my morning alarm",
        "remind me at 8 with an alarm",
        "new alarm 9pm",
        "turn on an alarm for 6:15",
    ],
    "music": [
        "play some jazz",
        "put on my workout playlist",
        "play the latest album by adele",
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
        "book a flight to rome",
    ],
}


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load()


@pytest.fixture(scope="module")
def router(encoder: Encoder) -> IntentRouter:
    texts = [t for ts in TRAIN.values() for t in ts]
    labels = [label for label, ts in TRAIN.items() for _ in ts]
    return IntentRouter.fit(texts, labels, encoder=encoder, oos_label="oos")


def test_routes_paraphrases_and_refuses_out_of_scope(router: IntentRouter) -> None:
    predictions = router.predict(
        ["is it raining in london", "wake me at 7 tomorrow", "play some classical music"]
    )

    assert [p.label for p in predictions] == ["weather", "alarm", "music"]
    refused = router.predict(["explain the theory of relativity"])[0]
    assert refused.label is None
    assert refused.top_label in {"weather", "alarm", "music"}
    assert refused.probability < router.threshold


def test_prediction_structure(router: IntentRouter) -> None:
    prediction = router.predict(["play some jazz please"])[0]

    assert isinstance(prediction, Prediction)
    assert prediction.label == prediction.top_label == "music"
    assert 0.0 <= prediction.probability <= 1.0
    assert [a.label for a in prediction.alternatives][0] == "music"
    assert len(prediction.alternatives) == 3
    assert "oos" not in [a.label for a in prediction.alternatives]
    probs = [a.probability for a in prediction.alternatives]
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) + prediction.oos_probability <= 1.0 + 1e-9


def test_threshold_controls_refusal(router: IntentRouter) -> None:
    original, config = router.threshold, router.state.config
    try:
        router.set_threshold(1.0)
        assert router.predict(["play some jazz"])[0].label is None
        router.set_threshold(0.0)
        # With the out-of-scope class's own refusal off, the threshold alone decides.
        router.state.config = config.model_copy(update={"oos_refusal": 1.0})
        assert router.predict(["write a poem about the sea"])[0].label is not None
        with pytest.raises(ValueError, match=r"threshold must be within \[0, 1\], got 1.5"):
            router.set_threshold(1.5)
    finally:
        router.set_threshold(original)
        router.state.config = config


def test_a_message_the_oos_class_claims_is_refused_below_any_threshold(router: IntentRouter) -> None:
    original = router.threshold
    try:
        router.set_threshold(0.0)
        refused = router.predict(["write a poem about the sea"])[0]
        assert refused.oos_probability >= router.state.config.oos_refusal
        assert refused.label is None
        assert router.predict(["play some jazz"])[0].label == "music"
    finally:
        router.set_threshold(original)


def test_save_and_load_give_identical_predictions(
    router: IntentRouter, encoder: Encoder, tmp_path: Path
) -> None:
    router.save(tmp_path / "router")
    loaded = IntentRouter.load(tmp_path / "router", encoder=encoder)
    texts = ["will it snow", "stop the music", "who painted the mona lisa"]

    assert loaded.predict(texts) == router.predict(texts)
    assert loaded.state == router.state


def test_load_refuses_missing_or_foreign_files(
    router: IntentRouter, encoder: Encoder, tmp_path: Path
) -> None:
    with pytest.raises(RouterStoreError, match="No saved router in .* \\(missing router.json"):
        IntentRouter.load(tmp_path / "nothing", encoder=encoder)
    router.save(tmp_path / "r")
    state = json.loads((tmp_path / "r" / "router.json").read_text())
    state["format_version"] = 99
    (tmp_path / "r" / "router.json").write_text(json.dumps(state))
    with pytest.raises(RouterStoreError, match=f"has format 99, expected {FORMAT_VERSION}"):
        IntentRouter.load(tmp_path / "r", encoder=encoder)


def test_calibrate_on_dev_split_sets_threshold(encoder: Encoder) -> None:
    texts = [t for ts in TRAIN.values() for t in ts]
    labels = [label for label, ts in TRAIN.items() for _ in ts]
    dev_texts = ["rain later?", "alarm for 10", "play pop music", "how tall is everest", "best pasta recipe"]
    dev_labels = ["weather", "alarm", "music", "oos", "oos"]

    router = IntentRouter.fit(texts, labels, encoder=encoder, dev_texts=dev_texts, dev_labels=dev_labels)

    predicted = [p.label or "oos" for p in router.predict(dev_texts)]
    assert predicted == dev_labels
    assert 0.0 < router.threshold <= 1.0


def test_fit_temperature(encoder: Encoder) -> None:
    router = IntentRouter.fit(
        TRAIN["weather"] + TRAIN["music"], ["weather"] * 8 + ["music"] * 8, encoder=encoder
    )

    temperature = router.fit_temperature(["rain later?", "play pop music"], ["weather", "music"])

    assert temperature == router.state.temperature > 0
    with pytest.raises(ValueError, match="fit_temperature needs labels the router knows"):
        router.fit_temperature(["hello"], ["greeting"])


def test_fit_needs_two_in_scope_labels(encoder: Encoder) -> None:
    with pytest.raises(ValueError, match="need at least two in-scope labels"):
        IntentRouter.fit(["a", "b", "c"], ["x", "oos", "oos"], encoder=encoder)


def test_fit_without_oos_class_never_refuses_by_default(encoder: Encoder) -> None:
    texts = TRAIN["weather"] + TRAIN["music"]
    labels = ["weather"] * 8 + ["music"] * 8

    router = IntentRouter.fit(texts, labels, encoder=encoder, oos_label="oos", config=RouterConfig(top_k=2))

    assert router.threshold == 0.0
    assert router.predict(["what is the capital of peru"])[0].oos_probability == 0.0


def test_choose_threshold_maximises_oos_recall_within_the_accuracy_budget() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.6, 0.1])
    correct = np.array([True, True, True, False, True, False, False])
    is_oos = np.array([False, False, False, False, False, True, True])

    # argmax accuracy 4/5. Without budget: refuse below 0.2 (catches the oos at 0.1), threshold midway
    # between 0.1 and 0.2. With a 0.2 budget the correct 0.2 may go too: refuse below 0.7, midway 0.6..0.7.
    assert cal.choose_threshold(confidence, correct, is_oos, max_in_scope_drop=0.0) == pytest.approx(0.15)
    assert cal.choose_threshold(confidence, correct, is_oos, max_in_scope_drop=0.2) == pytest.approx(0.65)
    assert cal.choose_threshold(confidence, correct, np.zeros(7, bool), max_in_scope_drop=0.2) == 0.0


def test_fit_temperature_recovers_the_generating_temperature() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 5))
    probs = np.exp(logits / 2.0) / np.exp(logits / 2.0).sum(axis=1, keepdims=True)
    targets = np.array([rng.choice(5, p=p) for p in probs])

    assert cal.fit_temperature(logits, targets) == pytest.approx(2.0, rel=0.1)


def test_tfidf_rows_are_unit_length_and_ignore_unknown_grams() -> None:
    featurizer = TfidfFeaturizer.fit(["export orders", "export customers", "orders today"], min_df=1)

    rows = featurizer.transform(["export orders", "zzz qqq"]).toarray()

    assert np.linalg.norm(rows[0]) == pytest.approx(1.0)
    assert not rows[1].any()
    assert {"w:export", "b:export_orders", " ex", "x", "rs "} <= set(analyze("Export orders"))
    assert {"w:müller", "ü"} <= set(analyze("Müller"))


def test_alternative_is_a_label_and_probability() -> None:
    assert Alternative(label="x", probability=0.5).model_dump() == {"label": "x", "probability": 0.5}


def test_shipped_training_examples_cover_every_tool() -> None:
    texts, labels = load_training_examples(EXAMPLES_DIR)

    counts = {label: labels.count(label) for label in set(labels)}
    assert len(counts) == 18
    assert counts[OOS_LABEL] >= 150
    assert min(n for label, n in counts.items() if label != OOS_LABEL) >= 40
    assert len(texts) == len({t.casefold() for t in texts})


def test_example_files_are_validated(tmp_path: Path) -> None:
    (tmp_path / "run_report.yaml").write_text("tool: export_dataset\nexamples: [a]\n")
    with pytest.raises(ExampleFileError, match="tool is 'export_dataset', expected 'run_report'"):
        load_training_examples(tmp_path)

    (tmp_path / "run_report.yaml").write_text("tool: run_report\nexamples: [show sales]\n")
    (tmp_path / "out_of_scope.yaml").write_text("tool: null\nexamples: [Show  sales]\n")
    with pytest.raises(
        ExampleFileError, match="'show sales' is listed under both '__out_of_scope__' and 'run_report'"
    ):
        load_training_examples(tmp_path)


def test_out_of_fold_calibration_holds_out_whole_writers() -> None:
    from agent.backends.embedded.router_training import _folds

    writers = [f"voice{i % 7}" for i in range(140)]
    targets = np.array([i % 4 for i in range(140)], dtype=np.int64)
    folds = _folds(targets, n_labels=4, config=RouterConfig(), writers=writers)
    assert len(folds) == RouterConfig().folds
    for train, held in folds:
        assert not {writers[i] for i in train} & {writers[i] for i in held}
    assert sorted(i for _, held in folds for i in held) == list(range(140))
    # One writer only (or the option off): folds are stratified by label, as before.
    for config, who in ((RouterConfig(), ["base"] * 140), (RouterConfig(fold_by_writer=False), writers)):
        stratified = _folds(targets, n_labels=4, config=config, writers=who)
        assert all({writers[i] for i in train} & {writers[i] for i in held} for train, held in stratified)
