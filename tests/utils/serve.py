"""``switchboard serve --workers N`` as a child process, for tests that need the real supervisor and workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.utils.servers.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serve_workers(
    env: dict[str, str], *, workers: int = 2, wait_s: float = 120
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``switchboard serve --workers N`` with ``env`` (added to this process's) on a free loopback port.

    Yields its URL and process once /health answers; stops it with SIGINT (the supervisor stops its workers).
    """
    port = free_port("127.0.0.1")
    command = [sys.executable, "-m", "switchboard", "serve", "--port", str(port), "--workers", str(workers)]
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen(
        command, cwd=ROOT, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"serve --workers {workers} did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)
    try:
        yield url, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
