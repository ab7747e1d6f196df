"""Engine and session factories for SQLite (default) and PostgreSQL (by URL).

SQLite runs in WAL mode with ``synchronous=NORMAL``; a session can ask for ``BEGIN IMMEDIATE`` (take the write lock
up front, so a read-then-write never fails on a stale snapshot) and for ``synchronous=FULL`` (durable commits for
approvals and their audit records).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from core.locks import StripedLock

_BEGIN_OPTION = "switchboard_begin"
_DURABLE_OPTION = "switchboard_durable"
WRITE_WAIT_S = 30.0  # the same patience as SQLite's busy_timeout
BUSY = "the database is busy; try again in a moment"
# Writers to one SQLite file queue on a lock of their own, across threads and processes. Without it, a writer
# that finds the file locked falls into SQLite's busy handler, which sleeps up to 100 ms between retries: at 16
# concurrent chat turns the p95 was 0.8 s while the CPU sat idle.
_WRITERS: weakref.WeakKeyDictionary[Engine, StripedLock] = weakref.WeakKeyDictionary()
_WAL_LOCKS: dict[str, StripedLock] = {}  # one per database file; a lock holds no descriptor while free
_WAL_LOCKS_GUARD = threading.Lock()
# A pooled PostgreSQL connection is checked before use only when it sat idle at least this long. SQLAlchemy's
# pre-ping checked it at every checkout: a round trip per transaction, 28 of them per approved delivery. One
# returned moments ago is as alive as one in use; a server restart in between fails the statement as it would
# mid-transaction, and the pool then replaces every connection of that generation.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "switchboard_idle_since"


def utcnow() -> datetime:
    """Timezone-aware UTC now; every timestamp in the database is UTC."""
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


_CACHE_KIB = 16 * 1024


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; for SQLite, create the folder and set WAL and pragmas on every connection."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
        ping_when_idle(engine)
        return engine
    on_disk = bool(parsed.database) and parsed.database != ":memory:"
    if on_disk:
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=10,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        switch_to_wal(dbapi_connection, str(parsed.database) if on_disk else None)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        _record.info["synchronous"] = "NORMAL"
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 16 MiB of page cache (the default is 2 MiB): a growing order table's indexes keep a few hundred hot pages
        # (one per customer and sku), which no longer evict each other on every insert. Used only as pages are read.
        cursor.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        cursor.close()

    if on_disk:
        _WRITERS[engine] = StripedLock(
            Path(f"{parsed.database}.writer.lock"),
            stripes=1,
            wait_s=WRITE_WAIT_S,
            busy=BUSY,
        )

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        mode = "FULL" if options.get(_DURABLE_OPTION, False) else "NORMAL"
        info = conn.connection.info
        if info.get("synchronous") != mode:  # a pragma round trip only when the mode changes
            conn.exec_driver_sql(f"PRAGMA synchronous={mode}")
            info["synchronous"] = mode
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_BEGIN_OPTION) else "BEGIN")

    return engine


def ping_when_idle(engine: Engine, *, idle_s: float = PING_AFTER_IDLE_S) -> None:
    """Ping a connection at checkout when it sat in the pool ``idle_s`` or longer; replace it when the ping fails.

    Use it instead of ``pool_pre_ping`` (the two would both ping).
    """
    pool = engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_s:
            return  # fresh from connect, or back from use moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"a pooled connection failed its ping: {type(exc).__name__}") from exc


def switch_to_wal(dbapi_connection: Any, path: str | None) -> None:
    """Put a new SQLite connection's database file in WAL mode (kept in the file: later switches are no-ops).

    Switching a file into WAL needs its exclusive lock, and SQLite reports a clash there at once instead of waiting
    out busy_timeout: processes opening a new database together failed with "database is locked". The switches
    queue on a lock file of their own (``<file>.wal.lock``; not a writers' lock, which a writer may hold while its
    pool opens a connection).

    Args:
        dbapi_connection: A sqlite3 connection.
        path: The database file, or None for an in-memory database (nothing to queue for).
    """
    if path is None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        return
    with _WAL_LOCKS_GUARD:
        lock = _WAL_LOCKS.get(path)
        if lock is None:
            lock = StripedLock(Path(f"{path}.wal.lock"), stripes=1, wait_s=WRITE_WAIT_S, busy=BUSY)
            _WAL_LOCKS[path] = lock
    with lock.hold("wal"):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")


@contextmanager
def _one_writer(engine: Engine) -> Iterator[None]:
    writers = _WRITERS.get(engine)
    if writers is None:  # PostgreSQL (row locks) or an in-memory SQLite database: nothing to queue for
        yield
        return
    with writers.hold("database"):
        yield


@contextmanager
def write_session(engine: Engine, *, durable: bool = False) -> Iterator[Session]:
    """A session whose transaction takes the write lock first and commits on success.

    Args:
        engine: The engine.
        durable: Commit with ``synchronous=FULL`` on SQLite (PostgreSQL commits synchronously by default).
    """
    options: dict[str, Any] = {_BEGIN_OPTION: True, _DURABLE_OPTION: durable}
    with _one_writer(engine), Session(engine) as session:
        session.connection(execution_options=options)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_connection(engine: Engine, *, durable: bool = False) -> Iterator[Connection]:
    """A Core connection in a write transaction (no ORM overhead), committed on success."""
    with _one_writer(engine), engine.connect() as conn:
        conn = conn.execution_options(**{_BEGIN_OPTION: True, _DURABLE_OPTION: durable})
        with conn.begin():
            yield conn


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A plain session for reads."""
    with Session(engine) as session:
        yield session
