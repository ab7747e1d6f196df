"""The bot's tables migrate on their own version table: from empty, from the previous release, and twice."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import JSON, DateTime, Integer, String, inspect, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine

from bot.store import BOT_MIGRATIONS, claim_update, init_bot_tables
from core.store.migrate import alembic_config, current_revisions, differences
from core.store.migrations import CORE_MIGRATIONS
from core.store.schema import init_db
from tests.utils.schema import (
    Blank,
    blank_fixture,  # noqa: F401  (the blank fixture)
    describe,
    load_release_17e0589,
    release_17e0589_database,
)

BOT_TABLES = BOT_MIGRATIONS.tables()

HEAD = "0002"  # the newest bot revision
CORE_HEAD = "0008"


def bot_state(engine: Engine) -> tuple[frozenset[str], list[object]]:
    with engine.connect() as conn:
        return current_revisions(conn, BOT_MIGRATIONS), differences(conn, BOT_MIGRATIONS)


def test_an_empty_database_gets_exactly_the_bot_models_schema(blank: Blank) -> None:
    init_bot_tables(blank.engine)

    assert bot_state(blank.engine) == ({HEAD}, [])
    assert set(inspect(blank.engine).get_table_names()) == BOT_TABLES | {"bot_alembic_version"}


def test_core_and_bot_keep_separate_versions_in_either_order(blank: Blank) -> None:
    init_bot_tables(blank.engine)
    init_db(blank.engine)
    init_bot_tables(blank.engine)  # a second time: nothing to do

    with blank.engine.connect() as conn:
        assert current_revisions(conn, CORE_MIGRATIONS) == {CORE_HEAD}
        assert differences(conn, CORE_MIGRATIONS) == []
    assert bot_state(blank.engine) == ({HEAD}, [])


def test_the_previous_release_is_stamped_and_keeps_its_rows(blank: Blank) -> None:
    load_release_17e0589(blank.engine)
    outbox = sql_table(
        "bot_outbox",
        sql_column("key", String),
        sql_column("chat_id", Integer),
        sql_column("method", String),
        sql_column("payload", JSON),
        sql_column("status", String),
        sql_column("attempts", Integer),
        sql_column("created_at", DateTime(timezone=True)),
    )
    with blank.engine.begin() as conn:
        conn.execute(
            outbox.insert().values(
                key="approval:a1:5",
                chat_id=5,
                method="sendMessage",
                payload={"text": "Approve?"},
                status="sent",
                attempts=1,
                created_at=datetime(2026, 11, 30, tzinfo=UTC),
            )
        )

    init_db(blank.engine)
    init_bot_tables(blank.engine)

    assert bot_state(blank.engine) == ({HEAD}, [])
    with blank.engine.connect() as conn:
        row = conn.execute(text("SELECT key, status FROM bot_outbox")).one()
    assert tuple(row) == ("approval:a1:5", "sent")
    assert claim_update(blank.engine, bot_id=1, update_id=1, kind="message", chat_id=5, telegram_user_id=5)


def test_the_bot_baseline_rebuilds_the_previous_release_exactly(blank: Blank) -> None:
    with blank.engine.begin() as conn:
        command.upgrade(alembic_config(BOT_MIGRATIONS, conn), "0001")

    with release_17e0589_database(blank) as released:
        assert describe(blank.engine, BOT_TABLES) == describe(released, BOT_TABLES)
