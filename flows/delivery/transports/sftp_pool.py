"""A per-process pool of logged-in SFTP sessions, held by one long-lived event loop thread.

An SSH handshake (key exchange, host key check, login) costs about 30 ms of CPU on each side, more than the rest of
a small upload: a connection per upload paid it every time. The pool keeps each destination's sessions for reuse,
closes one idle longer than ``idle_s``, and forgets one whose connection was closed. A connection that died while
idle, unnoticed, is the caller's to retry on a fresh one (``transports.sftp``): only the caller knows whether a
byte was written yet.

Everything the pool owns is touched only on its loop's thread, so it needs no lock beyond its start. A forked
child starts a pool of its own: the parent's loop thread does not exist there, and its sockets are the parent's.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncssh

logger = logging.getLogger(__name__)
T = TypeVar("T")
IDLE_S = 60.0
MAX_IDLE = 4  # per destination: as many as uploads to it run at once in one process, at most this many stay

# A destination's identity for reuse: everything that decides whom a connection talks to and as whom.
Key = tuple[str, int, str, str, str, str]


def pool_key(
    *, host: str, port: int, username: str, password: str | None, key_file: str, known_hosts: str
) -> Key:
    """The pool key; the password only as a digest, so the pool holds no secret of its own."""
    secret = hashlib.sha256(password.encode()).hexdigest() if password is not None else ""
    return (host, port, username, secret, key_file, known_hosts)


@dataclass(eq=False)
class Session:
    """A logged-in connection and its SFTP client; ``reused`` when an earlier upload used it already."""

    conn: asyncssh.SSHClientConnection
    sftp: asyncssh.SFTPClient
    reused: bool = False
    idle_timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def closed(self) -> bool:
        """True once either side closed the connection."""
        return self.conn.is_closed()

    def close(self) -> None:
        """Close the SFTP client and its connection (the server sees a clean disconnect)."""
        with contextlib.suppress(Exception):
            self.sftp.exit()
        self.conn.close()


class SftpPool:
    """Sessions per destination on one event loop thread; ``run`` drives a coroutine on it from any thread."""

    def __init__(self, *, idle_s: float = IDLE_S, max_idle: int = MAX_IDLE) -> None:
        """An empty pool; its loop thread starts with the first ``run``."""
        self.idle_s = idle_s
        self.max_idle = max_idle
        self._start_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._idle: dict[Key, list[Session]] = {}
        self.connections_made = 0

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on the pool's loop and wait for it (the calling thread may run a loop of its own)."""
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            factory(), self._running_loop()
        )
        return future.result()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="sftp-pool", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def acquire(
        self, key: Key, connect: Callable[[], Awaitable[asyncssh.SSHClientConnection]]
    ) -> Session:
        """An idle session for ``key`` whose connection is still open, else a new one."""
        idle = self._idle.get(key, [])
        while idle:
            session = idle.pop()
            if session.idle_timer is not None:
                session.idle_timer.cancel()
                session.idle_timer = None
            if not session.closed:
                session.reused = True
                return session
            session.close()
        return await self.connect(connect)

    async def connect(self, connect: Callable[[], Awaitable[asyncssh.SSHClientConnection]]) -> Session:
        """A new session, never one from the pool."""
        conn = await connect()
        try:
            sftp = await conn.start_sftp_client()
        except BaseException:
            conn.close()
            raise
        self.connections_made += 1
        return Session(conn, sftp)

    def release(self, key: Key, session: Session, *, reusable: bool) -> None:
        """Keep ``session`` for the next upload to ``key``, or close it (broken, or enough are idle)."""
        idle = self._idle.setdefault(key, [])
        if not reusable or session.closed or len(idle) >= self.max_idle:
            session.close()
            return
        loop = asyncio.get_running_loop()
        session.idle_timer = loop.call_later(self.idle_s, self._expire, key, session)
        idle.append(session)

    def _expire(self, key: Key, session: Session) -> None:
        idle = self._idle.get(key, [])
        if session in idle:
            idle.remove(session)
        session.close()

    def idle_count(self) -> int:
        """Sessions waiting for reuse, across destinations (for tests and diagnostics)."""
        if self._loop is None:
            return 0
        return self.run(self._count)

    async def _count(self) -> int:
        return sum(len(sessions) for sessions in self._idle.values())

    def close(self, *, timeout: float = 2.0) -> None:
        """Close every idle session and stop the loop thread; the next ``run`` starts afresh."""
        with self._start_lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_all(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()

    async def _close_all(self) -> None:
        sessions = [s for idle in self._idle.values() for s in idle]
        self._idle.clear()
        for session in sessions:
            if session.idle_timer is not None:
                session.idle_timer.cancel()
            session.close()
        for session in sessions:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.conn.wait_closed(), 1.0)


_pool: SftpPool | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def shared_pool() -> SftpPool:
    """This process's pool (a forked child gets its own)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool, _pool_pid = SftpPool(), os.getpid()
        return _pool


def close_shared_pool() -> None:
    """Close this process's pool, if it has one (at exit, so servers see clean disconnects; and in tests)."""
    global _pool
    with _pool_lock:
        pool, _pool = (_pool, None) if _pool_pid == os.getpid() else (None, None)
    if pool is not None:
        pool.close()


atexit.register(close_shared_pool)
