"""One simulated host's process for ``benchmarks.hosts``.

A ``switchboard serve`` or ``switchboard bot`` to start, kill -9 and start again.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass
class Host:
    """One ``switchboard serve`` (kind "serve") or ``switchboard bot --webhook`` (kind "bot") process."""

    index: int
    port: int
    env: dict[str, str]
    log: Path
    kind: Literal["serve", "bot"] = "serve"
    args: tuple[str, ...] = ()  # after ``switchboard <kind>``; a serve gets ``--port`` by default
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        """How the report names it."""
        return f"{self.kind}-{self.index}"

    def start(self) -> None:
        """Start it (again, after a kill: the same executor id recovers what the killed one left)."""
        args = self.args or ("--port", str(self.port))
        command = [sys.executable, "-m", "switchboard", self.kind, *args]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as after a power cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            self.kills += 1

    def stop(self) -> None:
        """Stop it politely at the end."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
