"""The user store's invariant: there is always an active admin, even when two admins demote each other at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine

from core.errors import Conflict
from core.store import users
from core.store.users import create_user, list_users, set_role


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ada", "bea"):
        create_user(engine=any_engine, name=name, role="admin", password=None, actor="test")
    both_checked = threading.Barrier(2)
    check = users._other_active_admins

    def checked_then_wait(session, name):  # type: ignore[no-untyped-def]
        count = check(session, name)
        try:  # make both transactions sit between their check and their commit, if the database lets them
            both_checked.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass  # the other one is held at its check until this one commits: what the lock is for
        return count

    monkeypatch.setattr(users, "_other_active_admins", checked_then_wait)

    def demote(name: str) -> str:
        try:
            set_role(engine=any_engine, name=name, role="operator", actor="test")
        except Conflict as exc:
            return exc.message
        return "demoted"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(demote, ["ada", "bea"]))
    refused = [o for o in outcomes if o != "demoted"]
    assert len(refused) == 1
    assert refused[0].endswith("is the last active admin; make someone else an admin first")
    assert [u.role for u in list_users(engine=any_engine)].count("admin") == 1
