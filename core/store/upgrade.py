"""Additive schema upgrades: columns that a newer Switchboard added to an existing table.

``create_all`` creates missing tables but never touches a table that exists, so a database made by an earlier
version would lack the columns added since. ``add_missing_columns`` adds them with ``ALTER TABLE ... ADD
COLUMN``, which SQLite and PostgreSQL both support. Only additive changes are handled: a new column must be
nullable or carry a server default, so that the rows already there get a value. Anything else (a dropped,
renamed or retyped column) needs a written migration and is refused with a message naming the column.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import MetaData

logger = logging.getLogger(__name__)


class SchemaUpgradeError(RuntimeError):
    """A column cannot be added to existing rows without a written migration."""


def _add_column_sql(conn: Connection, table: str, column: Column[object]) -> str:
    dialect = conn.dialect
    preparer = dialect.identifier_preparer
    kind = column.type.compile(dialect=dialect)
    sql = f"ALTER TABLE {preparer.quote(table)} ADD COLUMN {preparer.quote(column.name)} {kind}"
    default = column.server_default
    if default is not None:
        arg = getattr(default, "arg", None)
        value = arg if isinstance(arg, str) else str(arg.compile(dialect=dialect))  # type: ignore[union-attr]
        sql += f" DEFAULT {value}"
    if not column.nullable:
        sql += " NOT NULL"
    return sql


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """Add the columns of ``metadata`` that existing tables lack; returns ``table.column`` for each one added.

    Raises:
        SchemaUpgradeError: a missing column is NOT NULL without a server default.
    """
    added: list[str] = []
    with engine.begin() as conn:
        inspector = inspect(conn)
        existing_tables = set(inspector.get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in existing_tables:
                continue  # create_all makes it whole
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable and column.server_default is None:
                    raise SchemaUpgradeError(
                        f"cannot add column {table.name}.{column.name} to existing rows: it is NOT NULL "
                        "without a server default"
                    )
                conn.exec_driver_sql(_add_column_sql(conn, table.name, column))
                added.append(f"{table.name}.{column.name}")
    for name in added:
        logger.info("schema upgrade: added column %s", name)
    return added
