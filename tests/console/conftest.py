"""Console fixtures: the app over a real SQLite database and a scripted backend, users with tokens, logins."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from console.app import create_app
from core.store.db import write_session
from core.store.users import User, create_user, issue_token
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tools.registry import Registry

PASSWORD = "correct-horse-42"
PEOPLE = {"olive": "operator", "oscar": "operator", "ann": "approver", "bob": "approver", "root": "admin"}


def full_registry() -> Registry:
    from tools.registry import FAMILIES, build_registry

    return build_registry(tuple(f for f in FAMILIES if importlib.util.find_spec(f) is not None))


@dataclass
class People:
    """Users created on first use (role from PEOPLE), with Bearer headers."""

    engine: Engine
    password_hash: str
    tokens: dict[str, str]

    def token(self, name: str) -> str:
        if name not in self.tokens:
            create_user(engine=self.engine, name=name, role=PEOPLE[name], password=None, actor="test")
            # argon2 costs ~0.4 s a hash here: every user shares one hash computed once per session.
            with write_session(self.engine) as session:
                session.execute(
                    update(User).where(User.name == name).values(password_hash=self.password_hash)
                )
            self.tokens[name] = issue_token(engine=self.engine, name=name, actor="test")
        return self.tokens[name]

    def __call__(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def sb(settings: Settings, engine: Engine, backend: ScriptedBackend) -> Iterator[Switchboard]:
    with open_switchboard(settings, engine, backend=backend, registry=full_registry()) as service:
        yield service


@pytest.fixture
def app(settings: Settings, sb: Switchboard) -> FastAPI:
    return create_app(settings, switchboard=sb)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def people(engine: Engine, password_hash: str) -> People:
    return People(engine, password_hash, {})


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form (the user must exist); returns the page's CSRF token for X-CSRF-Token."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token.group(1), "next": "/chat"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/chat")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    return csrf.group(1)
