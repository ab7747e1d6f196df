"""PostgreSQL connections are pinged only after sitting idle, and a dead one is replaced before use."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from core.store.db import make_engine, ping_when_idle


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    eng = make_engine(postgres_url)
    yield eng
    eng.dispose()


def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each ping the dialect sends (the pid of the backend it went to)."""
    sent: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: psycopg.Connection) -> bool:
        sent.append(dbapi_connection.info.backend_pid)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return sent


def backend(engine: Engine) -> int:
    with engine.connect() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


@pytest.mark.integration
def test_a_connection_back_from_use_moments_ago_is_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = pings(engine, monkeypatch)
    first = backend(engine)
    assert [backend(engine) for _ in range(5)] == [first] * 5
    assert sent == []


@pytest.mark.integration
def test_a_connection_idle_past_the_threshold_is_pinged_and_replaced_when_dead(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping_when_idle(engine, idle_s=0.05)
    sent = pings(engine, monkeypatch)
    first = backend(engine)
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:  # ends the pooled one's backend, as a restart would
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    time.sleep(0.1)
    replaced = backend(engine)
    assert replaced != first
    assert sent[:1] == [first]


@pytest.mark.integration
def test_every_checkout_counts_as_idle_with_a_zero_threshold(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping_when_idle(engine, idle_s=0.0)
    sent = pings(engine, monkeypatch)
    pids = [backend(engine) for _ in range(3)]
    assert sent == pids[1:]  # the first checkout made the connection: nothing to check yet
