"""Running Alembic migrations from code: no alembic.ini, one version table per owner of tables.

Each owner of tables (core, and any layer above with tables of its own) describes its migrations with a
``Migrations``: the folder of scripts inside its package (so an installed wheel migrates too), the table that
records its revision, and the modules whose models it owns. Owners share one database but never see each other's
tables, so neither needs to import the other.

``upgrade`` runs in one transaction under a lock, so processes that start together (the console's workers, the
bot) migrate one at a time and the later ones find nothing to do: SQLite takes its write lock up front
(``BEGIN IMMEDIATE``); PostgreSQL holds an advisory lock named after the version table. Both have transactional
DDL, so a failed migration leaves the database as it was.

A database made before Alembic (by ``create_all``) has tables but no version table. ``Migrations.legacy_revision``
recognises which revision it matches; it is stamped there and upgraded from that point.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, Inspector
from sqlalchemy.schema import MetaData, Table
from sqlmodel import SQLModel
from sqlmodel.main import default_registry

from core.store.db import is_sqlite, make_engine, write_connection

logger = logging.getLogger(__name__)
# Alembic's ``context`` and ``op`` are module-level proxies to the running migration: one run per process at a
# time, even for two owners on two databases.
_ONE_RUN = threading.Lock()


class SchemaUpgradeError(RuntimeError):
    """The database cannot be brought to the current schema automatically."""


@dataclass(frozen=True)
class Migrations:
    """One owner's migrations.

    Attributes:
        name: What the owner is called in logs and errors ("core", "bot").
        script_location: The folder with ``env.py`` and ``versions/``.
        version_table: The table that records this owner's revision.
        module_prefix: The owner's tables are those of the models defined in modules under this prefix.
        legacy_revision: Given a database without a version table, the revision its tables match, or None when
            none of them exist yet. Raises ``SchemaUpgradeError`` for a database it does not recognise.
    """

    name: str
    script_location: Path
    version_table: str
    module_prefix: str
    legacy_revision: Callable[[Inspector], str | None]

    def tables(self) -> frozenset[str]:
        """Names of the tables the owner's models declare (the modules must be imported)."""
        return frozenset(
            mapper.local_table.name
            for mapper in default_registry.mappers
            if mapper.class_.__module__.startswith(self.module_prefix)
            and isinstance(mapper.local_table, Table)
        )


def unversioned_release(inspector: Inspector, *, owner: str, tables: Collection[str]) -> bool:
    """True when every table a pre-Alembic release made exists, False when none does.

    Raises:
        SchemaUpgradeError: Only some exist, so the database was not made by any release.
    """
    present = set(inspector.get_table_names())
    found = [name for name in tables if name in present]
    if not found:
        return False
    missing = sorted(name for name in tables if name not in present)
    if missing:
        raise SchemaUpgradeError(
            f"the database has some of the {owner} tables but not {', '.join(missing)}, and no version "
            "table: it was not made by a Switchboard release, so it cannot be upgraded automatically"
        )
    return True


def baseline_tables(script_location: Path) -> tuple[str, ...]:
    """The tables the first revision creates (its ``TABLES``): what every release before migrations made."""
    script = ScriptDirectory(str(script_location))
    base = script.get_base()
    revision = script.get_revision(base) if base else None
    if revision is None:
        raise SchemaUpgradeError(f"no base revision in {script_location}")
    return tuple(revision.module.TABLES)


def alembic_config(migrations: Migrations, connection: Connection | None) -> Config:
    """An Alembic ``Config`` built in code, for driving Alembic's commands on ``connection`` (tools, tests)."""
    config = Config()
    config.set_main_option("script_location", str(migrations.script_location))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    config.attributes["migrations"] = migrations
    return config


@lru_cache(maxsize=8)
def _heads(script_location: Path) -> frozenset[str]:
    return frozenset(ScriptDirectory(str(script_location)).get_heads())


def current_revisions(connection: Connection, migrations: Migrations) -> frozenset[str]:
    """The revisions the database records for ``migrations`` (empty before the first upgrade)."""
    context = MigrationContext.configure(connection, opts={"version_table": migrations.version_table})
    return frozenset(context.get_current_heads())


def head_revisions(migrations: Migrations) -> frozenset[str]:
    """The newest revision of ``migrations`` (a set, as Alembic allows branches; ours have one head)."""
    return _heads(migrations.script_location)


def _lock_key(version_table: str) -> int:
    digest = hashlib.sha256(f"switchboard schema {version_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _exclusive(engine: Engine, migrations: Migrations) -> Iterator[None]:
    if engine.dialect.name != "postgresql":  # SQLite: the upgrade's BEGIN IMMEDIATE is the lock
        yield
        return
    key = _lock_key(migrations.version_table)
    # A session lock on a connection of its own, so it also covers the seed that runs after the upgrade commits.
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    if is_sqlite(engine):
        with write_connection(engine) as conn:
            yield conn
        return
    with engine.begin() as conn:
        yield conn


def _upgrade_in(connection: Connection, migrations: Migrations) -> None:
    config = alembic_config(migrations, connection)
    with _ONE_RUN:
        if not current_revisions(connection, migrations):
            legacy = migrations.legacy_revision(inspect(connection))
            if legacy is not None:
                logger.info(
                    "schema %s: stamping a database made before migrations at %s", migrations.name, legacy
                )
                command.stamp(config, legacy)
        command.upgrade(config, "head")


def upgrade(engine: Engine, migrations: Migrations, *, seed: Callable[[Engine], None] | None = None) -> None:
    """Bring the owner's tables to the newest revision: create them, stamp an old database, or do nothing.

    Args:
        engine: The database.
        migrations: Whose tables.
        seed: Runs after the upgrade, still under the lock, so concurrent starters do not race to seed rows.
    """
    with _exclusive(engine, migrations):
        with engine.connect() as conn:
            done = current_revisions(conn, migrations) == head_revisions(migrations)
        if not done:  # the transaction looks again: another process may have migrated meanwhile
            with _transaction(engine) as conn:
                _upgrade_in(conn, migrations)
        if seed is not None:
            seed(engine)


def _compare_options(migrations: Migrations) -> dict[str, Any]:
    owned = migrations.tables()

    # Other owners' tables, and the checkpointer's on PostgreSQL, share the database: compare only ours.
    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return type_ != "table" or name in owned

    def include_object(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        return type_ != "table" or name in owned

    return {
        "compare_type": True,
        "compare_server_default": True,
        "include_name": include_name,
        "include_object": include_object,
    }


def differences(
    connection: Connection, migrations: Migrations, *, metadata: MetaData | None = None
) -> list[Any]:
    """What Alembic's autogenerate would change to make the owner's tables match the models ([] when none).

    Args:
        connection: The database.
        migrations: Whose tables.
        metadata: The models to compare with (default: ``SQLModel.metadata``).
    """
    context = MigrationContext.configure(
        connection,
        opts={"version_table": migrations.version_table, **_compare_options(migrations)},
    )
    return list(compare_metadata(context, SQLModel.metadata if metadata is None else metadata))


def run_environment() -> None:
    """The body of every ``env.py``: migrate on the connection ``upgrade`` holds, in its transaction."""
    from alembic import context

    config = context.config
    connection: Connection | None = config.attributes.get("connection")
    migrations: Migrations = config.attributes["migrations"]
    if connection is None:
        raise SchemaUpgradeError("run migrations through core.store.migrate, which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        version_table=migrations.version_table,
        # SQLite alters most things by copying the table; autogenerate then writes batch operations.
        render_as_batch=connection.dialect.name == "sqlite",
        **_compare_options(migrations),
    )
    with context.begin_transaction():
        context.run_migrations()


def new_revision(migrations: Migrations, *, message: str, rev_id: str) -> Path:
    """Write a draft migration for what the models changed since the newest one; returns its file.

    It autogenerates against a scratch SQLite database at the newest revision. Review the draft: SQLModel's
    ``AutoString`` should become ``sa.String()``, and autogenerate cannot tell a rename from a drop and an add.

    Args:
        migrations: Whose tables.
        message: One line saying what changes; it also names the file.
        rev_id: The next number in the sequence ("0003").
    """
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        try:
            upgrade(engine, migrations)
            with _ONE_RUN, engine.begin() as conn:
                script = command.revision(
                    alembic_config(migrations, conn), message=message, autogenerate=True, rev_id=rev_id
                )
        finally:
            engine.dispose()
    _heads.cache_clear()  # there is a new head now
    if script is None or isinstance(script, list):  # one head, one script
        raise SchemaUpgradeError(f"alembic wrote no single revision for {message!r}")
    return Path(script.path)
