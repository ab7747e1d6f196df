"""File helpers shared by every layer: streaming sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path) -> tuple[str, int]:
    """Return the sha256 hex digest and size of a file, read in chunks (bounded memory)."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
