"""The hosts simulation's moving parts: a process, and the load a load balancer would spread over the consoles.

Chat turns and approvals go to a console (``switchboard serve``) over HTTP or, through ``benchmarks.hosts_bots``,
to a bot (``switchboard bot --webhook``) as Telegram would post them, in proportion to how many of each run.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.hosts_bots import OPERATORS, Telegram
from benchmarks.hosts_process import Host

READS = [
    "show me last week's sales by region",
    "how many orders did we get yesterday",
    "list the failed runs",
    "sales by region for last month",
]


@dataclass
class Tally:
    """What the load script saw."""

    requested: list[str] = field(default_factory=list)
    approved_at: dict[str, float] = field(
        default_factory=dict
    )  # approval id → wall clock of the approve call
    approved_via: dict[str, str] = field(default_factory=dict)  # approval id → "serve" or "bot"
    turns: int = 0
    turn_errors: int = 0
    turns_via: dict[str, int] = field(default_factory=lambda: {"serve": 0, "bot": 0})


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


async def load(
    hosts: list[Host],
    prepared: dict[str, Any],
    turns: int,
    concurrency: int,
    telegram: Telegram | None = None,
) -> Tally:
    """Send ``turns`` chat turns (one delivery request per file among reads) and approve each request made.

    With ``telegram``, each turn and each approval goes to a bot instead of a console with the bots' share of the
    processes: a turn as a message from an operator's chat, an approval as a tap on its Approve button.
    """
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
    bots = len(telegram.bots) if telegram is not None else 0
    bot_share = bots / (bots + len(hosts))

    async def chat(session: aiohttp.ClientSession, worker: int) -> None:
        operator = list(OPERATORS.values())[worker % len(OPERATORS)]  # one chat per worker: a turn at a time
        while not work.empty():
            index, kind = work.get_nowait()
            text = f"send file {next(files)} to partner_sftp" if kind == "deliver" else random.choice(READS)
            tally.turns += 1
            if telegram is not None and operator not in telegram.stuck and random.random() < bot_share:
                tally.turns_via["bot"] += 1
                approval_id = await telegram.ask(session, operator, text)
                if approval_id:
                    tally.requested.append(approval_id)
                    approvals.put_nowait(approval_id)
                elif kind == "deliver":
                    tally.turn_errors += 1
                continue
            tally.turns_via["serve"] += 1
            status, reply = await post(
                session,
                hosts,
                f"/api/threads/hosts-{index % 25}/messages",
                prepared["tokens"]["olive"],
                {"text": text},
            )
            if status != 200:
                tally.turn_errors += 1
            elif reply.get("approval_id"):
                tally.requested.append(reply["approval_id"])
                approvals.put_nowait(reply["approval_id"])

    async def approve(session: aiohttp.ClientSession) -> None:
        while (approval_id := await approvals.get()) is not None:
            if telegram is not None and random.random() < bot_share:
                at = await telegram.approve(session, approval_id)
                if at is not None:  # else its button never came: the approver uses the console
                    tally.approved_at[approval_id] = at
                    tally.approved_via[approval_id] = "bot"
                    continue
            at = time.time()
            status, _ = await post(
                session, hosts, f"/api/approvals/{approval_id}/approve", prepared["tokens"]["ann"], {}
            )
            if status in (200, 409):  # 409: a retry after a kill found it approved already
                tally.approved_at[approval_id] = at
                tally.approved_via[approval_id] = "serve"

    async with aiohttp.ClientSession(timeout=timeout) as session:
        # A tap waits for its request's message: more approvers keep the approvals flowing meanwhile.
        approvers = [asyncio.create_task(approve(session)) for _ in range(2 + 2 * bots)]
        await asyncio.gather(*(chat(session, worker) for worker in range(concurrency)))
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
