"""Leave-one-voice-out: how well does the router understand a voice none of its training data was written in?

For each voice file under ``prompts/examples/voices/`` the router is trained twice without it: on the base files
only, and on the base files plus the other voices. Both are scored on the held-out voice's utterances (names as
written, since the router then sees no database). The gap between the two says what the independent voices add
for a stranger's phrasing; k-fold cross-validation cannot, since its folds share their writers.

    python -m evals.voice_holdout [--json]

Router-only scores (the label the router picks, out of scope included), not the whole planner: a training-data
question, not an eval result. Training data only: no eval split is read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_examples import (
    EXAMPLES_DIR,
    OOS_LABEL,
    VOICES,
    expand_markup,
    labelled_files,
    load_training_set,
)


@dataclass(frozen=True)
class VoiceScore:
    """One held-out voice, scored by a router trained on the base files alone and on base plus other voices."""

    voice: str
    n: int
    n_oos: int
    base_accuracy: float
    base_oos_recall: float
    with_voices_accuracy: float
    with_voices_oos_recall: float


def _scores(router: IntentRouter, texts: list[str], labels: list[str]) -> tuple[float, float]:
    predicted = [p.label if p.label is not None else OOS_LABEL for p in router.predict(texts)]
    right = [p == g for p, g in zip(predicted, labels, strict=True)]
    oos = [r for r, g in zip(right, labels, strict=True) if g == OOS_LABEL]
    return float(np.mean(right)), float(np.mean(oos)) if oos else float("nan")


def holdout(directory: Path = EXAMPLES_DIR) -> list[VoiceScore]:
    """Score every voice held out (see the module docstring)."""
    from agent.backends.factory import load_encoder

    encoder = load_encoder(2)
    voices = sorted((directory / VOICES).glob("*.yaml"))
    vectors: dict[str, np.ndarray] = {}

    def fit(skip: set[Path]) -> IntentRouter:
        texts, labels, writers = load_training_set(directory, skip=skip)
        fresh = [t for t in dict.fromkeys(texts) if t not in vectors]
        if fresh:  # each text is encoded once for all the fits
            vectors.update(zip(fresh, encoder.encode(fresh), strict=True))
        embeddings = np.stack([vectors[t] for t in texts]).astype(np.float32)
        return IntentRouter.fit(
            texts, labels, encoder=encoder, oos_label=OOS_LABEL, embeddings=embeddings, writers=writers
        )

    base = fit(set(voices))
    results = []
    for voice in voices:
        held: list[tuple[str, str]] = []
        for path, label, texts in labelled_files(directory):
            if path == voice:
                held.extend((expand_markup(text)[0], label) for text in texts)
        router = fit({voice})
        held_texts, held_labels = [t for t, _ in held], [g for _, g in held]
        base_acc, base_oos = _scores(base, held_texts, held_labels)
        acc, oos = _scores(router, held_texts, held_labels)
        results.append(
            VoiceScore(
                voice=voice.stem,
                n=len(held),
                n_oos=sum(1 for g in held_labels if g == OOS_LABEL),
                base_accuracy=round(base_acc, 4),
                base_oos_recall=round(base_oos, 4),
                with_voices_accuracy=round(acc, 4),
                with_voices_oos_recall=round(oos, 4),
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = holdout()
    if args.json:
        sys.stdout.write(json.dumps([asdict(r) for r in results], indent=1) + "\n")
        return 0
    out = sys.stdout.write
    out("| held-out voice | n | OOS n | base only: accuracy / OOS recall | base + other voices |\n")
    out("|---|---:|---:|---:|---:|\n")
    for r in results:
        out(
            f"| {r.voice} | {r.n} | {r.n_oos} | {r.base_accuracy:.1%} / {r.base_oos_recall:.1%} "
            f"| {r.with_voices_accuracy:.1%} / {r.with_voices_oos_recall:.1%} |\n"
        )
    sys.stderr.write(f"({time.perf_counter() - started:.0f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
