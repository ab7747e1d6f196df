"""``switchboard rollups check|rebuild``: a bucket changed behind the triggers' back is named, and a rebuild mends it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from core.store.audit import AuditLog
from core.store.db import make_engine, write_session
from flows.demo.data import load_demo
from switchboard.cli import app
from switchboard.settings import load_settings


def test_check_names_what_differs_and_rebuild_mends_it(cli_env: Path) -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    load_demo(engine=engine, settings=settings, today=date(2026, 11, 22), seed=7, reset=True)
    runner = CliRunner()

    first = runner.invoke(app, ["rollups", "check"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("OK: ") and "buckets match the order lines" in first.output

    with write_session(engine) as session:  # a bucket changed behind the triggers' back
        changed = session.execute(text("UPDATE rollup_day SET orders = orders + 1 WHERE day >= '2026-11-02'"))
        assert changed.rowcount > 10
    broken = runner.invoke(app, ["rollups", "check"])
    assert broken.exit_code == 1
    assert "rollup_day [2026-11-02 " in broken.output
    assert f"DIFFERENT: {changed.rowcount} of " in broken.output and "the first 10 above" in broken.output
    assert broken.output.count("order table (") == 10 and "switchboard rollups rebuild" in broken.output

    rebuilt = runner.invoke(app, ["rollups", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.output.startswith("Rebuilt: ")
    assert runner.invoke(app, ["rollups", "check"]).exit_code == 0
    last = list(AuditLog(engine).iter_records())[-1]
    assert (last.event, last.actor) == ("rollups.rebuilt", "cli") and json.loads(last.data)["buckets"] > 0
