"""Converters from public intent benchmarks to the generic intent layout used by :mod:`evals.intent_bench`.

The layout is a directory with ``train.jsonl``, ``test.jsonl`` and optionally ``val.jsonl``; each line is
``{"text": ..., "intent": ...}`` and the intent ``oos`` marks an out-of-scope message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)

OOS_INTENT = "oos"
SNIPS_INTENTS = (
    "AddToPlaylist",
    "BookRestaurant",
    "GetWeather",
    "PlayMusic",
    "RateBook",
    "SearchCreativeWork",
    "SearchScreeningEvent",
)
BENCHMARKS = ("clinc150", "snips")


class IntentExample(BaseModel):
    """One line of an intent split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    intent: str


class ConversionError(ValueError):
    """The source files are missing or not in the expected format."""


def write_split(path: Path, examples: Iterable[IntentExample]) -> int:
    """Write examples as JSON lines; returns how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for example in examples:
            fh.write(json.dumps(example.model_dump(), ensure_ascii=False) + "\n")
            count += 1
    return count


def convert_clinc150(src: Path, dst: Path) -> Path:
    """Convert CLINC150 ``data_full.json`` to the intent layout.

    train = train + oos_train, val = val + oos_val, test = test + oos_test.

    Args:
        src: The ``data_full.json`` file, or the folder holding it.
        dst: Output directory.

    Returns:
        ``dst``.

    Raises:
        ConversionError: ``src`` is missing or lacks one of the six splits.
    """
    path = src if src.suffix == ".json" else src / "data_full.json"
    if not path.is_file():
        raise ConversionError(f"CLINC150 file not found: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    for split in ("train", "val", "test"):
        parts = [split, f"oos_{split}"]
        missing = [p for p in parts if p not in data]
        if missing:
            raise ConversionError(f"{path} has no {', '.join(missing)} split")
        rows = [IntentExample(text=text, intent=intent) for part in parts for text, intent in data[part]]
        write_split(dst / f"{split}.jsonl", rows)
    logger.info("converted clinc150", extra={"src": str(path), "dst": str(dst)})
    return dst


def _snips_utterances(path: Path, intent: str) -> list[IntentExample]:
    if not path.is_file():
        raise ConversionError(f"SNIPS file not found: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if intent not in data:
        raise ConversionError(f"{path} has no {intent!r} key")
    rows = []
    for item in data[intent]:
        text = "".join(chunk["text"] for chunk in item["data"]).strip()
        rows.append(IntentExample(text=" ".join(text.split()), intent=intent))
    return rows


def convert_snips(src: Path, dst: Path) -> Path:
    """Convert the SNIPS 2017 custom-intent data to the intent layout (no out-of-scope class).

    ``<Intent>/train_<Intent>.json`` (300 per intent) becomes train; ``validate_<Intent>.json`` (100 per
    intent) becomes test. There is no val split, so the router calibrates out-of-fold on train.

    Args:
        src: Folder with one sub-folder per intent.
        dst: Output directory.

    Returns:
        ``dst``.
    """
    train: list[IntentExample] = []
    test: list[IntentExample] = []
    for intent in SNIPS_INTENTS:
        train += _snips_utterances(src / intent / f"train_{intent}.json", intent)
        test += _snips_utterances(src / intent / f"validate_{intent}.json", intent)
    write_split(dst / "train.jsonl", train)
    write_split(dst / "test.jsonl", test)
    (dst / "val.jsonl").unlink(missing_ok=True)
    logger.info("converted snips", extra={"src": str(src), "dst": str(dst)})
    return dst


def prepare_benchmark(name: str, *, datasets_dir: Path, cache_dir: Path) -> Path:
    """Convert a named public benchmark into ``cache_dir/<name>`` unless it is already there.

    Args:
        name: ``clinc150`` or ``snips``.
        datasets_dir: Folder holding the raw benchmark folders (e.g. ``../shared/datasets``).
        cache_dir: Where converted sets are kept (e.g. ``var/benchmarks``; not committed).

    Returns:
        The converted directory.

    Raises:
        ConversionError: Unknown name or missing source data.
    """
    if name not in BENCHMARKS:
        raise ConversionError(f"Unknown benchmark {name!r}; choose one of: {', '.join(BENCHMARKS)}")
    dst = cache_dir / name
    if (dst / "train.jsonl").is_file() and (dst / "test.jsonl").is_file():
        return dst
    src = datasets_dir / name
    return convert_clinc150(src, dst) if name == "clinc150" else convert_snips(src, dst)
