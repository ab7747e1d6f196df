"""The versioned file of reviewed training examples.

An admin's review turns a candidate example (made from a correction) into a ``ReviewedExample``. Each change to
the reviewed set writes the next version as a new file, ``reviewed-v0001.jsonl``, ``reviewed-v0002.jsonl``, ...,
each holding the whole set; a version is never rewritten, so a candidate router can name exactly what it was
trained on (version and sha256). Only this module writes these files, and only reviewed examples go in.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import BadInput

_NAME = re.compile(r"^reviewed-v(\d{4,})\.jsonl$")


class ReviewedExample(BaseModel):
    """One example a person reviewed: the words and the tool they were meant for.

    Attributes:
        id: The candidate example's id.
        text: The message, redacted by the audit log's rules.
        tool: The tool meant; ``None`` means out of scope (no tool fits).
        args: The arguments meant, when known.
        context: The thread's earlier user messages, oldest first (redacted), for reference only.
        source: Which correction it came from (``CorrectionKind``).
        reviewed_by: The admin who accepted or fixed it.
        reviewed_at: When.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(min_length=1)
    tool: str | None
    args: dict[str, Any] = Field(default_factory=dict)
    context: list[str] = Field(default_factory=list)
    source: str
    reviewed_by: str
    reviewed_at: datetime


@dataclass(frozen=True)
class ReviewedSet:
    """One version of the reviewed set (version 0 with no path: nothing reviewed yet)."""

    version: int
    path: Path | None
    sha256: str
    examples: tuple[ReviewedExample, ...]


EMPTY = ReviewedSet(version=0, path=None, sha256="", examples=())


def versions(directory: Path) -> list[tuple[int, Path]]:
    """Every version in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def read(path: Path, *, version: int) -> ReviewedSet:
    """Read one version.

    Raises:
        BadInput: A line is not a valid reviewed example (naming the file and line).
    """
    raw = path.read_bytes()
    examples: list[ReviewedExample] = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            examples.append(ReviewedExample.model_validate_json(line))
        except ValidationError as exc:
            raise BadInput(
                f"{path}, line {number}: not a reviewed example ({exc.errors()[0]['msg']})"
            ) from exc
    return ReviewedSet(version, path, hashlib.sha256(raw).hexdigest(), tuple(examples))


def latest(directory: Path) -> ReviewedSet:
    """The newest version, or ``EMPTY`` when nothing was reviewed yet."""
    found = versions(directory)
    if not found:
        return EMPTY
    version, path = found[-1]
    return read(path, version=version)


def write_next(directory: Path, examples: Sequence[ReviewedExample]) -> ReviewedSet:
    """Write ``examples`` as the next version and return it.

    The file is written to a temporary name and linked into place; linking fails if another writer took the
    same version first, so two writers can never both write version N (the loser retries with N + 1).
    """
    directory.mkdir(parents=True, exist_ok=True)
    body = "".join(example.model_dump_json() + "\n" for example in examples).encode("utf-8")
    while True:
        found = versions(directory)
        version = (found[-1][0] if found else 0) + 1
        path = directory / f"reviewed-v{version:04d}.jsonl"
        temporary = directory / f".{path.name}.{os.getpid()}.tmp"
        temporary.write_bytes(body)
        try:
            os.link(temporary, path)
        except FileExistsError:
            continue
        finally:
            temporary.unlink(missing_ok=True)
        return ReviewedSet(version, path, hashlib.sha256(body).hexdigest(), tuple(examples))
