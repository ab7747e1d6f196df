"""Where the durable engine keeps its state, and what a process is called to it."""

from __future__ import annotations

import pytest

from core.durable import schema_for, system_url


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("sqlite:///./var/switchboard.db", "sqlite:///./var/switchboard.dbos.db"),
        ("sqlite:////srv/sb/data", "sqlite:////srv/sb/data.dbos.db"),
        ("postgresql://sb:pw@db.internal/sb", "postgresql+psycopg://sb:pw@db.internal/sb"),
    ],
)
def test_the_engine_keeps_its_state_beside_the_database(database_url: str, expected: str) -> None:
    assert system_url(database_url) == expected


def test_an_explicit_engine_url_wins() -> None:
    assert system_url("sqlite:///a.db", "postgresql://h/dbos") == "postgresql+psycopg://h/dbos"


def test_an_in_memory_database_cannot_be_durable() -> None:
    with pytest.raises(ValueError, match="needs a database file"):
        system_url("sqlite://")


@pytest.mark.parametrize(
    ("database_url", "configured", "expected"),
    [
        ("postgresql://h/test", "dbos", "dbos"),
        ("postgresql://h/test?options=-csearch_path%3Dsb_one", "dbos", "sb_one_dbos"),
        ("postgresql://h/test?options=-csearch_path%3Dsb_one", "engine", "engine"),
    ],
)
def test_a_switchboard_in_a_schema_of_its_own_gets_the_engine_beside_it(
    database_url: str, configured: str, expected: str
) -> None:
    assert schema_for(database_url, configured) == expected
