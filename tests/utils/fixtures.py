"""Pytest fixtures that start the loopback protocol servers, one per test.

Import them into a conftest.py (``from tests.utils.fixtures import *``) or a
test module. Each fixture binds 127.0.0.1 on a free port, yields the started
server object, and stops it on teardown even when the test failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.utils.servers.http import HttpReceiver
from tests.utils.servers.ollama_api import OllamaApi
from tests.utils.servers.sftp import SftpServer
from tests.utils.servers.smtp import SmtpServer
from tests.utils.servers.telegram_api import TelegramApi

__all__ = ["http_receiver", "ollama_api", "sftp_server", "smtp_server", "telegram_api"]


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    """An SFTP server chrooted to ``tmp_path/sftp-root``, keys under ``tmp_path/sftp-keys``."""
    server = SftpServer(root=tmp_path / "sftp-root", keys_dir=tmp_path / "sftp-keys")
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server capturing envelopes."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """An HTTP server capturing requests and answering as scripted (200 by default)."""
    with HttpReceiver() as server:
        yield server


@pytest.fixture
def telegram_api() -> Iterator[TelegramApi]:
    """A fake Telegram Bot API; use its ``token``, ``base_url`` and ``base_file_url``."""
    with TelegramApi() as server:
        yield server


@pytest.fixture
def ollama_api() -> Iterator[OllamaApi]:
    """A scripted, strict fake Ollama API; use its ``url`` as the Ollama host.

    A request that breaks the documented API fails the test, even when the code under test coped with the 400,
    unless the test set ``expect_violations``.
    """
    with OllamaApi() as server:
        yield server
    if server.violations and not server.expect_violations:
        pytest.fail("requests broke Ollama's documented API:\n" + "\n".join(server.violations), pytrace=False)
