"""Database helpers for tests: a throwaway PostgreSQL database per test session, and engine factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.store.db import make_engine
from core.store.schema import init_db

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def postgres_available() -> bool:
    """True when the loopback PostgreSQL answers."""
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_postgres() -> None:
    """Skip locally when PostgreSQL is absent, but fail in CI where it must exist."""
    import pytest

    if postgres_available():
        return
    if os.environ.get("CI"):
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432, and CI must run the PostgreSQL tests")
    pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"sb_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_engine(url: str) -> Engine:
    """An engine on ``url`` with every table dropped and recreated (test isolation)."""
    engine = make_engine(url)
    from core.store import schema  # noqa: F401

    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:  # the migrations would otherwise find their revision recorded and do nothing
        for version_table in ("alembic_version", "bot_alembic_version"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {version_table}")
    init_db(engine)
    return engine
