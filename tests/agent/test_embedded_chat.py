"""The issue's acceptance conversations on the real embedded backend, tools, demo data and checkpointer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from core.store.audit import AuditLog
from flows.demo.data import load_demo
from switchboard.settings import Settings


@pytest.fixture
def sb(settings: Settings, engine: Engine) -> Iterator[Switchboard]:
    load_demo(engine=engine, settings=settings, today=date(2026, 11, 22))
    with open_switchboard(settings, engine) as service:
        yield service


def test_report_then_follow_up_for_emea(sb: Switchboard) -> None:
    first = sb.chat(thread_id="t", user="olive", role="operator", text="show me last month's sales by region")
    assert first.decision is not None
    assert (
        first.decision.tool,
        first.decision.args["report"],
        first.decision.args["period"],
        first.decision.action,
    ) == (
        "run_report",
        "sales_by_region",
        "last_month",
        "execute",
    )
    assert first.table is not None and {row[0] for row in first.table.rows} == {
        "emea",
        "apac",
        "latam",
        "north_america",
    }
    assert first.chart_path is not None and first.chart_path.endswith(".png")
    second = sb.chat(thread_id="t", user="olive", role="operator", text="now just EMEA")
    assert second.decision is not None
    assert (second.decision.tool, second.decision.args["region"], second.decision.args["period"]) == (
        "run_report",
        "emea",
        "last_month",
    )
    assert second.table is not None and {row[0] for row in second.table.rows} == {"emea"}


def test_load_file_confirms_before_writing(sb: Switchboard) -> None:
    reply = sb.chat(thread_id="t", user="olive", role="operator", text="load orders_today.csv into orders")
    assert reply.decision is not None
    assert (reply.decision.tool, reply.decision.args["path"], reply.decision.args["dataset"]) == (
        "ingest_file",
        "orders_today.csv",
        "orders",
    )
    assert reply.decision.action in ("confirm", "clarify")
    assert sb.runner.runs.list() == []
    if reply.decision.action == "confirm":
        done = sb.chat(thread_id="t", user="olive", role="operator", text="yes")
        assert done.run_id is not None
        assert [r.name for r in sb.runner.runs.list()] == ["ingest_file"]


def test_weather_gets_no_tool(sb: Switchboard) -> None:
    reply = sb.chat(thread_id="t", user="olive", role="operator", text="what's the weather in Lisbon")
    assert reply.decision is not None and reply.decision.tool is None and reply.decision.action == "refuse"
    records = [r for r in AuditLog(sb.engine).iter_records() if r.event == "agent.decision"]
    assert len(records) == 1 and '"tool":null' in records[0].data and '"prompt_hash"' in records[0].data
