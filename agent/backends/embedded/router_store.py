"""Saving and loading a fitted router as JSON plus an .npz of float arrays (no pickle, nothing executable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from agent.backends.embedded.router_features import TfidfFeaturizer
    from agent.backends.embedded.router_models import RouterState

STATE_FILE = "router.json"
VOCAB_FILE = "vocabulary.json"
ARRAYS_FILE = "router.npz"
# Bump whenever saved weights stop matching the code (features, scoring): old routers must then be retrained.
# 2: character unigrams come from the bare word (no padding-space unigram).
# 3: quoted passages of several words are read as the word "message" (signals.quoted_as_payload).
# 4: ... only when they are to be sent; a forwarded request in quotes is read as written.
FORMAT_VERSION = 4


class RouterStoreError(RuntimeError):
    """A saved router is missing, unreadable or from an incompatible version."""


def save(
    directory: Path,
    *,
    state: RouterState,
    featurizer: TfidfFeaturizer,
    arrays: dict[str, npt.NDArray[np.float32]],
) -> None:
    """Write state, n-gram vocabulary and weights into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    to_save: dict[str, Any] = {"idf": featurizer.idf, **arrays}
    np.savez(directory / ARRAYS_FILE, **to_save)
    (directory / VOCAB_FILE).write_text(
        json.dumps(featurizer.vocabulary, ensure_ascii=False), encoding="utf-8"
    )
    payload = {"format_version": FORMAT_VERSION, "state": json.loads(state.model_dump_json())}
    (directory / STATE_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")


def load(directory: Path) -> tuple[str, list[str], dict[str, npt.NDArray[np.float32]]]:
    """Read what :func:`save` wrote.

    Returns:
        ``(state_json, vocabulary, arrays)``; ``arrays`` includes ``idf``.

    Raises:
        RouterStoreError: Files are missing or of another format version.
    """
    paths = [directory / name for name in (STATE_FILE, VOCAB_FILE, ARRAYS_FILE)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise RouterStoreError(f"No saved router in {directory} (missing {', '.join(missing)})")
    payload = json.loads(paths[0].read_text(encoding="utf-8"))
    if payload.get("format_version") != FORMAT_VERSION:
        found = payload.get("format_version")
        raise RouterStoreError(f"Saved router in {directory} has format {found}, expected {FORMAT_VERSION}")
    vocabulary = json.loads(paths[1].read_text(encoding="utf-8"))
    with np.load(paths[2], allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return json.dumps(payload["state"]), vocabulary, arrays
