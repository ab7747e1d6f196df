"""The bot's tables: update claims across workers, single-use tokens, safe upload names."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import tokens
from bot.store import (
    ProcessedUpdate,
    claim_update,
    init_bot_tables,
    prune_updates,
    set_reason_prompt,
    take_reason_prompt,
)
from bot.uploads import guess_dataset, place_upload, safe_file_name
from core.store.db import make_engine, utcnow
from switchboard.settings import Settings


@pytest.fixture
def tables(engine: Engine) -> Engine:
    init_bot_tables(engine)
    return engine


@pytest.fixture
def any_tables(any_engine: Engine) -> Engine:
    """The bot's tables on SQLite and on PostgreSQL."""
    init_bot_tables(any_engine)
    return any_engine


def test_an_update_is_claimed_once_even_by_racing_workers(tables: Engine, settings: Settings) -> None:
    engines = [tables, make_engine(settings.database_url)]  # two workers, one database
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        results.append(
            claim_update(
                engines[i % 2], bot_id=1, update_id=77, kind="message", chat_id=5, telegram_user_id=5
            )
        )

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert claim_update(
        tables, bot_id=2, update_id=77, kind="message", chat_id=5, telegram_user_id=5
    )  # other bot
    engines[1].dispose()


def test_claims_and_pruning(any_tables: Engine) -> None:
    tables = any_tables
    assert claim_update(tables, bot_id=1, update_id=2, kind="message", chat_id=-100, telegram_user_id=1)
    assert not claim_update(tables, bot_id=1, update_id=2, kind="message", chat_id=-100, telegram_user_id=1)
    claim_update(tables, bot_id=1, update_id=1, kind="message", chat_id=1, telegram_user_id=1)
    assert prune_updates(tables, older_than=timedelta(days=2)) == 0
    assert prune_updates(tables, older_than=timedelta(days=2), now=utcnow() + timedelta(days=3)) == 2


def test_a_claim_records_what_the_update_was_and_where_from(any_tables: Engine) -> None:
    claim_update(any_tables, bot_id=1, update_id=4, kind="callback_query", chat_id=-100, telegram_user_id=7)
    with Session(any_tables) as session:
        row = session.get(ProcessedUpdate, (1, 4))
    assert row is not None and (row.kind, row.chat_id, row.telegram_user_id) == ("callback_query", -100, 7)


def test_a_claim_exactly_as_old_as_the_window_is_kept(any_tables: Engine) -> None:
    # Telegram may still re-send an update until the window has fully passed: the cut is strict.
    claim_update(any_tables, bot_id=1, update_id=3, kind="message", chat_id=1, telegram_user_id=1)
    with Session(any_tables) as session:
        claimed_at = session.get(ProcessedUpdate, (1, 3)).claimed_at
    window = timedelta(days=1)
    assert prune_updates(any_tables, older_than=window, now=claimed_at + window) == 0
    assert prune_updates(any_tables, older_than=window, now=claimed_at + window + timedelta(seconds=1)) == 1


def test_tokens_are_opaque_single_use_and_expire(any_tables: Engine) -> None:
    tables = any_tables
    soon = utcnow() + timedelta(hours=1)
    token = tokens.issue(
        tables,
        kind="approval",
        action="approve",
        chat_id=1,
        expires_at=soon,
        telegram_user_id=7,
        approval_id="apr_0123456789abcdef",
        binding="b" * 64,
    )
    assert len(token.encode()) <= 64 and "apr_" not in token
    row = tokens.peek(tables, token)
    assert row is not None and (row.action, row.approval_id, row.telegram_user_id) == (
        "approve",
        "apr_0123456789abcdef",
        7,
    )
    assert tokens.consume(tables, token, telegram_user_id=7) is True
    assert tokens.consume(tables, token, telegram_user_id=7) is False
    late = tokens.issue(
        tables, kind="approval", action="approve", chat_id=1, expires_at=soon, approval_id="x"
    )
    assert tokens.consume(tables, late, telegram_user_id=7, now=soon + timedelta(seconds=1)) is False
    assert tokens.peek(tables, "x" * 65) is None and tokens.peek(tables, "forged") is None


def test_revoking_kills_the_remaining_buttons(tables: Engine) -> None:
    later = utcnow() + timedelta(hours=1)
    a = tokens.issue(
        tables, kind="approval", action="approve", chat_id=1, expires_at=later, approval_id="apr_1"
    )
    b = tokens.issue(
        tables, kind="approval", action="reject", chat_id=1, expires_at=later, approval_id="apr_1"
    )
    yes = tokens.issue(tables, kind="answer", action="yes", chat_id=1, expires_at=later, thread_id="tg:1:1")
    assert tokens.revoke_for_approval(tables, "apr_1") == 2
    assert tokens.revoke_answers(tables, "tg:1:1") == 1
    assert [tokens.consume(tables, t, telegram_user_id=1) for t in (a, b, yes)] == [False, False, False]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("orders_today.csv", "orders_today.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\orders.JSON", "orders.json"),
        (".hidden.csv", "hidden.csv"),
        ("Kunden Übersicht (neu).xlsx", "Kunden_Ubersicht_neu.xlsx"),
        ("/", "upload"),
        (None, "upload"),
    ],
)
def test_safe_file_names(given: str | None, expected: str) -> None:
    assert safe_file_name(given) == expected


def test_mime_type_supplies_a_missing_suffix() -> None:
    assert safe_file_name("export", mime_type="text/csv") == "export.csv"


def test_placing_never_overwrites_a_different_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"old")
    for content in (b"new", b"old", b"new"):
        part = tmp_path / ".part"
        part.write_bytes(content)
        place_upload(tmp_path, "a.csv", part)
        assert not part.exists()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {"a.csv": b"old", "a-1.csv": b"new"}


def test_dataset_guess() -> None:
    assert guess_dataset("orders_today.csv") == "orders"
    assert guess_dataset("customer-list.xlsx") == "customers"
    assert guess_dataset("data.json", "new products") == "products"
    assert guess_dataset("data.json", None) is None


# A supergroup's chat id, a newer user's id and a bot's id: none fits in 32 bits (PostgreSQL's INTEGER).
SUPERGROUP, BIG_USER, BIG_BOT = -1_001_234_567_890, 7_123_456_789, 8_000_000_001


def test_telegram_ids_of_64_bits_are_stored(any_tables: Engine) -> None:
    from core.store.users import create_user, link_telegram, user_for_telegram

    tables = any_tables
    assert claim_update(
        tables, bot_id=BIG_BOT, update_id=1, kind="message", chat_id=SUPERGROUP, telegram_user_id=BIG_USER
    )
    set_reason_prompt(tables, chat_id=SUPERGROUP, telegram_user_id=BIG_USER, approval_id="apr_1")
    assert take_reason_prompt(tables, chat_id=SUPERGROUP, telegram_user_id=BIG_USER) == "apr_1"
    token = tokens.issue(
        tables,
        kind="approval",
        action="approve",
        chat_id=SUPERGROUP,
        expires_at=utcnow() + timedelta(hours=1),
        telegram_user_id=BIG_USER,
        approval_id="apr_1",
    )
    assert tokens.consume(tables, token, telegram_user_id=BIG_USER) is True
    create_user(engine=tables, name="ann", role="approver", password=None, actor="test")
    link_telegram(engine=tables, name="ann", telegram_user_id=BIG_USER, actor="test")
    user = user_for_telegram(engine=tables, telegram_user_id=BIG_USER)
    assert user is not None and user.name == "ann"
