"""The hosts simulation's moving parts: a host process, and the load a load balancer would spread over them."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

READS = [
    "show me last week's sales by region",
    "how many orders did we get yesterday",
    "list the failed runs",
    "sales by region for last month",
]


@dataclass
class Host:
    """One ``switchboard serve`` process standing for a host."""

    index: int
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it (again, after a kill: the same executor id recovers what the killed one left)."""
        command = [sys.executable, "-m", "switchboard", "serve", "--port", str(self.port)]
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


@dataclass
class Tally:
    """What the load script saw."""

    requested: list[str] = field(default_factory=list)
    approved_at: dict[str, float] = field(
        default_factory=dict
    )  # approval id → wall clock of the approve call
    turns: int = 0
    turn_errors: int = 0


async def post(
    session: aiohttp.ClientSession, hosts: list[Host], path: str, token: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """POST to a random host; a host that is down (killed) is retried on another, as a load balancer would."""
    for _attempt in range(40):
        host = random.choice(hosts)
        try:
            async with session.post(
                f"{host.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                payload = await response.json(content_type=None)
                if response.status in (502, 503):
                    await asyncio.sleep(0.25)
                    continue
                return response.status, payload if isinstance(payload, dict) else {}
        except (TimeoutError, aiohttp.ClientError):
            await asyncio.sleep(0.25)
    raise RuntimeError(f"no host answered POST {path}")


async def load(hosts: list[Host], prepared: dict[str, Any], turns: int, concurrency: int) -> Tally:
    """Send ``turns`` chat turns (one delivery request per file among reads) and approve each request made."""
    tally = Tally()
    artifacts: list[int] = prepared["artifacts"]
    # One delivery request per exported file, spread among the reads.
    kinds = ["deliver"] * len(artifacts) + ["read"] * max(0, turns - len(artifacts))
    random.shuffle(kinds)
    work: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for index, kind in enumerate(kinds):
        work.put_nowait((index, kind))
    files = iter(artifacts)
    approvals: asyncio.Queue[str | None] = asyncio.Queue()
    timeout = aiohttp.ClientTimeout(total=60)

    async def chat(session: aiohttp.ClientSession) -> None:
        while not work.empty():
            index, kind = work.get_nowait()
            text = f"send file {next(files)} to partner_sftp" if kind == "deliver" else random.choice(READS)
            status, reply = await post(
                session,
                hosts,
                f"/api/threads/hosts-{index % 25}/messages",
                prepared["tokens"]["olive"],
                {"text": text},
            )
            tally.turns += 1
            if status != 200:
                tally.turn_errors += 1
            elif reply.get("approval_id"):
                tally.requested.append(reply["approval_id"])
                approvals.put_nowait(reply["approval_id"])

    async def approve(session: aiohttp.ClientSession) -> None:
        while (approval_id := await approvals.get()) is not None:
            at = time.time()
            status, _ = await post(
                session, hosts, f"/api/approvals/{approval_id}/approve", prepared["tokens"]["ann"], {}
            )
            if status in (200, 409):  # 409: a retry after a kill found it approved already
                tally.approved_at[approval_id] = at

    async with aiohttp.ClientSession(timeout=timeout) as session:
        approvers = [asyncio.create_task(approve(session)) for _ in range(2)]
        await asyncio.gather(*(chat(session) for _ in range(concurrency)))
        for _ in approvers:
            approvals.put_nowait(None)
        await asyncio.gather(*approvers)
    return tally


async def rate(hosts: list[Host], prepared: dict[str, Any], concurrency: int) -> dict[str, float]:
    """Ask for a delivery of each rate file, then approve them all at once; approval id → approve wall clock."""
    requested: list[str] = []
    approved: dict[str, float] = {}
    files: asyncio.Queue[int] = asyncio.Queue()
    for artifact in prepared["rate_artifacts"]:
        files.put_nowait(artifact)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def ask(index: int) -> None:
            while not files.empty():
                artifact = files.get_nowait()
                token = prepared["tokens"]["olive"]
                text = {"text": f"send file {artifact} to partner_sftp"}
                status, reply = await post(session, hosts, f"/api/threads/rate-{index}/messages", token, text)
                if status == 200 and reply.get("approval_id"):
                    requested.append(reply["approval_id"])

        await asyncio.gather(*(ask(index) for index in range(4)))
        pending: asyncio.Queue[str] = asyncio.Queue()
        for approval_id in requested:
            pending.put_nowait(approval_id)

        async def approve() -> None:
            while not pending.empty():
                approval_id = pending.get_nowait()
                at = time.time()
                path = f"/api/approvals/{approval_id}/approve"
                status, _ = await post(session, hosts, path, prepared["tokens"]["ann"], {})
                if status == 200:
                    approved[approval_id] = at

        await asyncio.gather(*(approve() for _ in range(concurrency)))
    return approved
