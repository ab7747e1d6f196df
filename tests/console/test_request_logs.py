"""Console requests log as JSON lines carrying the request id they answer with, the actor and the thread."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from agent.service import Switchboard
from console.app import create_app
from core.store.users import create_user, issue_token
from switchboard.settings import Settings
from tests.console.conftest import People
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.logs import captured_json, json_records
from tests.utils.servers.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
turn_log = logging.getLogger("tests.console.turn")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    with captured_json() as stream:
        yield stream


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    """The server's lines (the test client logs its side of each request too)."""
    return [r for r in json_records(stream) if not r["logger"].startswith("httpx")]


def _access(record: dict[str, Any]) -> bool:
    return record["logger"] == "console.request_context"


def test_a_request_logs_its_id_actor_and_thread_and_answers_with_the_id(
    client: TestClient,
    people: People,
    backend: ScriptedBackend,
    lines: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decide = backend.decide

    def logging_decide(request: Any) -> Any:
        turn_log.info("deciding")  # inside the chat turn, in a worker thread
        return decide(request)

    monkeypatch.setattr(backend, "decide", logging_decide)
    backend.enqueue("list_pending_approvals", {}, confidence=0.99)
    headers = {**people("olive"), "X-Request-ID": "req-42.a:b"}
    lines.seek(0)  # only the request's lines, not those of creating the user
    lines.truncate()
    response = client.post("/api/threads/t7/messages", json={"text": "what is waiting?"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42.a:b"
    records = _records(lines)
    mine = [r for r in records if r.get("request_id") == "req-42.a:b"]
    assert mine == records  # every line of the request carries its id
    turn = [r for r in mine if r["logger"] == "tests.console.turn"]
    assert [(r["msg"], r["actor"], r["thread_id"]) for r in turn] == [("deciding", "olive", "t7")]
    (access,) = [r for r in mine if _access(r)]
    assert access.pop("duration_ms") >= 0 and access.pop("ts")
    assert access == {
        "level": "info",
        "logger": "console.request_context",
        "msg": "POST /api/threads/t7/messages 200",
        "request_id": "req-42.a:b",
        "actor": "olive",
        "thread_id": "t7",
        "method": "POST",
        "path": "/api/threads/t7/messages",
        "status": 200,
        "client": "testclient",
    }
    token = people.token("olive")
    assert token not in lines.getvalue()


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, "-leading-dash", "a/b"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_fresh_one(
    client: TestClient, people: People, lines: io.StringIO, given: str | None
) -> None:
    headers = people("ann") | ({"X-Request-ID": given} if given is not None else {})
    lines.seek(0)
    lines.truncate()
    response = client.get("/api/threads?x=secret-in-query", headers=headers)
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (access,) = [r for r in _records(lines) if _access(r)]
    assert (access["request_id"], access["actor"], access["path"], access["status"]) == (
        request_id,
        "ann",
        "/api/threads",  # the query string is never logged
        200,
    )
    assert "secret-in-query" not in json.dumps(_records(lines))


def test_an_unexpected_error_logs_with_the_request_id_it_answers_with(
    settings: Settings, sb: Switchboard, lines: io.StringIO
) -> None:
    broken = APIRouter()

    @broken.get("/api/broken")
    def explode() -> None:
        raise RuntimeError("failed while holding Bearer abcdefghijklmnop")

    app: FastAPI = create_app(settings, switchboard=sb, extra_routers=[broken])
    with TestClient(app, raise_server_exceptions=False) as web:
        response = web.get("/api/broken", headers={"X-Request-ID": "crash-1"})
    assert (response.status_code, response.headers["x-request-id"]) == (500, "crash-1")
    assert "Traceback" not in response.text
    records = _records(lines)
    (error,) = [r for r in records if r["logger"] == "console.errors"]
    assert (error["request_id"], error["level"], error["exc_type"]) == ("crash-1", "error", "RuntimeError")
    assert "abcdefghijklmnop" not in lines.getvalue()
    (access,) = [r for r in records if _access(r)]
    assert (access["request_id"], access["status"]) == ("crash-1", 500)


@pytest.mark.integration
def test_switchboard_serve_writes_json_lines_uvicorns_included(settings: Settings, engine: Engine) -> None:
    create_user(engine=engine, name="olive", role="operator", password=None, actor="test")
    token = issue_token(engine=engine, name="olive", actor="test")
    port = free_port("127.0.0.1")
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_VAR_DIR": str(settings.var_dir),
        "SWITCHBOARD_LOG_LEVEL": "info",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=settings.var_dir.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, response = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/threads",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=1,
                )
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None and response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert "Switchboard console on http://127.0.0.1" in out  # what people read stays on stdout
    records = [json.loads(line) for line in err.splitlines()]  # stderr holds nothing but JSON lines
    loggers = {r["logger"] for r in records}
    assert "uvicorn.error" in loggers and "uvicorn.access" not in loggers
    (access,) = [r for r in records if _access(r) and r["path"] == "/api/threads"]
    assert (access["request_id"], access["actor"], access["status"]) == (
        response.headers["x-request-id"],
        "olive",
        200,
    )
    assert token not in err
