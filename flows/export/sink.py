"""Where an export's bytes go: a file that hashes them on the way, and the progress hook that counts rows.

Hashing while writing means the export is hashed in the same pass that writes it; reading the file back
afterwards doubled the disk traffic of a large export. The progress hook is throttled here, once, so the
writers may call it after every batch.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TextIO

Progress = Callable[[int], None]
"""Called with the number of rows written so far."""

_PROGRESS: ContextVar[Progress | None] = ContextVar("export_progress", default=None)
_INTERVAL = 0.25


class HashingFile(io.RawIOBase):
    """A write-only binary file that keeps the sha256 and size of everything written to it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("wb", buffering=1 << 20)
        self._sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        """Always: this file is only written."""
        return True

    def write(self, data: Any) -> int:
        """Write ``data`` (bytes-like) and add it to the hash."""
        view = memoryview(data)
        self._sha.update(view)
        self._file.write(view)
        self.size += view.nbytes
        return view.nbytes

    def close(self) -> None:
        """Flush and close the file underneath."""
        if not self.closed:
            self._file.close()
        super().close()

    @property
    def sha256(self) -> str:
        """The hex digest of the bytes written so far."""
        return self._sha.hexdigest()

    def text(self) -> TextIO:
        """A UTF-8 text stream over this file, with no newline translation (what the writers expect).

        Closing the text stream closes this file too.
        """
        buffer: Any = self  # a raw stream serves TextIOWrapper as well as a buffered one
        stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        stream._CHUNK_SIZE = 1 << 16  # type: ignore[attr-defined]  # fewer, larger writes to hash and file
        return stream


class Ticker:
    """Calls a progress hook with the rows written, at most every quarter second (and once at the end)."""

    def __init__(self, hook: Progress | None) -> None:
        self.hook = hook
        self._last = time.monotonic()

    def __call__(self, rows: int) -> None:
        """Report ``rows`` when the hook is due."""
        if self.hook is None:
            return
        now = time.monotonic()
        if now - self._last >= _INTERVAL:
            self._last = now
            self.hook(rows)

    def done(self, rows: int) -> None:
        """Report the final count."""
        if self.hook is not None:
            self.hook(rows)


@contextmanager
def export_progress(hook: Progress) -> Iterator[None]:
    """Report the progress of every export started in this block (and context) to ``hook``.

    For callers that reach ``export_dataset`` through layers that do not pass ``progress`` along, such as
    the CLI calling the export tool. An explicit ``progress`` argument wins.
    """
    token = _PROGRESS.set(hook)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def current_progress(hook: Progress | None) -> Progress | None:
    """``hook`` when given, else the one ``export_progress`` installed, if any."""
    return hook if hook is not None else _PROGRESS.get()
