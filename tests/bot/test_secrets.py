"""The bot token never reaches the logs, even with HTTP client logging turned up to DEBUG."""

from __future__ import annotations

import io
import logging

import pytest

from bot.redact import MASK, TokenRedactor, install_token_redaction
from tests.bot.conftest import OLIVE, Harness, run, running, wait_until
from tests.utils.fake_backend import ScriptedBackend


def test_redactor_blanks_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TokenRedactor("123:SECRET"))
    log = logging.getLogger("tests.bot.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("GET https://api.telegram.org/bot%s/getMe", "123:SECRET")
        try:
            raise RuntimeError("failed https://api.telegram.org/bot123:SECRET/sendMessage")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert "123:SECRET" not in output
    assert output.count(MASK) == 3 and "RuntimeError" in output  # message, source line, exception


def test_polling_at_debug_level_never_logs_the_token(
    harness: Harness, backend: ScriptedBackend, caplog: pytest.LogCaptureFixture
) -> None:
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING  # quietened by build_application
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # someone debugging turns it back up
    install_token_redaction(harness.api.token)  # the handlers of this test phase
    backend.enqueue("list_runs", {}, confidence=0.97)

    async def scenario() -> None:
        async with running(harness):
            await harness.poll()
            harness.api.push_update(harness.api.text_update(OLIVE, "list runs"))
            await wait_until(lambda: harness.texts_to(OLIVE), what="the reply")

    try:
        run(scenario())
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "getUpdates" in logged and MASK in logged  # the URLs were logged, redacted
    assert harness.api.token not in logged
