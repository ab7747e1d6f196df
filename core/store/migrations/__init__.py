"""The core schema's migrations: one Alembic revision per schema change, in ``versions/``.

Add one whenever a core table model changes (tests/core/test_migrations.py fails until you do); a new module of
tables is also imported below, so that ``init_db`` knows it. Draft a revision with
``core.store.migrate.new_revision(CORE_MIGRATIONS, message="...", rev_id="0003")``, then review the file: plain
SQLAlchemy types, ALTERs inside ``op.batch_alter_table`` (SQLite copies the table where it cannot alter it), and a
docstring that says why the schema changes; ``ruff format`` it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Inspector

from core.store import (  # noqa: F401  (registers every core table)
    approvals,
    audit,
    models,
    nonces,
    rollup_tables,
    runs,
    training_candidates,
    users,
)
from core.store.migrate import Migrations, baseline_tables, unversioned_release


def _legacy_revision(inspector: Inspector) -> str | None:
    # Every release before migrations made the baseline's tables with create_all; the earliest lacked one column.
    if not unversioned_release(inspector, owner="core", tables=baseline_tables(Path(__file__).parent)):
        return None
    user_columns = {column["name"] for column in inspector.get_columns("sb_user")}
    return "0002" if "must_change_password" in user_columns else "0001"


CORE_MIGRATIONS = Migrations(
    name="core",
    script_location=Path(__file__).parent,
    version_table="alembic_version",
    module_prefix="core.",
    legacy_revision=_legacy_revision,
)
