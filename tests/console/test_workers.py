"""``switchboard serve --workers 2`` for real: two uvicorn worker processes on one SQLite database and var folder.

Turns posted at once to one thread, over separate connections (so both workers take some), must run one after
the other: the thread's checkpoints form one chain, never a fork. ``/metrics`` from either worker counts every
worker's turns.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from core.store.users import create_user, issue_token
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.utils.serve import serve_workers

ROOT = Path(__file__).resolve().parents[2]
TURNS = 12


@pytest.fixture
def served(settings: Settings, engine: Engine) -> tuple[str, str, subprocess.Popen[str]]:
    create_user(engine=engine, name="ana", role="operator", password=None, actor="test")
    token = issue_token(engine=engine, name="ana", actor="test")
    env = {
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_VAR_DIR": str(settings.var_dir),
        "SWITCHBOARD_REFERENCE_DATE": REFERENCE_DATE.isoformat(),
    }
    with serve_workers(env) as (url, process):
        yield url, token, process


def _turn(url: str, token: str, index: int) -> httpx.Response:
    # A new connection per request: the kernel hands connections to whichever worker accepts first.
    return httpx.post(
        f"{url}/api/threads/shared/messages",
        json={"text": f"list the failed runs of the last {index + 1} days"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _checkpoint_parents(var_dir: Path) -> Counter[str | None]:
    with sqlite3.connect(var_dir / "checkpoints.sqlite") as conn:
        rows = conn.execute(
            "SELECT parent_checkpoint_id FROM checkpoints WHERE thread_id = 'shared' AND checkpoint_ns = ''"
        ).fetchall()
    return Counter(parent for (parent,) in rows)


def test_two_workers_run_one_threads_turns_in_turn_and_add_up_metrics(
    served: tuple[str, str, subprocess.Popen[str]], settings: Settings
) -> None:
    url, token, process = served
    with ThreadPoolExecutor(TURNS) as pool:
        answers = list(pool.map(lambda i: _turn(url, token, i), range(TURNS)))

    assert [a.status_code for a in answers] == [200] * TURNS
    assert {a.json()["decision"]["tool"] for a in answers} == {"list_runs"}
    history = httpx.get(
        f"{url}/api/threads/shared/messages", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"] * TURNS

    # Every turn continued from the one before: no checkpoint has a sibling.
    parents = _checkpoint_parents(settings.var_dir)
    assert sum(parents.values()) >= TURNS
    assert max(parents.values()) == 1, parents

    counts = set()
    for _ in range(6):  # scrape a few times over new connections: both workers answer some of them
        text = httpx.get(f"{url}/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "switchboard_chat_turn_seconds_count":
                    counts.add(sample.value)
    assert counts == {float(TURNS)}
    assert process.poll() is None


def test_a_worker_not_started_by_serve_workers_says_how_to_start_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.serving import MULTIPROC_ENV
    from core.errors import ConfigError
    from switchboard.worker import worker_app

    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with pytest.raises(
        ConfigError, match="console workers must be started with 'switchboard serve --workers N'"
    ):
        worker_app()


def test_workers_stop_when_their_supervisor_is_killed(
    served: tuple[str, str, subprocess.Popen[str]],
) -> None:
    url, _token, process = served
    process.kill()  # SIGKILL: the supervisor gets no chance to stop its workers
    process.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=1)
        except httpx.TransportError:
            return  # nobody listens any more: the orphaned workers shut down
        time.sleep(0.2)
    pytest.fail("the workers kept serving after their supervisor was killed")
