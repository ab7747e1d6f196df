"""Structured logs: JSON lines with the bound fields, bindings that follow tasks and threads, no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from bot.redact import TokenRedactor
from core.logs import (
    JsonFormatter,
    StderrHandler,
    TextFormatter,
    annotate,
    bind,
    bound,
    configure_logging,
)
from core.redaction import REDACTED, scrub

ROOT = Path(__file__).resolve().parents[2]
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Lines:
    """The records of one logger, formatted by the formatter under test."""

    def __init__(self, formatter: logging.Formatter) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)
        self.log = logging.getLogger("tests.core.logs")

    def text(self) -> str:
        return self.stream.getvalue()

    def json(self) -> list[dict[str, Any]]:
        lines = self.text().splitlines()
        records = [json.loads(line) for line in lines]  # every line is one whole JSON object
        for record in records:
            assert TS.fullmatch(record.pop("ts"))
        return records


@pytest.fixture
def lines() -> Iterator[Lines]:
    captured = Lines(JsonFormatter())
    captured.log.addHandler(captured.handler)
    captured.log.setLevel(logging.DEBUG)
    captured.log.propagate = False
    yield captured
    captured.log.removeHandler(captured.handler)
    captured.log.propagate = True
    captured.log.setLevel(logging.NOTSET)


def test_a_line_is_one_json_object_with_the_bound_and_extra_fields(lines: Lines) -> None:
    with bind(request_id="r-1", actor="olive"):
        with bind(thread_id="t1", run_id=7, ignored=None):
            lines.log.info("ran %s", "export", extra={"rows": 3, "path": Path("/tmp/x")})
        lines.log.warning("after the inner block")
    lines.log.debug("unbound")
    assert lines.json() == [
        {
            "level": "info",
            "logger": "tests.core.logs",
            "msg": "ran export",
            "request_id": "r-1",
            "actor": "olive",
            "thread_id": "t1",
            "run_id": 7,
            "rows": 3,
            "path": "/tmp/x",
        },
        {
            "level": "warning",
            "logger": "tests.core.logs",
            "msg": "after the inner block",
            "request_id": "r-1",
            "actor": "olive",
        },
        {"level": "debug", "logger": "tests.core.logs", "msg": "unbound"},
    ]
    assert bound() == {}


def test_an_exception_is_one_field_holding_the_traceback(lines: Lines) -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        lines.log.exception("it failed")
    assert len(lines.text().splitlines()) == 1  # the traceback never spills over several lines
    (record,) = lines.json()
    exc = record.pop("exc")
    assert record == {
        "level": "error",
        "logger": "tests.core.logs",
        "msg": "it failed",
        "exc_type": "ValueError",
    }
    assert exc.startswith("Traceback (most recent call last):") and exc.endswith("ValueError: bad\nthing")


def test_a_broken_format_string_still_gives_a_line() -> None:
    # Formatted directly: pytest's own handler fails a test that logs a broken format string.
    record = logging.LogRecord("tests.core.logs", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["msg"]) == ("info", "%s and %s ('one',)")


def test_annotate_reaches_the_block_around_a_copied_context(lines: Lines) -> None:
    async def request() -> None:
        with bind(request_id="r-2"):
            # As a sync FastAPI dependency does: it runs in a worker thread, in a copy of the context.
            await asyncio.to_thread(annotate, actor="olive")
            lines.log.info("done")

    annotate(actor="nobody")  # outside any block: nowhere to add it, so nothing happens
    asyncio.run(request())
    assert [(r["request_id"], r["actor"]) for r in lines.json()] == [("r-2", "olive")]
    assert bound() == {}


def test_concurrent_tasks_keep_their_own_fields(lines: Lines) -> None:
    async def request(name: str, pause: float) -> None:
        with bind(request_id=name):
            await asyncio.sleep(pause)
            annotate(actor=f"actor-{name}")
            await asyncio.sleep(pause)
            lines.log.info(name)

    async def both() -> None:
        await asyncio.gather(request("a", 0.02), request("b", 0.01))

    asyncio.run(both())
    assert sorted((r["msg"], r["request_id"], r["actor"]) for r in lines.json()) == [
        ("a", "a", "actor-a"),
        ("b", "b", "actor-b"),
    ]


class Login(BaseModel):
    user: str
    password: SecretStr


def test_secrets_never_reach_a_line(lines: Lines) -> None:
    token = "sb_" + "x" * 43
    with bind(actor="olive", api_token=token):
        lines.log.warning(
            "calling with Authorization: Bearer abc.DEF-123 and %s",
            SecretStr("hunter2"),
            extra={
                "headers": {"Authorization": "Bearer abc.DEF-123", "Accept": "*/*"},
                "asgi_headers": [
                    (b"authorization", b"Basic dXNlcjpwYXNz"),
                    (b"cookie", b"sb_session=s3cr3t"),
                ],
                "login": Login(user="olive", password=SecretStr("hunter2")),
                "db_password": "hunter2",
                "note": f"token {token} was used",
            },
        )
        try:
            raise RuntimeError("GET https://api.telegram.org/bot123456:AAbbCCdd-ee/getMe failed")
        except RuntimeError:
            lines.log.exception("telegram is down")
    output = lines.text()
    for secret in ("hunter2", "abc.DEF-123", "dXNlcjpwYXNz", "s3cr3t", token, "AAbbCCdd-ee"):
        assert secret not in output
    first, second = lines.json()
    assert first == {
        "level": "warning",
        "logger": "tests.core.logs",
        "msg": f"calling with Authorization: Bearer {REDACTED} and **********",
        "actor": "olive",
        "api_token": REDACTED,
        "headers": {"Authorization": REDACTED, "Accept": "*/*"},
        "asgi_headers": [["authorization", REDACTED], ["cookie", REDACTED]],
        "login": {"user": "olive", "password": REDACTED},
        "db_password": REDACTED,
        "note": f"token {REDACTED} was used",
    }
    assert "https://api.telegram.org/bot[redacted]/getMe" in second["exc"]


def test_the_bot_token_redactor_still_works_on_a_json_line(lines: Lines) -> None:
    lines.handler.addFilter(TokenRedactor("42:plain-secret"))
    try:
        raise RuntimeError("the token 42:plain-secret leaked")
    except RuntimeError:
        lines.log.exception("with %s", "42:plain-secret")
    assert "plain-secret" not in lines.text()
    assert lines.json()[0]["msg"] == "with <telegram-token>"


def test_scrub_leaves_ordinary_text_alone() -> None:
    text = "run 12 of sales_export by olive: 3 tokens, bearer of news"
    assert scrub(text) == text


def test_text_format_puts_the_fields_after_the_message() -> None:
    captured = Lines(TextFormatter())
    captured.log.addHandler(captured.handler)
    try:
        with bind(request_id="r-3", actor="olive"):
            captured.log.warning("slow reply", extra={"seconds": 2.5, "password": "hunter2"})
    finally:
        captured.log.removeHandler(captured.handler)
    line = captured.text().rstrip("\n")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING tests\.core\.logs: slow reply "
        r'request_id="r-3" actor="olive" seconds=2\.5 password="\[redacted\]"',
        line,
    ), line


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "telegram")}
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def test_configure_logging_reuses_its_handler_and_keeps_its_filters(
    root_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info")
    (handler,) = [h for h in root_logging.handlers if isinstance(h, StderrHandler)]
    redactor = TokenRedactor("42:plain-secret")
    handler.addFilter(redactor)
    configure_logging("DEBUG", json=False)
    assert [h for h in root_logging.handlers if isinstance(h, StderrHandler)] == [handler]
    assert handler.filters == [redactor] and isinstance(handler.formatter, TextFormatter)
    assert root_logging.level == logging.DEBUG
    assert logging.getLogger("httpx").level == logging.WARNING  # its URLs may carry the bot token
    configure_logging("warning")
    logging.getLogger("tests.core.configured").info("hidden")
    logging.getLogger("tests.core.configured").warning("shown")
    err = capsys.readouterr().err  # written to the sys.stderr of the moment, which pytest swapped
    assert [json.loads(line)["msg"] for line in err.splitlines()] == ["shown"]
    with pytest.raises(ValueError, match="unknown log level 'loud': use one of DEBUG, INFO, WARNING"):
        configure_logging("loud")


def test_logging_config_makes_uvicorns_records_json_lines_in_a_fresh_process() -> None:
    script = (
        "import logging, logging.config\n"
        "from core.logs import bind, logging_config\n"
        "logging.config.dictConfig(logging_config('info'))\n"
        "with bind(request_id='r-4'):\n"
        "    logging.getLogger('uvicorn.error').info('Started server process [%d]', 1, "
        "extra={'color_message': 'Started \\x1b[36m1\\x1b[0m'})\n"
        "logging.getLogger('httpx').info('GET https://api.telegram.org/bot1:secret/getMe')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in done.stderr.splitlines()]
    for record in records:
        record.pop("ts")
    assert records == [
        {"level": "info", "logger": "uvicorn.error", "msg": "Started server process [1]", "request_id": "r-4"}
    ]
