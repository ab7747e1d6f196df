"""The inbox: the one folder ingest may read from, plus the size limit and content checksums of its files.

Paths are resolved (symlinks and '..' followed) before they are checked, so nothing outside the inbox can be
read by naming it cleverly. The checksum is computed in its own streaming pass; ``HashingFile`` lets the load
pass prove it read exactly the bytes that were checksummed.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from core.errors import BadInput, Forbidden, NotFound, TooLarge

_READ_CHUNK = 1024 * 1024


def resolve_inbox_path(path: str, *, inbox: Path, max_bytes: int) -> Path:
    """The real file that ``path`` names inside the inbox (relative paths resolve inside it).

    Raises:
        Forbidden: the path resolves outside the inbox.
        NotFound: there is no such file.
        BadInput: it is not a regular file, or it is empty.
        TooLarge: it is bigger than ``max_bytes``.
    """
    root = inbox.resolve()
    given = Path(path.strip()).expanduser()
    target = (given if given.is_absolute() else root / given).resolve()
    if not target.is_relative_to(root):
        raise Forbidden(f"{path}: only files inside the inbox folder ({inbox}) can be ingested", file=path)
    shown = str(target.relative_to(root))
    if not target.exists():
        raise NotFound(f"{shown}: no such file in the inbox folder ({inbox})", file=shown)
    if not target.is_file():
        raise BadInput(f"{shown}: not a regular file", file=shown)
    size = target.stat().st_size
    if size > max_bytes:
        raise TooLarge(
            f"{shown}: the file is {_mb(size)}, over the {_mb(max_bytes)} limit (max_file_bytes)",
            file=shown,
            size=size,
            limit=max_bytes,
        )
    if size == 0:
        raise BadInput(f"{shown}: line 1: the file is empty", file=shown, line=1)
    return target


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 104_858 else f"{size:,} bytes"


class HashingFile(io.BufferedReader):
    """A binary file hashing every byte read through it, so a load pass can prove what it read."""

    def __init__(self, path: Path) -> None:
        self._raw = _HashingRaw(path)
        super().__init__(self._raw, buffer_size=1024 * 1024)

    def finish(self) -> str:
        """Read whatever is left, then return the sha256 hex digest of everything read."""
        while self.read(1024 * 1024):
            pass
        return self._raw.digest.hexdigest()


class _HashingRaw(io.RawIOBase):
    def __init__(self, path: Path) -> None:
        self._file = path.open("rb", buffering=0)
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer) or 0
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def file_checksum(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size of a file, read in 1 MiB chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


__all__ = ["HashingFile", "file_checksum", "resolve_inbox_path"]
