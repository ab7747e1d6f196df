"""Core schema migrations on SQLite and PostgreSQL: from empty, from the previous release, twice, and at once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    DefaultClause,
    Enum,
    Integer,
    MetaData,
    String,
    event,
    inspect,
    text,
    true,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.store.audit import GENESIS, AuditLog
from core.store.migrate import (
    SchemaUpgradeError,
    alembic_config,
    current_revisions,
    differences,
    head_revisions,
    new_revision,
)
from core.store.migrations import CORE_MIGRATIONS
from core.store.runs import RunStatus, RunStore
from core.store.schema import init_db
from core.store.users import authenticate, get_user
from tests.utils.schema import (
    Blank,
    blank_fixture,  # noqa: F401  (the blank fixture)
    describe,
    load_release_17e0589,
    release_17e0589_database,
)

ROOT = Path(__file__).resolve().parents[2]
CORE_TABLES = CORE_MIGRATIONS.tables()
WHEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)

HEAD = "0008"  # the newest core revision
NEXT = f"{int(HEAD) + 1:04d}"
RELEASE_17E0589 = "0002"  # the revision release 17e0589's schema matches
# Tables later revisions created: 0006, 0007, 0008.
ADDED_SINCE_RELEASE = frozenset(
    {"seen_signature", "rollup_day", "rollup_sku", "rollup_customer", "rollup_pause", "training_candidate"}
)


def model_differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return differences(conn, CORE_MIGRATIONS)


def revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        return current_revisions(conn, CORE_MIGRATIONS)


def add_release_rows(engine: Engine) -> None:
    """What a database of the previous release holds: a user, a finished run, the audit chain's head."""
    users = sql_table(
        "sb_user",
        sql_column("name", String),
        sql_column("role", String),
        sql_column("password_hash", String),
        sql_column("active", Boolean),
        sql_column("created_at", DateTime(timezone=True)),
    )
    runs = sql_table(
        "run",
        sql_column("name", String),
        sql_column("kind", String),
        sql_column("status", Enum(RunStatus, name="runstatus")),
        sql_column("attempt", Integer),
        sql_column("max_attempts", Integer),
        sql_column("actor", String),
        sql_column("inputs", JSON),
        sql_column("created_at", DateTime(timezone=True)),
    )
    with engine.begin() as conn:
        conn.execute(
            users.insert().values(
                name="olive",
                role="operator",
                password_hash=PasswordHasher().hash("olive-pass-1"),
                active=True,
                created_at=WHEN,
            )
        )
        conn.execute(
            runs.insert().values(
                name="ingest_file",
                kind="tool",
                status=RunStatus.SUCCEEDED,
                attempt=1,
                max_attempts=3,
                actor="olive",
                inputs={"dataset": "orders"},
                created_at=WHEN,
            )
        )
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)"), {"genesis": GENESIS}
        )


def assert_release_rows_kept(engine: Engine) -> None:
    olive = get_user(engine=engine, name="olive")
    assert (olive.role, olive.active, olive.must_change_password, olive.created_at) == (
        "operator",
        True,
        False,
        WHEN,
    )
    assert authenticate(engine=engine, name="olive", password="olive-pass-1") is not None
    run = RunStore(engine).latest(name="ingest_file")
    assert run is not None
    assert (run.status, run.actor, run.inputs) == (RunStatus.SUCCEEDED, "olive", {"dataset": "orders"})
    AuditLog(engine).append(actor="test", event="after.upgrade", subject="olive", data={})
    assert AuditLog(engine).verify().ok


def test_an_empty_database_gets_exactly_the_models_schema(blank: Blank) -> None:
    init_db(blank.engine)

    # The guard: a table model changed without a migration fails here, and the list says what differs.
    assert model_differences(blank.engine) == []
    assert revisions(blank.engine) == head_revisions(CORE_MIGRATIONS) == {HEAD}
    assert set(inspect(blank.engine).get_table_names()) == CORE_TABLES | {"alembic_version"}
    assert AuditLog(blank.engine).head().hash == GENESIS


def test_the_previous_release_is_stamped_upgraded_and_keeps_its_rows(blank: Blank) -> None:
    load_release_17e0589(blank.engine)
    add_release_rows(blank.engine)

    init_db(blank.engine)

    assert revisions(blank.engine) == {HEAD}
    assert model_differences(blank.engine) == []
    assert_release_rows_kept(blank.engine)


def test_a_database_from_before_the_users_page_gains_must_change_password(blank: Blank) -> None:
    load_release_17e0589(blank.engine)
    with blank.engine.begin() as conn:  # the first releases' sb_user, before commit 56aca61
        conn.execute(text("ALTER TABLE sb_user DROP COLUMN must_change_password"))
    add_release_rows(blank.engine)

    init_db(blank.engine)

    assert revisions(blank.engine) == {HEAD}
    assert model_differences(blank.engine) == []
    assert_release_rows_kept(blank.engine)


def test_the_migrations_rebuild_the_previous_release_exactly(blank: Blank) -> None:
    with blank.engine.begin() as conn:
        command.upgrade(alembic_config(CORE_MIGRATIONS, conn), RELEASE_17E0589)

    with release_17e0589_database(blank) as released:
        tables = CORE_TABLES - ADDED_SINCE_RELEASE
        assert describe(blank.engine, tables) == describe(released, tables)


def test_init_db_twice_changes_nothing(blank: Blank) -> None:
    init_db(blank.engine)
    before = describe(blank.engine, CORE_TABLES | {"alembic_version"})
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(blank.engine, "before_cursor_execute", record)
    try:
        init_db(blank.engine)
    finally:
        event.remove(blank.engine, "before_cursor_execute", record)

    assert describe(blank.engine, CORE_TABLES | {"alembic_version"}) == before
    assert revisions(blank.engine) == {HEAD}
    changes = [
        s for s in statements if s.split()[0].upper() in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"}
    ]
    assert changes == []
    assert statements  # it did look


def test_a_model_changed_without_a_migration_is_reported(blank: Blank) -> None:
    init_db(blank.engine)
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    users = changed.tables["sb_user"]
    users.append_column(Column("nickname", String(), nullable=True))
    users.c.must_change_password.server_default = DefaultClause(true())

    with blank.engine.connect() as conn:
        found = differences(conn, CORE_MIGRATIONS, metadata=changed)

    # a column's modifications come grouped in a list; a table's additions one by one
    flat = [change for item in found for change in (item if isinstance(item, list) else [item])]
    assert sorted((c[0], c[2], c[3] if isinstance(c[3], str) else c[3].name) for c in flat) == [
        ("add_column", "sb_user", "nickname"),
        ("modify_default", "sb_user", "must_change_password"),
    ]


def test_every_migration_downgrades_and_upgrades_again(blank: Blank) -> None:
    init_db(blank.engine)
    with blank.engine.begin() as conn:
        command.downgrade(alembic_config(CORE_MIGRATIONS, conn), "base")
    assert set(inspect(blank.engine).get_table_names()) == {"alembic_version"}
    if blank.engine.dialect.name == "postgresql":
        assert inspect(blank.engine).get_enums() == []  # type: ignore[attr-defined]

    init_db(blank.engine)

    assert model_differences(blank.engine) == []


def test_a_database_with_only_some_release_tables_is_refused_by_name(blank: Blank) -> None:
    load_release_17e0589(blank.engine)
    with blank.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_head"))
        conn.execute(text('DROP TABLE "order"'))

    with pytest.raises(
        SchemaUpgradeError, match=r"some of the core tables but not audit_head, order, and no"
    ):
        init_db(blank.engine)
    assert "alembic_version" not in inspect(blank.engine).get_table_names()  # nothing was half-done


def test_processes_starting_together_migrate_once(blank: Blank) -> None:
    code = (  # each child imports first, then waits for the word to go, so the three meet at the lock
        "import sys\n"
        "from core.store.db import make_engine\n"
        "from core.store.schema import init_db\n"
        "engine = make_engine(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "init_db(engine)\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, blank.url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n", child.communicate(timeout=60)[1]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    errors = [child.communicate(timeout=120)[1] for child in children]

    assert [child.returncode for child in children] == [0, 0, 0], errors
    assert model_differences(blank.engine) == []
    assert revisions(blank.engine) == {HEAD}
    with blank.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_a_new_revision_follows_the_newest_one(tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    for path in [
        *CORE_MIGRATIONS.script_location.glob("*.*"),
        *CORE_MIGRATIONS.script_location.glob("versions/0*.py"),
    ]:
        (scripts / path.relative_to(CORE_MIGRATIONS.script_location)).write_bytes(path.read_bytes())
    written = new_revision(
        replace(CORE_MIGRATIONS, script_location=scripts), message="add a thing", rev_id=NEXT
    )

    assert written == scripts / "versions" / f"{NEXT}_add_a_thing.py"
    source = written.read_text()
    assert f"down_revision = '{HEAD}'" in source
    assert "op." not in source  # the models match the newest revision: nothing to do


def test_the_previous_release_can_store_partial_runs_after_the_upgrade(blank: Blank) -> None:
    load_release_17e0589(blank.engine)
    add_release_rows(blank.engine)
    init_db(blank.engine)

    runs = RunStore(blank.engine)
    run, _ = runs.create(name="nightly_sales_export", actor="olive", inputs={}, kind="flow")
    assert run.id is not None
    runs.start(run.id)
    runs.partial(run.id, {"result": {}}, error="step 3 (send_notification) failed: mail server down")

    assert runs.get(run.id).status == RunStatus.PARTIAL
    if blank.engine.dialect.name == "postgresql":  # the enum type has exactly the model's values, in order
        enums = {e["name"]: e["labels"] for e in inspect(blank.engine).get_enums()}  # type: ignore[attr-defined]
        assert enums["runstatus"] == [status.name for status in RunStatus]
