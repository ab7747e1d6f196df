"""The whole schema: every table module registered on ``SQLModel.metadata``, and ``init_db`` to create it."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.store import approvals, models, runs, users  # noqa: F401  (registers every table)
from core.store.audit import ensure_head
from core.store.upgrade import add_missing_columns


def init_db(engine: Engine) -> None:
    """Create every table, add the columns newer versions introduced (idempotent), seed the audit chain head."""
    SQLModel.metadata.create_all(engine)
    add_missing_columns(engine, SQLModel.metadata)
    ensure_head(engine)
