"""The whole core schema: ``init_db`` migrates it to the newest revision and seeds the audit chain head."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from core.store.audit import ensure_head
from core.store.migrate import upgrade
from core.store.migrations import CORE_MIGRATIONS


def init_db(engine: Engine) -> None:
    """Create or upgrade the core tables (idempotent, safe for processes starting together); seed the chain head.

    An empty database runs every migration; one made by a release before migrations is recognised, stamped and
    upgraded; a current one is left alone.
    """
    upgrade(engine, CORE_MIGRATIONS, seed=ensure_head)
