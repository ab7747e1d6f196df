"""``switchboard examples``: list, accept, discard and the interactive review, answered through a pipe."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from agent.modelops import reviewed
from agent.modelops.corrections import Correction, record
from agent.modelops.review import training_dir
from core.store.training_candidates import get_candidate
from core.store.users import create_user
from switchboard.app import App
from switchboard.commands import examples_cmd
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE

Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("COLUMNS", "200")  # one message, one line
    create_user(engine=engine, name="root", role="admin", password=None, actor="test")
    create_user(engine=engine, name="olive", role="operator", password=None, actor="test")
    root = typer.Typer()

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = App(
            overrides={
                "database_url": settings.database_url,
                "var_dir": settings.var_dir,
                "reference_date": REFERENCE_DATE.isoformat(),
            }
        )

    root.add_typer(examples_cmd.app, name="examples")

    def invoke(*args: str, answers: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(root, ["examples", *args], input=answers)
        return result.exit_code, result.output

    return invoke


def declined(engine: Engine, text: str) -> str:
    return record(
        engine,
        Correction(
            kind="declined",
            user="olive",
            channel="cli",
            subject="thread:t1",
            text=text,
            chose_tool="schedule_flow",
            chose_args={"flow": "customer_sync", "cron": "0 6 * * *"},
            confidence=0.9,
        ),
    )


def texts_in_latest(settings: Settings) -> list[tuple[str, str | None]]:
    return [(e.text, e.tool) for e in reviewed.latest(training_dir(settings.var_dir)).examples]


def test_list_accept_and_discard(run: Run, engine: Engine, settings: Settings) -> None:
    first, second = declined(engine, "sync customers at 6"), declined(engine, "what is the weather")

    code, out = run("list", "--json")
    assert code == 0
    assert [(c["id"], c["kind"], c["text"], c["status"]) for c in json.loads(out)] == [
        (first, "declined", "sync customers at 6", "pending"),
        (second, "declined", "what is the weather", "pending"),
    ]

    code, out = run("accept", first, "--as", "root")
    assert (code, out.strip()) == (
        2,
        f"Error: candidate example {first}: the tool the person meant is unknown; fix it with a tool, or accept "
        "it as out of scope",
    )
    code, out = run("accept", first, "--as", "root", "--tool", "nope")
    assert code == 2 and f"candidate example {first}: unknown tool 'nope'" in out
    assert texts_in_latest(settings) == []

    args = json.dumps({"flow": "customer_sync", "cron": "0 6 * * *"})
    code, out = run("accept", first, "--as", "root", "--tool", "schedule_flow", "--args", args)
    assert (code, out.strip()) == (
        0,
        f'Accepted {first} as schedule_flow({{"flow": "customer_sync", "cron": "0 6 * * *"}}); reviewed '
        "examples version 1 has 1.",
    )
    code, out = run("discard", second, "--as", "root", "--note", "small talk")
    assert (code, out.strip()) == (0, f"Discarded {second}.")
    assert texts_in_latest(settings) == [("sync customers at 6", "schedule_flow")]
    assert get_candidate(engine=engine, candidate_id=second).note == "small talk"


def test_an_operator_may_not_review(run: Run, engine: Engine, settings: Settings) -> None:
    candidate = declined(engine, "sync customers at 6")
    code, out = run("discard", candidate, "--as", "olive")
    assert (code, out.strip()) == (
        2,
        "Error: olive has the operator role; reviewing training examples needs admin",
    )
    assert get_candidate(engine=engine, candidate_id=candidate).status == "pending"


def test_review_reads_its_answers_from_a_pipe(run: Run, engine: Engine, settings: Settings) -> None:
    fixed, skipped, dropped = (
        declined(engine, "sync customers at 6"),
        declined(engine, "later"),
        declined(engine, "hello there"),
    )
    answers = "\n".join(
        [
            "f",  # fix the first
            "schedule_flow",
            '{"flow": "customer_sync", "cron": "0 6 * * *"}',
            "",  # keep the words
            "s",  # skip the second
            "d",  # discard the third
            "chit-chat",
        ]
    )

    code, out = run("review", "--as", "root", answers=answers + "\n")

    assert code == 0, out
    assert f"[1/3] {fixed} · declined · olive on cli" in out
    assert "  chose:  schedule_flow(" in out
    assert f"Fixed {fixed} as schedule_flow(" in out
    assert f"Discarded {dropped}." in out
    assert texts_in_latest(settings) == [("sync customers at 6", "schedule_flow")]
    assert [get_candidate(engine=engine, candidate_id=c).status for c in (fixed, skipped, dropped)] == [
        "fixed",
        "pending",
        "discarded",
    ]
