"""The fault suite: a process is SIGKILLed at a chosen point of an approved execution, then started again.

Each case runs real processes on one database (SQLite, and PostgreSQL in a schema of its own), with a real SFTP
server on loopback. The approved call is a delivery to the partner's SFTP server, or a named flow whose second
step is that delivery. The first process approves the request and dies at the fault point (``core/faults.py``);
the second starts as the same executor, as a restarted console worker does, and recovers. Whatever the point,
the partner receives the file exactly once, the request ends executed, no run is left running or pending, and
the requester's thread is told.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent.service import open_switchboard
from core.store.approvals import ThreadMessage
from core.store.db import make_engine
from core.store.runs import Run, RunStatus
from core.store.schema import init_db
from flows.demo.data import load_demo
from switchboard.settings import Settings, load_settings
from tests.conftest import REFERENCE_DATE
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.schema import postgres_schema_url
from tests.utils.servers.sftp import SftpServer

ROOT = Path(__file__).resolve().parents[2]
THREAD = "faults:olive"
# Every fault point, in the order an approved execution reaches them (core/faults.py), and two inside a flow.
CASES = [
    ("deliver", "approval.approved"),
    ("deliver", "run.created"),
    ("deliver", "run.started"),
    ("deliver", "delivery.uploaded"),
    ("deliver", "tool.returned"),
    ("deliver", "run.recorded"),
    ("deliver", "approval.executed"),
    ("deliver", "approval.marked"),
    ("flow", "flow.step_done"),  # the export step is done, the delivery step has not started
    ("flow", "delivery.uploaded"),  # inside the flow's delivery step
]
# The named flow, made two steps here: export, then deliver what it exported to the partner.
PARTNER_DROP = {
    "nightly_sales_export": {
        "description": "Last month's sales by region to the partner.",
        "steps": [
            {
                "tool": "export_dataset",
                "args": {"dataset": "sales_by_region", "format": "csv", "period": "last_month"},
            },
            {"tool": "deliver_file", "args": {"file": "latest", "destination": "partner_sftp"}},
        ],
    }
}


@dataclass(frozen=True)
class Database:
    """Where the processes of one case keep their state."""

    url: str
    engine: Engine


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Database]:
    if request.param == "sqlite":
        engine = make_engine(settings.database_url)
        init_db(engine)
        yield Database(settings.database_url, engine)
        engine.dispose()
        return
    # A schema of its own in the session's database; the engine's own state goes beside it (<schema>_dbos).
    with postgres_schema_url(request.getfixturevalue("postgres_url")) as url:
        engine = make_engine(url)
        init_db(engine)
        yield Database(url, engine)
        engine.dispose()


def _environment(
    settings: Settings, db: Database, sftp_server: SftpServer, *, fault: str | None
) -> dict[str, str]:
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
        "SWITCHBOARD_DATABASE_URL": db.url,
        "SWITCHBOARD_VAR_DIR": str(settings.var_dir),
        "SWITCHBOARD_REFERENCE_DATE": REFERENCE_DATE.isoformat(),
        "SWITCHBOARD_DESTINATIONS": json.dumps({"partner_sftp": partner}),
        "SWITCHBOARD_PIPELINES": json.dumps(PARTNER_DROP),
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
@pytest.mark.parametrize(("call", "point"), CASES)
def test_a_kill_at_any_point_delivers_once_and_tells_the_thread(
    call: str, point: str, settings: Settings, database: Database, sftp_server: SftpServer
) -> None:
    env = _environment(settings, database, sftp_server, fault=None)
    config = load_settings(
        database_url=database.url,
        var_dir=settings.var_dir,
        reference_date=REFERENCE_DATE.isoformat(),
        destinations=json.loads(env["SWITCHBOARD_DESTINATIONS"]),
        pipelines=PARTNER_DROP,
        secrets={"partner_sftp_password": sftp_server.password},
    )
    engine = database.engine
    load_demo(engine=engine, settings=config, today=REFERENCE_DATE)
    with open_switchboard(config, engine, backend=ScriptedBackend()) as sb:
        if call == "deliver":
            export = sb.runner.call(
                "export_dataset",
                {"dataset": "sales_by_region", "format": "csv", "period": "last_month"},
                actor="olive",
            )
            tool, args = (
                "deliver_file",
                {"file": str(export.result.data["artifact_id"]), "destination": "partner_sftp"},
            )
        else:
            tool, args = "run_flow", {"flow": "nightly_sales_export"}
        request = sb.approvals.request(
            tool=tool, args=args, requester="olive", reasons=["external delivery"], thread_id=THREAD
        )

    killed = _child("approve", request.id, _environment(settings, database, sftp_server, fault=point))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    restarted = _child("restart", request.id, env)
    assert restarted.returncode == 0, restarted.stderr[-2000:]

    outcome = json.loads(restarted.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "executed"
    assert [Path(p).name for p in sftp_server.landed] == [
        "sales_by_region_2026-10.csv"
    ]  # once, at the partner
    with Session(engine) as session:
        runs = list(session.execute(select(Run)).scalars())
        told = [
            m
            for m in session.execute(select(ThreadMessage).where(ThreadMessage.thread_id == THREAD)).scalars()
            if m.payload.get("approval_id") == request.id
        ]
    assert [(r.name, r.status) for r in runs if r.status in (RunStatus.RUNNING, RunStatus.PENDING)] == []
    assert [(r.name, r.status) for r in runs if r.id == outcome["run_id"]] == [
        ("nightly_sales_export" if call == "flow" else "deliver_file", RunStatus.SUCCEEDED)
    ]
    assert [m.payload["run_id"] for m in told] == [outcome["run_id"]], [m.text for m in told]
    said = "run the nightly sales export flow" if call == "flow" else "send artifact 1 to partner sftp"
    assert told[0].text.startswith(f"Request {request.id} ({said}) ")
    assert "approved by ann" in told[0].text


@pytest.mark.integration
@pytest.mark.parametrize("point", ["flow.step_done", "run.recorded"])
def test_a_flow_started_in_the_background_survives_a_kill_and_the_thread_is_told(
    point: str, settings: Settings, database: Database, sftp_server: SftpServer
) -> None:
    # The customer sync: two steps, no delivery. Killed mid-flow, or after the run is recorded but before the
    # thread is told; the restarted executor finishes the run once and tells the thread.
    demo = load_settings(
        database_url=database.url, var_dir=settings.var_dir, reference_date=REFERENCE_DATE.isoformat()
    )
    load_demo(engine=database.engine, settings=demo, today=REFERENCE_DATE)
    thread = "faults:background"
    asked = _child("ask", thread, _environment(settings, database, sftp_server, fault=point))
    assert asked.returncode == -signal.SIGKILL, asked.stderr[-2000:]
    started = json.loads(asked.stdout.strip().splitlines()[-1])
    assert started["kind"] == "started"
    settled = _child("settle", thread, _environment(settings, database, sftp_server, fault=None))
    assert settled.returncode == 0, settled.stderr[-2000:]

    with Session(database.engine) as session:
        runs = list(session.execute(select(Run)).scalars())
        told = [
            m.text
            for m in session.execute(select(ThreadMessage).where(ThreadMessage.thread_id == thread)).scalars()
            if m.payload.get("run_id") == started["run_id"] and "kind" not in m.payload
        ]
    flows = [(r.id, r.name, r.status) for r in runs if r.pipeline_run_id is None]
    assert flows == [(started["run_id"], "customer_sync", RunStatus.SUCCEEDED)]
    steps = sorted((r.name, r.status) for r in runs if r.pipeline_run_id == started["run_id"])
    assert steps == [("apply_rules", RunStatus.SUCCEEDED), ("normalize_dataset", RunStatus.SUCCEEDED)]
    assert len(told) == 1 and told[0].startswith(
        f"Run {started['run_id']} (run the customer sync flow) finished"
    )


@pytest.mark.integration
def test_a_no_whose_turn_was_killed_is_one_correction_when_said_again(
    settings: Settings, database: Database, sftp_server: SftpServer
) -> None:
    # Killed after the correction was committed but before the turn was kept: the thread still waits on the same
    # question, the operator says no again, and the review queue still holds one candidate, with one record.
    thread = "faults:decline"
    first = _child(
        "decline", thread, _environment(settings, database, sftp_server, fault="correction.captured")
    )
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    again = _child("decline-again", thread, _environment(settings, database, sftp_server, fault=None))
    assert again.returncode == 0, again.stderr[-2000:]
    said = json.loads(again.stdout.strip().splitlines()[-1])
    assert said == {"reply": "OK, I won't run it.", "candidates": 1, "corrections": 1}


@pytest.mark.integration
def test_a_gone_hosts_work_handed_over_is_finished_once_by_another(
    settings: Settings, database: Database, sftp_server: SftpServer
) -> None:
    """The killed process never comes back: another executor takes its work once an admin hands it over."""
    env = _environment(settings, database, sftp_server, fault=None)
    config = load_settings(
        database_url=database.url,
        var_dir=settings.var_dir,
        reference_date=REFERENCE_DATE.isoformat(),
        destinations=json.loads(env["SWITCHBOARD_DESTINATIONS"]),
        secrets={"partner_sftp_password": sftp_server.password},
    )
    load_demo(engine=database.engine, settings=config, today=REFERENCE_DATE)
    with open_switchboard(config, database.engine, backend=ScriptedBackend()) as sb:
        export = sb.runner.call(
            "export_dataset",
            {"dataset": "sales_by_region", "format": "csv", "period": "last_month"},
            actor="olive",
        )
        args = {"file": str(export.result.data["artifact_id"]), "destination": "partner_sftp"}
        request = sb.approvals.request(
            tool="deliver_file", args=args, requester="olive", reasons=["external"], thread_id=THREAD
        )

    fault = _environment(settings, database, sftp_server, fault="delivery.uploaded")
    killed = _child("approve", request.id, fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    taken = _child("takeover", request.id, env)
    assert taken.returncode == 0, taken.stderr[-2000:]

    outcome = json.loads(taken.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "executed"
    assert [Path(p).name for p in sftp_server.landed] == ["sales_by_region_2026-10.csv"]
    with Session(database.engine) as session:
        runs = list(session.execute(select(Run)).scalars())
    assert [(r.name, r.status) for r in runs if r.status in (RunStatus.RUNNING, RunStatus.PENDING)] == []
