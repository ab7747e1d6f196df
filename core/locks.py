"""Locks that hold across the processes of one host: several ``serve`` workers, the bot and the CLI on one var folder.

They are ``flock`` locks on files under ``var/locks/`` (or beside the database). The kernel drops them when
their process exits, so a crashed worker never leaves a lock behind. An ``flock`` lock belongs to an open file,
which the threads of a process share, so each lock also has a thread lock for those threads.

Not POSIX record locks (``lockf``): the kernel takes their owner to be the whole process, so its deadlock check
refuses waits that are no deadlock. In process P thread 1 holds lock A while thread 2 waits for B; in process Q
thread 3 holds B while thread 4 waits for A. The kernel sees P and Q waiting for each other, though threads 1
and 3 will both let go; this was measured as EDEADLK at 16 concurrent chat turns on two workers.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import Busy


class StripedLock:
    """Mutual exclusion per key (a chat thread, say), across threads and processes, in bounded memory.

    Keys hash onto ``stripes`` lock files (``path`` itself for one stripe, else ``path.0``, ``path.1``, ...);
    two keys may share a stripe, which only means they occasionally wait for each other. A stripe's file is
    opened for each hold and closed after it (closing releases the lock), so a process never keeps more than
    one descriptor per running holder, however many stripes it has touched.
    """

    def __init__(
        self, path: Path, *, stripes: int = 64, wait_s: float = 60.0, busy: str = "{key} is busy"
    ) -> None:
        """Open (or create) the lock file.

        Args:
            path: The lock file; its folder is created.
            stripes: How many independent locks the keys spread over (1: a single host-wide mutex).
            wait_s: How long a caller waits for another thread of this process before giving up.
            busy: The message of the ``Busy`` error after that wait; ``{key}`` is replaced by the key.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.wait_s = wait_s
        self.busy = busy
        self._threads = [threading.Lock() for _ in range(stripes)]

    def stripe(self, key: str) -> int:
        """The stripe a key maps to."""
        return zlib.crc32(key.encode()) % len(self._threads)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the key's lock for the ``with`` block.

        Raises:
            Busy: another thread of this process held it for longer than ``wait_s``.
        """
        index = self.stripe(key)
        local = self._threads[index]
        if not local.acquire(timeout=self.wait_s):
            raise Busy(self.busy.format(key=key))
        try:
            name = self.path if len(self._threads) == 1 else self.path.with_name(f"{self.path.name}.{index}")
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                # Blocks in the kernel (without the GIL) until the other process's holder is done.
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the lock
        finally:
            local.release()
