"""Checkpointers: SQLite (langgraph-checkpoint-sqlite) by default, PostgreSQL when the database URL is PostgreSQL.

One saver per process: several saver instances on one SQLite file give "database is locked" (langgraph #8136), so
the service opens one and shares it between the chat graph and the approval graph. Several processes (console
workers, the bot) may share the file: their write transactions queue on a host-wide lock beside it instead of
meeting in SQLite's busy handler, which sleeps between retries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy.engine import make_url

from agent.config import AgentSettings
from core.locks import StripedLock


class _QueuedSqliteSaver(SqliteSaver):
    """A SqliteSaver whose write transactions hold a lock shared by every process on the file."""

    def __init__(self, conn: sqlite3.Connection, *, path: Path) -> None:
        super().__init__(conn)
        self.writers = StripedLock(
            Path(f"{path}.writer.lock"), stripes=1, busy="the checkpoint store is busy; try again in a moment"
        )

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        """A cursor; one that writes (``transaction``) first takes the writers' lock."""
        if not transaction:  # WAL readers never wait for writers
            with super().cursor(transaction=False) as cur:
                yield cur
            return
        with self.writers.hold("checkpoints"), super().cursor(transaction=True) as cur:
            yield cur


@contextmanager
def open_checkpointer(settings: AgentSettings) -> Iterator[BaseCheckpointSaver[Any]]:
    """Yield a ready checkpointer for the configured database; closes it on exit."""
    url = make_url(settings.database_url.replace("postgres://", "postgresql://"))
    if url.get_backend_name() == "postgresql":
        from langgraph.checkpoint.postgres import PostgresSaver

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with PostgresSaver.from_conn_string(dsn) as pg_saver:
            pg_saver.setup()
            yield pg_saver
        return
    path = settings.var_dir / "checkpoints.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # Checkpoints can lose their last write on power loss without harm: approval requests and their audit
    # records are committed durably in the main database, and a lost approval checkpoint falls back to acting
    # from that record (ApprovalService._resume).
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = _QueuedSqliteSaver(conn, path=path)
    try:
        saver.setup()
        yield saver
    finally:
        conn.close()
