"""Checkpointers: SQLite (langgraph-checkpoint-sqlite) by default, PostgreSQL when the database URL is PostgreSQL.

One saver per process: several saver instances on one SQLite file give "database is locked" (langgraph #8136), so
the service opens one and shares it between the chat graph and the approval graph.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy.engine import make_url

from flows.config import Settings


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
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
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()
