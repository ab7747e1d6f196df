"""Additive schema upgrades: a database made by an earlier version gets the columns added since."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Engine

from core.store.schema import init_db
from core.store.upgrade import SchemaUpgradeError, add_missing_columns
from core.store.users import authenticate, create_user, get_user


def test_an_older_user_table_gets_the_new_column_with_its_default(any_engine: Engine) -> None:
    create_user(engine=any_engine, name="olive", role="operator", password="olive-pass-1", actor="test")
    with any_engine.begin() as conn:  # the table as the first release made it
        conn.execute(text("ALTER TABLE sb_user DROP COLUMN must_change_password"))
    assert "must_change_password" not in {c["name"] for c in inspect(any_engine).get_columns("sb_user")}

    init_db(any_engine)

    assert get_user(engine=any_engine, name="olive").must_change_password is False
    assert authenticate(engine=any_engine, name="olive", password="olive-pass-1") is not None
    from sqlmodel import SQLModel

    assert add_missing_columns(any_engine, SQLModel.metadata) == []  # idempotent


def test_a_not_null_column_without_a_server_default_is_refused_by_name(any_engine: Engine) -> None:
    before = MetaData()
    Table("sb_upgrade_probe", before, Column("id", Integer, primary_key=True))
    before.create_all(any_engine)
    after = MetaData()
    Table(
        "sb_upgrade_probe",
        after,
        Column("id", Integer, primary_key=True),
        Column("note", String(20), nullable=True),
        Column("kind", String(20), nullable=False),
    )
    try:
        with pytest.raises(SchemaUpgradeError, match=r"sb_upgrade_probe\.kind .* NOT NULL without a server"):
            add_missing_columns(any_engine, after)
        # nothing was half-done: the nullable column before it was not added either
        assert {c["name"] for c in inspect(any_engine).get_columns("sb_upgrade_probe")} == {"id"}
    finally:
        before.drop_all(any_engine)
