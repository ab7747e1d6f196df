"""Training a candidate router on the base examples plus the latest reviewed examples.

The reviewed examples are split by a hash of their id: about ``held_out_percent`` % are never trained on and
become the candidate's own test set; the rest join the base examples (prompts/examples). A reviewed example whose
text equals a line of the locked dev split is dropped altogether, so the split the gate measures on stays unseen.
A reviewed example with the same words as a base example replaces that example's label: a person reviewed it.

The candidate is saved under ``<var_dir>/routers/<fingerprint>/`` with its calibration (fitted by the caller, who
can run the evals) and ``manifest.json``, in a staging folder renamed into place once complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent.backends.embedded.calibration import JointCalibration
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_examples import OOS_LABEL, load_training_set
from agent.backends.embedded.signals import quoted_as_payload
from agent.backends.factory import ENCODER_FILE, examples_fingerprint, load_encoder
from agent.modelops.candidate_models import CandidateCounts, CandidateManifest, CandidateRecipe
from agent.modelops.candidate_store import (
    CALIBRATION_NAME,
    read_held_out,
    read_manifest,
    router_folder,
    write_held_out,
    write_manifest,
)
from agent.modelops.reviewed import ReviewedExample, ReviewedSet
from core.errors import BadInput
from core.store.db import utcnow

logger = logging.getLogger(__name__)
#: Fits the joint calibration of a freshly trained router, bound to the fingerprint given.
Calibrate = Callable[[IntentRouter, str], JointCalibration | None]


def normalised(text: str) -> str:
    """Text compared for the locked-split rule and for relabelling: casefolded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def candidate_fingerprint(*, base_fingerprint: str, reviewed_sha256: str, recipe: CandidateRecipe) -> str:
    """Hash of what the candidate is made from: base examples, reviewed version, recipe."""
    head = f"candidate\0{base_fingerprint}\0{reviewed_sha256}\0{recipe.model_dump_json()}"
    return hashlib.sha256(head.encode()).hexdigest()[:16]


def is_held_out(example: ReviewedExample, *, percent: int) -> bool:
    """Whether a reviewed example belongs to the held-out split (stable: depends on its id alone)."""
    bucket = int.from_bytes(hashlib.sha256(example.id.encode()).digest()[:4], "big") % 100
    return bucket < percent


@dataclass(frozen=True)
class TrainingSet:
    """What a candidate learns from, what it is tested on, and the counts of both."""

    texts: list[str]
    labels: list[str]
    embeddings: npt.NDArray[np.float32]
    writers: list[str]  # see load_training_set; each reviewed example is a writer of its own
    held_out: list[ReviewedExample]
    counts: CandidateCounts


@lru_cache(maxsize=2)
def _base(
    fingerprint: str, every: int, threads: int
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bytes]:
    # Encoding the base examples is most of a candidate's training time; they only change with ``fingerprint``.
    del fingerprint  # the cache key
    texts, labels, writers = load_training_set()
    texts, labels, writers = texts[::every], labels[::every], writers[::every]
    raw = load_encoder(threads).encode(texts).astype(np.float32).tobytes()
    return tuple(texts), tuple(labels), tuple(writers), raw


def build_training_set(
    reviewed: ReviewedSet, *, recipe: CandidateRecipe, locked_texts: Collection[str], threads: int = 1
) -> TrainingSet:
    """Base examples plus the reviewed training split; the held-out reviewed split apart.

    Args:
        reviewed: The reviewed set (``tool=None``: out of scope).
        recipe: Held-out share and base sample.
        locked_texts: The locked split's messages; reviewed examples with the same words are dropped.
        threads: Encoder threads.
    """
    base_texts, base_labels, base_writers, raw = _base(examples_fingerprint(), recipe.base_every, threads)
    texts, labels, writers = list(base_texts), list(base_labels), list(base_writers)
    base_embeddings = np.frombuffer(raw, dtype=np.float32).reshape(len(texts), -1)
    known, locked = set(labels), {normalised(text) for text in locked_texts}
    index = {normalised(text): i for i, text in enumerate(texts)}
    train: dict[str, tuple[str, str]] = {}
    held_out: list[ReviewedExample] = []
    dropped_locked = dropped_unknown = 0
    for example in reviewed.examples:
        label = example.tool or OOS_LABEL
        if normalised(example.text) in locked:
            dropped_locked += 1
        elif label not in known:
            dropped_unknown += 1
        elif is_held_out(example, percent=recipe.held_out_percent):
            held_out.append(example)
        else:
            text = quoted_as_payload(example.text)
            train[normalised(text)] = (text, label)  # a later review of the same words wins
    relabelled, extra = 0, []
    for key, (text, label) in train.items():
        if key in index:
            relabelled += labels[index[key]] != label
            labels[index[key]] = label
        else:
            extra.append((text, label))
    embeddings = base_embeddings
    if extra:
        new = load_encoder(threads).encode([text for text, _ in extra]).astype(np.float32)
        embeddings = np.vstack([base_embeddings, new])
        texts += [text for text, _ in extra]
        labels += [label for _, label in extra]
        # Reviewed examples come from many operators, none known: each is a writer of its own.
        writers += [f"reviewed:{n}" for n in range(len(extra))]
    counts = CandidateCounts(
        base=len(base_texts),
        reviewed=len(reviewed.examples),
        reviewed_train=len(train),
        held_out=len(held_out),
        dropped_locked=dropped_locked,
        dropped_unknown_tool=dropped_unknown,
        relabelled=relabelled,
    )
    return TrainingSet(texts, labels, embeddings, writers, held_out, counts)


@dataclass(frozen=True)
class TrainedCandidate:
    """A candidate on disk, loaded, with what it was tested on."""

    manifest: CandidateManifest
    router: IntentRouter
    held_out: list[ReviewedExample]
    seconds: float
    reused: bool


def train_candidate(
    *,
    var_dir: Path,
    reviewed: ReviewedSet,
    recipe: CandidateRecipe,
    locked_texts: Collection[str],
    calibrate: Calibrate,
    threads: int = 1,
) -> TrainedCandidate:
    """Train, calibrate and save a candidate (or load it, when this exact candidate was trained before).

    Raises:
        BadInput: The training set has fewer than two tools.
    """
    started = time.perf_counter()
    var = var_dir
    base = examples_fingerprint()
    fingerprint = candidate_fingerprint(base_fingerprint=base, reviewed_sha256=reviewed.sha256, recipe=recipe)
    folder = router_folder(var, fingerprint)
    encoder = load_encoder(threads)
    if (folder / "manifest.json").is_file():
        router = IntentRouter.load(folder, encoder=encoder)
        manifest = read_manifest(var, fingerprint)
        return TrainedCandidate(manifest, router, read_held_out(folder), time.perf_counter() - started, True)
    data = build_training_set(reviewed, recipe=recipe, locked_texts=locked_texts, threads=threads)
    try:
        router = IntentRouter.fit(
            data.texts,
            data.labels,
            encoder=encoder,
            oos_label=OOS_LABEL,
            embeddings=data.embeddings,
            writers=data.writers,
        )
    except ValueError as exc:
        raise BadInput(f"cannot train a candidate router: {exc}") from exc
    staging = folder.with_name(f".{fingerprint}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    router.save(staging)
    (staging / "FINGERPRINT").write_text(fingerprint + "\n", encoding="utf-8")
    (staging / ENCODER_FILE).write_text(encoder.model_sha + "\n", encoding="utf-8")
    write_held_out(staging, data.held_out)
    calibration = calibrate(router, fingerprint)
    if calibration is not None:
        calibration.save(staging / CALIBRATION_NAME)
    manifest = CandidateManifest(
        fingerprint=fingerprint,
        base_fingerprint=base,
        reviewed_version=reviewed.version,
        reviewed_sha256=reviewed.sha256,
        recipe=recipe,
        counts=data.counts,
        created_at=utcnow(),
        encoder_sha=encoder.model_sha,
    )
    write_manifest(staging, manifest)
    os.replace(staging, folder)
    seconds = time.perf_counter() - started
    logger.info("candidate router %s trained on %d examples in %.1f s", fingerprint, len(data.texts), seconds)
    return TrainedCandidate(manifest, router, data.held_out, seconds, False)
