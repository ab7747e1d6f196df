"""Fixtures for the CLI tests: the environment a ``switchboard`` command reads, and a database with runs in it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from core.store.db import make_engine, write_session
from core.store.runs import Run, RunStore
from core.store.schema import init_db

STARTED = datetime(2026, 11, 21, 2, 0, 0, tzinfo=UTC)
# A failure long enough to wrap at 80 columns, as a real one is.
SFTP_ERROR = (
    "step 2 (deliver_file) failed: could not reach the SFTP server at 127.0.0.1:2222 for bank_sftp: connection "
    "refused"
)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The variables a ``switchboard`` command reads, on a fresh var folder; returns the database file."""
    var = tmp_path / "var"
    (var / "inbox").mkdir(parents=True)
    database = var / "switchboard.db"
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(var))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SWITCHBOARD_REFERENCE_DATE", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "80")
    for name in (
        "SWITCHBOARD_CONFIG",
        "SWITCHBOARD_LOG_LEVEL",
        "FORCE_COLOR",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return database


@pytest.fixture
def runs_db(cli_env: Path) -> Iterator[Engine]:
    """Three runs, as the nightly schedule and an operator left them.

    1 nightly_sales_export succeeded (1.5 s); 2 customer_sync failed with a long error; 3 nightly_sales_export
    succeeded, with two steps. Each started an hour after the one before.
    """
    engine = make_engine(f"sqlite:///{cli_env}")
    init_db(engine)
    runs = RunStore(engine)
    flows = [
        ("nightly_sales_export", "scheduler"),
        ("customer_sync", "olive"),
        ("nightly_sales_export", "cli"),
    ]
    for index, (name, actor) in enumerate(flows):
        run, _ = runs.create(name=name, actor=actor, kind="flow", inputs={"flow": name})
        assert run.id == index + 1
        runs.start(run.id)
        if name == "customer_sync":
            runs.fail(run.id, error=SFTP_ERROR)
        else:
            runs.succeed(run.id, {"steps": 3})
    for step in ("export_dataset", "deliver_file"):
        run, _ = runs.create(name=step, actor="cli", kind="step", inputs={}, pipeline_run_id=3)
        runs.start(run.id or 0)
        runs.succeed(run.id or 0, {})
    with write_session(engine) as session:
        for run_id in range(1, 6):
            at = STARTED + timedelta(hours=run_id - 1)
            session.execute(
                update(Run)
                .where(Run.id == run_id)  # type: ignore[arg-type]
                .values(created_at=at, started_at=at, finished_at=at + timedelta(seconds=1.5))
            )
    yield engine
    engine.dispose()
