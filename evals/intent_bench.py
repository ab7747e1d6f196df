"""Generic intent benchmark: train the embedded router on any intent set and score it at its threshold.

One code path serves CLINC150, SNIPS and any set laid out as ``DIR/train.jsonl``, ``DIR/test.jsonl`` and
optionally ``DIR/val.jsonl`` (lines ``{"text": ..., "intent": ...}``; intent ``oos`` = out of scope). Each
intent is treated as a tool whose training utterances are its examples. The threshold (and the router's
temperature and confidence map) is fitted on val when given, else out-of-fold on train; test is only scored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.backends.embedded.encoder import Encoder
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_models import Prediction, RouterConfig
from evals.benchmarks_convert import OOS_INTENT, IntentExample

logger = logging.getLogger(__name__)

LATENCY_SAMPLES = 200


class IntentSplits(BaseModel):
    """An intent set held in memory."""

    model_config = ConfigDict(extra="forbid")

    name: str = "intents"
    train: list[IntentExample]
    test: list[IntentExample]
    val: list[IntentExample] | None = None


class IntentBenchResult(BaseModel):
    """Scores of one intent benchmark run (fractions in [0, 1]; None when not applicable)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    n_train: int
    n_val: int
    n_test: int
    n_test_in_scope: int
    n_test_oos: int
    n_intents: int = Field(description="In-scope intents seen in train.")
    calibrated_on: str = Field(description="'val' or 'out-of-fold train'.")
    in_scope_accuracy: float = Field(
        description="In-scope test messages given the right intent at the threshold."
    )
    in_scope_accuracy_argmax: float = Field(
        description="Same, ignoring the threshold (best in-scope intent)."
    )
    macro_f1: float = Field(description="Macro-F1 over the in-scope intents plus oos (refusal = oos).")
    oos_recall: float | None
    oos_precision: float | None
    false_refusal_rate: float = Field(description="In-scope test messages refused as out of scope.")
    threshold: float
    temperature: float
    mix_weight: float
    latency_ms_p50: float = Field(description="One message end to end (encode + route), warm, single thread.")
    latency_ms_p95: float
    fit_seconds: float
    total_seconds: float
    slot_f1: float | None = Field(None, description="Not computed by this runner.")


class IntentBenchError(ValueError):
    """The intent set is missing or malformed."""


def load_split(path: Path) -> list[IntentExample]:
    """Read one JSONL split.

    Raises:
        IntentBenchError: Missing file or a line that is not ``{"text": str, "intent": str}``.
    """
    if not path.is_file():
        raise IntentBenchError(f"Intent split not found: {path}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(IntentExample.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise IntentBenchError(
                f'{path}:{number}: expected {{"text": ..., "intent": ...}} ({exc})'
            ) from None
    return rows


def load_intent_dir(directory: Path) -> IntentSplits:
    """Read ``train.jsonl``, ``test.jsonl`` and the optional ``val.jsonl`` of an intent directory."""
    val_path = directory / "val.jsonl"
    return IntentSplits(
        name=directory.name,
        train=load_split(directory / "train.jsonl"),
        test=load_split(directory / "test.jsonl"),
        val=load_split(val_path) if val_path.is_file() else None,
    )


def _macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def _latency_ms(router: IntentRouter, texts: Sequence[str], samples: int) -> tuple[float, float]:
    if not texts or samples <= 0:
        return 0.0, 0.0
    step = max(1, len(texts) // samples)
    chosen = list(texts[::step])[:samples]
    router.predict(chosen[:5])  # warm-up: first ONNX calls allocate
    timings = []
    for text in chosen:
        start = time.perf_counter()
        router.predict([text])
        timings.append((time.perf_counter() - start) * 1000.0)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95))


def score_predictions(
    gold: Sequence[str], predictions: Sequence[Prediction]
) -> dict[str, float | int | None]:
    """Score router predictions against gold intents (``oos`` = out of scope)."""
    pred = [p.label if p.label is not None else OOS_INTENT for p in predictions]
    in_scope = [i for i, g in enumerate(gold) if g != OOS_INTENT]
    oos = [i for i, g in enumerate(gold) if g == OOS_INTENT]
    refused = [i for i, p in enumerate(pred) if p == OOS_INTENT]

    def frac(hits: int, total: int) -> float:
        return hits / total if total else 0.0

    return {
        "n_test_in_scope": len(in_scope),
        "n_test_oos": len(oos),
        "in_scope_accuracy": frac(sum(pred[i] == gold[i] for i in in_scope), len(in_scope)),
        "in_scope_accuracy_argmax": frac(
            sum(predictions[i].top_label == gold[i] for i in in_scope), len(in_scope)
        ),
        "false_refusal_rate": frac(sum(pred[i] == OOS_INTENT for i in in_scope), len(in_scope)),
        "oos_recall": frac(sum(pred[i] == OOS_INTENT for i in oos), len(oos)) if oos else None,
        "oos_precision": frac(sum(gold[i] == OOS_INTENT for i in refused), len(refused)) if oos else None,
        "macro_f1": _macro_f1(gold, pred),
    }


def _fit_router(
    train: Sequence[IntentExample],
    val: Sequence[IntentExample] | None,
    *,
    encoder: Encoder,
    config: RouterConfig | None,
    train_emb: np.ndarray,
    val_emb: np.ndarray | None,
) -> IntentRouter:
    return IntentRouter.fit(
        [e.text for e in train],
        [e.intent for e in train],
        encoder=encoder,
        oos_label=OOS_INTENT,
        dev_texts=[e.text for e in val] if val else None,
        dev_labels=[e.intent for e in val] if val else None,
        config=config,
        embeddings=train_emb,
        dev_embeddings=val_emb,
    )


def _check(splits: IntentSplits) -> int:
    intents = {e.intent for e in splits.train} - {OOS_INTENT}
    if len(intents) < 2:
        raise IntentBenchError(
            f"{splits.name}: train needs at least two in-scope intents, found {len(intents)}"
        )
    if not splits.test:
        raise IntentBenchError(f"{splits.name}: test split is empty")
    return len(intents)


def run_intent_benchmark(
    dir_or_splits: Path | IntentSplits,
    *,
    encoder: Encoder,
    config: RouterConfig | None = None,
    latency_samples: int = LATENCY_SAMPLES,
    progress: Callable[[str], None] | None = None,
) -> IntentBenchResult:
    """Train the router on train, calibrate on val (or out-of-fold), and score test.

    Args:
        dir_or_splits: An intent directory or splits already in memory.
        encoder: Sentence encoder (2 threads suit an offline run, but latency is then not the serving figure).
        config: Router hyperparameters (defaults otherwise).
        latency_samples: Test messages timed one by one for the latency figures (0 to skip).
        progress: Called with a short stage description ("encoding train", ...).

    Returns:
        The scores.

    Raises:
        IntentBenchError: Missing or malformed data, or fewer than two in-scope intents in train.
    """
    started = time.perf_counter()
    note = progress or (lambda _msg: None)
    splits = dir_or_splits if isinstance(dir_or_splits, IntentSplits) else load_intent_dir(dir_or_splits)
    n_intents = _check(splits)
    note(f"encoding train ({len(splits.train)})")
    train_emb = encoder.encode([e.text for e in splits.train])
    val = splits.val or None
    val_emb = None
    if val:
        note(f"encoding val ({len(val)})")
        val_emb = encoder.encode([e.text for e in val])
    note("fitting router")
    fit_start = time.perf_counter()
    router = _fit_router(
        splits.train, val, encoder=encoder, config=config, train_emb=train_emb, val_emb=val_emb
    )
    fit_seconds = time.perf_counter() - fit_start
    test_texts = [e.text for e in splits.test]
    note(f"encoding and routing test ({len(test_texts)})")
    predictions = router.predict(test_texts, embeddings=encoder.encode(test_texts))
    note("timing single decisions")
    p50, p95 = _latency_ms(router, test_texts, latency_samples)
    result = IntentBenchResult.model_validate(
        {
            **score_predictions([e.intent for e in splits.test], predictions),
            "name": splits.name,
            "n_train": len(splits.train),
            "n_val": len(val) if val else 0,
            "n_test": len(splits.test),
            "n_intents": n_intents,
            "calibrated_on": "val" if val else "out-of-fold train",
            "threshold": router.threshold,
            "temperature": router.state.temperature,
            "mix_weight": router.state.mix_weight,
            "latency_ms_p50": p50,
            "latency_ms_p95": p95,
            "fit_seconds": fit_seconds,
            "total_seconds": time.perf_counter() - started,
        }
    )
    logger.info(
        "intent benchmark done", extra={"benchmark": splits.name, "accuracy": result.in_scope_accuracy}
    )
    return result


def cross_validate(
    examples: Sequence[IntentExample],
    *,
    encoder: Encoder,
    folds: int = 5,
    config: RouterConfig | None = None,
    name: str = "cross-validation",
    latency_samples: int = 0,
) -> IntentBenchResult:
    """Stratified k-fold accuracy of the router over one labelled pool (e.g. the tool training examples).

    This measures how well the examples teach the router, on the examples themselves: it is not an
    evaluation on independent data. Each fold trains on the rest and calibrates out-of-fold inside it;
    the held-out predictions of all folds are pooled and scored.

    Returns:
        Pooled scores; threshold, temperature and mix weight are fold means; n_train is the pool size.
    """
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    _check(IntentSplits(name=name, train=list(examples), test=list(examples)))
    emb = encoder.encode([e.text for e in examples])
    gold = [e.intent for e in examples]
    predictions: list[Prediction | None] = [None] * len(examples)
    fitted: list[IntentRouter] = []
    fit_seconds = 0.0
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_idx, test_idx in splitter.split(np.zeros(len(gold)), gold):
        fit_start = time.perf_counter()
        router = _fit_router(
            [examples[i] for i in train_idx],
            None,
            encoder=encoder,
            config=config,
            train_emb=emb[train_idx],
            val_emb=None,
        )
        fit_seconds += time.perf_counter() - fit_start
        held = router.predict([examples[i].text for i in test_idx], embeddings=emb[test_idx])
        for i, prediction in zip(test_idx, held, strict=True):
            predictions[i] = prediction
        fitted.append(router)
    pooled = [p for p in predictions if p is not None]
    p50, p95 = _latency_ms(fitted[-1], [e.text for e in examples], latency_samples)
    return IntentBenchResult.model_validate(
        {
            **score_predictions(gold, pooled),
            "name": name,
            "n_train": len(examples),
            "n_val": 0,
            "n_test": len(examples),
            "n_intents": len(set(gold) - {OOS_INTENT}),
            "calibrated_on": f"out-of-fold inside each of {folds} folds",
            "threshold": float(np.mean([r.threshold for r in fitted])),
            "temperature": float(np.mean([r.state.temperature for r in fitted])),
            "mix_weight": float(np.mean([r.state.mix_weight for r in fitted])),
            "latency_ms_p50": p50,
            "latency_ms_p95": p95,
            "fit_seconds": fit_seconds,
            "total_seconds": time.perf_counter() - started,
        }
    )
