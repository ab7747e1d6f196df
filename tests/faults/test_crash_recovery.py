"""The fault suite: a process is SIGKILLed at a chosen point of an approved SFTP delivery, then started again.

Each case runs real processes on one SQLite database, with a real SFTP server on loopback. The first process
approves the request and dies at the fault point (``core/faults.py``); the second starts as the same executor, as
a restarted console worker does, and recovers. Whatever the point, the partner receives the file exactly once,
the request ends executed, no run is left running, and the requester's thread is told.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent.service import open_switchboard
from core.store.approvals import ThreadMessage
from core.store.runs import Run, RunStatus
from flows.demo.data import load_demo
from switchboard.settings import Settings, load_settings
from tests.conftest import REFERENCE_DATE
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.sftp import SftpServer

ROOT = Path(__file__).resolve().parents[2]
THREAD = "faults:olive"
# In the order an approved execution reaches them. "approval.marked" (after the request is marked executed,
# before the thread is told) is not here: a crash there still loses the message to the thread (issue 14).
POINTS = [
    "approval.approved",
    "run.created",
    "run.started",
    "delivery.uploaded",
    "tool.returned",
    "run.recorded",
    "approval.executed",
]


def _environment(settings: Settings, sftp_server: SftpServer, *, fault: str | None) -> dict[str, str]:
    partner = {
        "kind": "sftp",
        "host": sftp_server.host,
        "port": sftp_server.port,
        "username": sftp_server.username,
        "password_secret": "partner_sftp_password",
        "known_hosts": str(sftp_server.known_hosts_path),
    }
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_VAR_DIR": str(settings.var_dir),
        "SWITCHBOARD_REFERENCE_DATE": REFERENCE_DATE.isoformat(),
        "SWITCHBOARD_DESTINATIONS": json.dumps({"partner_sftp": partner}),
        "SWITCHBOARD_SECRET_PARTNER_SFTP_PASSWORD": sftp_server.password,
        "SWITCHBOARD_EXECUTOR_ID": "faults",
    }
    env.pop("SWITCHBOARD_CONFIG", None)
    env.pop("SWITCHBOARD_FAULT_POINT", None)
    if fault is not None:
        env["SWITCHBOARD_FAULT_POINT"] = fault
    return env


def _child(action: str, approval_id: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.faults.child", action, approval_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.integration
@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_any_point_delivers_once_and_tells_the_thread(
    point: str, settings: Settings, engine: Engine, sftp_server: SftpServer
) -> None:
    config = load_settings(**_environment_overrides(settings, sftp_server))
    load_demo(engine=engine, settings=config, today=REFERENCE_DATE)
    with open_switchboard(config, engine, backend=ScriptedBackend()) as sb:
        export = sb.runner.call(
            "export_dataset",
            {"dataset": "sales_by_region", "format": "csv", "period": "last_month"},
            actor="olive",
        )
        request = sb.approvals.request(
            tool="deliver_file",
            args={"file": str(export.result.data["artifact_id"]), "destination": "partner_sftp"},
            requester="olive",
            reasons=["external delivery"],
            thread_id=THREAD,
        )

    killed = _child("approve", request.id, _environment(settings, sftp_server, fault=point))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    restarted = _child("restart", request.id, _environment(settings, sftp_server, fault=None))
    assert restarted.returncode == 0, restarted.stderr[-2000:]

    outcome = json.loads(restarted.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "executed"
    assert sftp_server.landed == [export.result.data["name"]]  # once, at the partner's end
    with Session(engine) as session:
        runs = list(session.execute(select(Run)).scalars())
        told = [
            m
            for m in session.execute(select(ThreadMessage).where(ThreadMessage.thread_id == THREAD)).scalars()
            if m.payload.get("approval_id") == request.id
        ]
    assert [r.status for r in runs if r.status in (RunStatus.RUNNING, RunStatus.PENDING)] == []
    assert [(r.name, r.status) for r in runs if r.id == outcome["run_id"]] == [
        ("deliver_file", RunStatus.SUCCEEDED)
    ]
    assert [m.payload["run_id"] for m in told] == [outcome["run_id"]], [m.text for m in told]
    assert (
        told[0].text.startswith(f"Request {request.id} (deliver_file(file=")
        and "approved by ann" in told[0].text
    )


def _environment_overrides(settings: Settings, sftp_server: SftpServer) -> dict[str, object]:
    env = _environment(settings, sftp_server, fault=None)
    return {
        "database_url": env["SWITCHBOARD_DATABASE_URL"],
        "var_dir": settings.var_dir,
        "reference_date": REFERENCE_DATE.isoformat(),
        "destinations": json.loads(env["SWITCHBOARD_DESTINATIONS"]),
        "secrets": {"partner_sftp_password": sftp_server.password},
    }
