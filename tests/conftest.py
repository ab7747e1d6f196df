"""Shared fixtures: settings on a temporary var folder, SQLite and PostgreSQL engines, a tool runner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url

from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.settings import Settings, load_settings
from tests.utils.db import fresh_engine, require_postgres, temporary_postgres_database

REFERENCE_DATE = date(2026, 11, 22)

# The loopback servers (SFTP, SMTP, HTTP, Telegram, Ollama) as fixtures.
from tests.utils.fixtures import *  # noqa: E402, F403

pytest_plugins = ["tests.utils.security_summary"]


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    """A fresh var/ folder with an inbox."""
    folder = tmp_path / "var"
    (folder / "inbox").mkdir(parents=True)
    return folder


@pytest.fixture
def settings(var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Demo settings on a temporary SQLite database and var folder, 'today' pinned to 2026-11-22."""
    for key in ("SWITCHBOARD_CONFIG", "SWITCHBOARD_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    return load_settings(
        database_url=f"sqlite:///{var_dir / 'switchboard.db'}",
        var_dir=var_dir,
        reference_date=REFERENCE_DATE.isoformat(),
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session; tests start from a copy (running the migrations costs ~0.1 s)."""
    path = tmp_path_factory.mktemp("template") / "switchboard.db"
    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    with eng.begin() as conn:
        conn.exec_driver_sql(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        )  # everything in the main file, so a copy is whole
    eng.dispose()
    return path


def migrated_sqlite(settings: Settings, template: Path) -> Engine:
    """An engine on a copy of the migrated template at the settings' database path."""
    target = Path(make_url(settings.database_url).database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return make_engine(settings.database_url)


@pytest.fixture
def engine(settings: Settings, sqlite_template: Path) -> Iterator[Engine]:
    """SQLite engine with the schema created."""
    eng = migrated_sqlite(settings, sqlite_template)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a throwaway PostgreSQL database for this test session."""
    require_postgres()
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Engine]:
    """The same test on SQLite and on PostgreSQL (tables recreated per test)."""
    if request.param == "sqlite":
        eng = migrated_sqlite(settings, request.getfixturevalue("sqlite_template"))
    else:
        eng = fresh_engine(request.getfixturevalue("postgres_url"))
    yield eng
    eng.dispose()
