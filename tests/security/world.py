"""A console world shared by a module's cases: a database, the agent service, the app, users with tokens.

Building the app and its users costs about a second, so each module builds one (``open_world``) and its cases
share it; a case that writes counts rows before and after (``World.counts``) rather than relying on a fresh
database. The ``deactivated`` user had a token before an admin deactivated them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent.backends.base import Backend
from agent.service import Switchboard, open_switchboard
from console.app import create_app
from core.store.approvals import ApprovalRequest, ThreadMessage
from core.store.audit import AuditRecord
from core.store.db import make_engine, write_session
from core.store.models import Customer, Order, Product
from core.store.runs import Run
from core.store.schema import init_db
from core.store.users import User, create_user, issue_token, set_active
from switchboard.settings import Settings, load_settings
from tests.conftest import REFERENCE_DATE
from tests.console.conftest import full_registry
from tests.security.bounds import unwatch, watch
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend

PASSWORD = "correct-horse-42"
WEBHOOK_SECRET = "security-suite-webhook-secret"
ROLES = {"olive": "operator", "oscar": "operator", "ann": "approver", "root": "admin", "gone": "operator"}
COUNTED = {
    "runs": Run,
    "approvals": ApprovalRequest,
    "messages": ThreadMessage,
    "users": User,
    "customers": Customer,
    "products": Product,
    "orders": Order,
    "audit": AuditRecord,
}


@dataclass
class World:
    """One module's database, service and app."""

    settings: Settings
    engine: Engine
    sb: Switchboard
    app: FastAPI
    tokens: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # ids of objects a module made for its cases

    def auth(self, name: str) -> dict[str, str]:
        """Bearer header of ``name``."""
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def counts(self, *tables: str) -> dict[str, int]:
        """Row counts of the named tables (all of COUNTED when none are named)."""
        with Session(self.engine) as session:
            return {
                name: session.execute(select(func.count()).select_from(COUNTED[name])).scalar_one()
                for name in tables or tuple(COUNTED)
            }


def world_settings(folder: Path, **overrides: Any) -> Settings:
    """Demo settings on a SQLite file in ``folder``, no rate limit, the ingest webhook on."""
    var = folder / "var"
    (var / "inbox").mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        for key in ("SWITCHBOARD_CONFIG", "SWITCHBOARD_DATABASE_URL"):
            patch.delenv(key, raising=False)
        return load_settings(
            database_url=f"sqlite:///{var / 'switchboard.db'}",
            var_dir=var,
            reference_date=REFERENCE_DATE.isoformat(),
            rate_limit_per_minute=0,
            ingest_webhook_secret=WEBHOOK_SECRET,
            **overrides,
        )


_HASH: list[str] = []


def password_hash() -> str:
    """One argon2 hash for every user of the session (a hash costs ~0.4 s)."""
    if not _HASH:
        _HASH.append(PasswordHasher().hash(PASSWORD))
    return _HASH[0]


def add_users(engine: Engine) -> dict[str, str]:
    """The users of ROLES with the shared password and a token each; ``gone`` is then deactivated."""
    tokens = {}
    for name, role in ROLES.items():
        create_user(engine=engine, name=name, role=role, password=None, actor="test")
        with write_session(engine) as session:
            session.execute(update(User).where(User.name == name).values(password_hash=password_hash()))
        tokens[name] = issue_token(engine=engine, name=name, actor="test")
    set_active(engine=engine, name="gone", active=False, actor="root")
    return tokens


@contextmanager
def open_world(folder: Path, *, backend: Backend | None = None, **overrides: Any) -> Iterator[World]:
    """Settings, a migrated and seeded database, users, the service (scripted backend unless given) and the app."""
    settings = world_settings(folder, **overrides)
    engine = make_engine(settings.database_url)
    init_db(engine)
    seed_basic(engine)
    tokens = add_users(engine)
    watch(engine)
    try:
        with open_switchboard(
            settings, engine, backend=backend or ScriptedBackend(), registry=full_registry()
        ) as sb:
            yield World(settings, engine, sb, create_app(settings, switchboard=sb), tokens)
    finally:
        unwatch(engine)
        engine.dispose()


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, read from its router (HEAD and static files left out)."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.update((method, route.path) for method in route.methods if method != "HEAD")
            elif hasattr(route, "original_router"):  # FastAPI's included router
                walk(route.original_router.routes)
            elif hasattr(route, "routes") and not hasattr(route, "app"):
                walk(route.routes)

    walk(app.router.routes)
    return found
