"""Databases for migration tests: an empty one per test, the previous release's schema, and a schema description.

Test modules import ``blank_fixture`` from here to get the ``blank`` fixture: an empty database per test.

On PostgreSQL each test gets a schema of its own (first on ``search_path``) in the session's database, dropped
afterwards, so the tables of other tests never show.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

from core.store.db import make_engine

RELEASE_DIR = Path(__file__).resolve().parents[1] / "core" / "release_17e0589"


@contextmanager
def postgres_schema_url(database_url: str) -> Iterator[str]:
    """Yield a URL whose connections work in a new, empty schema; drop the schema afterwards."""
    schema = f"sb_mig_{uuid.uuid4().hex[:10]}"
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{database_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Blank:
    """An empty database: its URL (for other processes), an engine on it, and a folder for more of its kind."""

    url: str
    engine: Engine
    folder: Path
    postgres_url: str | None = None  # the session's PostgreSQL database, which holds this test's schema


@pytest.fixture(name="blank", params=["sqlite", "postgres"])
def blank_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Blank]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'switchboard.db'}"
        engine = make_engine(url)
        yield Blank(url, engine, tmp_path)
        engine.dispose()
        return
    database_url = request.getfixturevalue("postgres_url")
    with postgres_schema_url(database_url) as url:
        engine = make_engine(url)
        yield Blank(url, engine, tmp_path, database_url)
        engine.dispose()


def load_release_17e0589(engine: Engine) -> None:
    """Create the tables exactly as release 17e0589's ``create_all`` did (core and bot), with no version table."""
    script = (RELEASE_DIR / f"{engine.dialect.name}.sql").read_text()
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in body.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)


@contextmanager
def release_17e0589_database(blank: Blank) -> Iterator[Engine]:
    """A second database of the same kind as ``blank``, holding release 17e0589's tables; removed afterwards."""
    if blank.postgres_url is None:
        engine = make_engine(f"sqlite:///{blank.folder / 'release_17e0589.db'}")
        load_release_17e0589(engine)
        yield engine
        engine.dispose()
        return
    with postgres_schema_url(blank.postgres_url) as url:
        engine = make_engine(url)
        load_release_17e0589(engine)
        yield engine
        engine.dispose()


def describe(engine: Engine, tables: Collection[str]) -> dict[str, Any]:
    """Everything the database says about ``tables``: columns in order, keys, indexes, enum types."""
    inspector = inspect(engine)
    found: dict[str, Any] = {}
    for table in sorted(tables):
        found[table] = {
            "columns": [
                (
                    c["name"],
                    c["type"].compile(dialect=engine.dialect),
                    c["nullable"],
                    c["default"],
                    c.get("autoincrement"),
                )
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
            ),
        }
    if engine.dialect.name == "postgresql":  # the enum types those columns use
        used = {column[1] for table in found.values() for column in table["columns"]}
        found["enum types"] = sorted(
            (e["name"], tuple(e["labels"]))
            for e in inspector.get_enums()
            if e["name"] in used  # type: ignore[attr-defined]
        )
    return found
