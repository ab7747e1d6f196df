"""Executors: an admin sees unfinished durable work by executor, and hands over the work of one that is gone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dbos import DBOS, SetWorkflowID
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from agent.service import open_switchboard
from console.app import create_app
from core import durable
from core.store.audit import AuditLog
from switchboard.settings import Settings
from tests.console.conftest import People, full_registry
from tests.utils.fake_backend import ScriptedBackend


@pytest.fixture
def durable_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with (
        open_switchboard(
            settings, engine, backend=ScriptedBackend(), registry=full_registry(), durable_as="console-0"
        ) as sb,
        TestClient(create_app(settings, switchboard=sb)) as client,
    ):
        yield client


def test_an_admin_sees_unfinished_work_by_executor(durable_client: TestClient, people: People) -> None:
    # A workflow this process is running (it waits for a message that never comes while the list is read).
    with SetWorkflowID("test:waiting"):
        handle = DBOS.start_workflow(_waits)
    listed = durable_client.get("/api/executors", headers=people("root"))
    DBOS.send("test:waiting", "go")
    handle.get_result()

    assert listed.status_code == 200
    mine = [e for e in listed.json()["executors"] if e["this_process"]]
    assert [(e["executor_id"].endswith("-console-0"), e["unfinished"] >= 1) for e in mine] == [(True, True)]


def test_handing_over_is_for_admins_audited_and_never_this_process(
    durable_client: TestClient, people: People, engine: Engine
) -> None:
    gone = durable_client.post("/api/executors/host-b-console-0/hand-over", headers=people("root"))
    assert gone.json() == {"executor_id": "host-b-console-0", "queued": 0}
    own = durable_client.post(f"/api/executors/{durable.executor_id()}/hand-over", headers=people("root"))
    assert own.status_code == 409 and "is this process" in own.json()["detail"]
    denied = durable_client.post("/api/executors/host-b-console-0/hand-over", headers=people("ann"))
    assert denied.status_code == 403
    audited = [r for r in AuditLog(engine).iter_records() if r.event == "durable.handed_over"]
    assert [(r.actor, r.subject) for r in audited] == [("root", "executor:host-b-console-0")]


@DBOS.workflow(name="test.waits")
def _waits() -> None:
    DBOS.recv(timeout_seconds=30)
