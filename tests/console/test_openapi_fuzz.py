"""Schemathesis against the OpenAPI spec, authenticated as an admin: no input may cause a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from agent.service import open_switchboard
from console.app import create_app
from core.store.db import make_engine
from core.store.schema import init_db
from core.store.users import create_user, issue_token
from switchboard.settings import load_settings
from tests.conftest import REFERENCE_DATE
from tests.console.conftest import full_registry
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    var: Path = tmp_path_factory.mktemp("fuzz") / "var"
    (var / "inbox").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        for key in ("SWITCHBOARD_CONFIG", "SWITCHBOARD_DATABASE_URL"):
            patch.delenv(key, raising=False)
        config = load_settings(
            database_url=f"sqlite:///{var / 'switchboard.db'}",
            var_dir=var,
            reference_date=REFERENCE_DATE.isoformat(),
            rate_limit_per_minute=0,
            ingest_webhook_secret="fuzz-webhook-secret",
        )
    engine = make_engine(config.database_url)
    init_db(engine)
    seed_basic(engine)
    create_user(engine=engine, name="root", role="admin", password=None, actor="test")
    token = issue_token(engine=engine, name="root", actor="test")
    with open_switchboard(config, engine, backend=ScriptedBackend(), registry=full_registry()) as sb:
        sb.runner.call("export_dataset", {"dataset": "customers", "format": "csv"}, actor="root")
        yield create_app(config, switchboard=sb), token
    engine.dispose()


EXAMPLES_PER_OPERATION = 8


def test_no_input_causes_a_server_error(fuzzed_app: tuple[FastAPI, str]) -> None:
    app, token = fuzzed_app
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            )

        no_server_error()
        checked.append(operation.label)
    assert "POST /api/threads/{thread_id}/messages" in checked and len(checked) >= 20
