"""Locks that hold across hosts: PostgreSQL advisory locks, one per key (a chat thread), for as long as a block runs.

Processes on several hosts share nothing but the database, so a lock they all honour has to live there.
``pg_advisory_xact_lock`` is held by a transaction on a connection of its own and released when that transaction
ends, also when its process dies and the server drops the connection: a crashed worker never leaves a thread
locked. A wait longer than ``wait_s`` ends in ``Busy``, like the file locks SQLite's single host keeps using
(``core.locks.StripedLock``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from core.errors import Busy


class KeyLocks(Protocol):
    """Mutual exclusion per key across whatever shares the lock (threads, processes, hosts)."""

    def hold(self, key: str) -> AbstractContextManager[None]:
        """Hold the key's lock for the ``with`` block."""


def advisory_key(namespace: str, key: str) -> int:
    """A signed 64-bit lock key for ``key`` within ``namespace`` (two namespaces never share a key)."""
    digest = hashlib.sha256(f"{namespace}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLocks:
    """Per-key locks in PostgreSQL, honoured by every process on every host that uses the same database."""

    def __init__(
        self, engine: Engine, *, namespace: str, wait_s: float = 60.0, busy: str = "{key} is busy"
    ) -> None:
        """Lock keys of ``namespace`` on ``engine``'s database.

        Args:
            engine: A PostgreSQL engine.
            namespace: Keeps these keys apart from other users of advisory locks.
            wait_s: How long a caller waits for the holder before giving up.
            busy: The message of the ``Busy`` error after that wait; ``{key}`` is replaced by the key.
        """
        if engine.dialect.name != "postgresql":
            raise ValueError("advisory locks need PostgreSQL")
        self.engine = engine
        self.namespace = namespace
        self.wait_ms = max(1, int(wait_s * 1000))
        self.busy = busy

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the key's lock for the ``with`` block.

        Raises:
            Busy: another holder kept it for longer than ``wait_s``.
        """
        with self.engine.connect() as conn, conn.begin():
            # SET LOCAL: the timeout ends with this transaction and never leaks into the pool.
            conn.execute(text(f"SET LOCAL lock_timeout = {self.wait_ms}"))
            try:
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(self.namespace, key)}
                )
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                    raise Busy(self.busy.format(key=key)) from None
                raise
            yield
