"""Checkpointers: SQLite (langgraph-checkpoint-sqlite) by default, PostgreSQL when the database URL is PostgreSQL.

One saver per process: several saver instances on one SQLite file give "database is locked" (langgraph #8136), so
the service opens one and shares it between the chat graph and the approval graph. Several processes (console
workers, the bot) may share the file: their write transactions queue on a host-wide lock beside it instead of
meeting in SQLite's busy handler, which sleeps between retries.

Checkpoints load only the models the graphs' state declares (``agent.state``) and LangGraph's own types: a
checkpoint never makes Python import anything else.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from agent.config import AgentSettings
from agent.state import ApprovalState, ChatState
from core.locks import StripedLock
from core.store.db import switch_to_wal


class _QueuedSqliteSaver(SqliteSaver):
    """A SqliteSaver whose write transactions hold a lock shared by every process on the file."""

    def __init__(self, conn: sqlite3.Connection, *, path: Path) -> None:
        super().__init__(conn, serde=strict_serde())
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


def state_models(*schemas: type[BaseModel]) -> set[type[BaseModel]]:
    """Every pydantic model a state schema's fields can hold, at any depth."""
    found: set[type[BaseModel]] = set()

    def visit(hint: Any) -> None:
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            if hint not in found:
                found.add(hint)
                for field_hint in get_type_hints(hint).values():
                    visit(field_hint)
        elif get_origin(hint) in (list, tuple, dict, Union) or get_args(hint):
            for arg in get_args(hint):
                visit(arg)

    for schema in schemas:
        visit(schema)
    return found


def strict_serde() -> JsonPlusSerializer:
    """A serializer that loads the state's models and nothing else unsafe (the default loads any type)."""
    return JsonPlusSerializer(allowed_msgpack_modules=state_models(ChatState, ApprovalState))


_TRY_SETUP_LOCK = "SELECT pg_try_advisory_lock(hashtext('switchboard.checkpoint_setup')) AS locked"


@contextmanager
def open_checkpointer(settings: AgentSettings) -> Iterator[BaseCheckpointSaver[Any]]:
    """Yield a ready checkpointer for the configured database; closes it on exit."""
    url = make_url(settings.database_url.replace("postgres://", "postgresql://"))
    if url.get_backend_name() == "postgresql":
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # As PostgresSaver.from_conn_string connects, which offers no way to pass the serializer.
        with Connection.connect(dsn, autocommit=True, prepare_threshold=0, row_factory=dict_row) as pg_conn:
            pg_saver = PostgresSaver(pg_conn, serde=strict_serde())
            # Processes starting together on a new database would race in setup's migrations (a unique-key
            # error on checkpoint_migrations): one at a time, the later ones finding them done. Tried rather than
            # waited for: a session waiting in pg_advisory_lock keeps a transaction open, which the migration's
            # CREATE INDEX CONCURRENTLY waits for in turn (a deadlock).
            while not pg_conn.execute(_TRY_SETUP_LOCK).fetchone()["locked"]:  # type: ignore[index]
                time.sleep(0.05)
            try:
                pg_saver.setup()
            finally:
                pg_conn.execute("SELECT pg_advisory_unlock(hashtext('switchboard.checkpoint_setup'))")
            yield pg_saver
        return
    path = settings.var_dir / "checkpoints.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    switch_to_wal(conn, str(path))
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
