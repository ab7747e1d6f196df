"""Three hosts on one PostgreSQL under a chaos loop: ``python -m benchmarks.hosts``.

Three ``switchboard serve`` processes and two ``switchboard bot --webhook`` processes stand for the hosts: each has
its own var folder and executor id, and they share only what README's "Running on several hosts" says to share
(the database, the artifact folder, the session secret; the bots also the token and the webhook secret). The bots
send through a fake Telegram Bot API on loopback. A load script sends chat turns to random processes: to a console
over HTTP, or to a bot as a Telegram update (``benchmarks.hosts_bots``). They are reads, and requests to deliver
one of 100 exported files to the partner's SFTP server, which need an approver. An approver approves each request
on a random process: in a console, or by tapping Approve on the message a bot sent her. Meanwhile a chaos loop
SIGKILLs one process every few seconds and starts it again (same executor id), a bounded number of times.

The deliveries are counted where they land: at the SFTP server, one count each time a file appears under its final
name (the atomic rename that ends an upload). Expected is every request whose approval was accepted; executed is
the distinct files that landed; duplicates are landings beyond a file's first; lost is expected minus executed. The last line
printed is one JSON object with those figures, the kills and the approve → executed p95.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.console_load import wait_ready
from benchmarks.hosts_bots import Telegram, bot_args, bot_env, link_people, update_workflows, wait_listening
from benchmarks.hosts_load import load, rate
from benchmarks.hosts_process import Host
from benchmarks.hosts_report import p95_ms, settle, table

REFERENCE_DATE = date(2026, 11, 22)


def _prepare(env: dict[str, str], files: int, rate_files: int) -> dict[str, Any]:
    """Schema, demo data, an operator and an approver with tokens, and exported files to deliver.

    ``files`` are delivered under the chaos loop, ``rate_files`` afterwards at full speed with no kills.
    """
    from agent.checkpoint import open_checkpointer
    from core.store.db import make_engine
    from core.store.schema import init_db
    from core.store.users import create_user, issue_token
    from flows.demo.data import load_demo
    from switchboard.settings import load_settings
    from tools.registry import build_registry
    from tools.runtime import ToolRunner

    settings = load_settings(
        database_url=env["SWITCHBOARD_DATABASE_URL"],
        var_dir=Path(env["SWITCHBOARD_VAR_DIR"]),
        artifacts_dir=Path(env["SWITCHBOARD_ARTIFACTS_DIR"]),
        reference_date=REFERENCE_DATE.isoformat(),
        destinations=json.loads(env["SWITCHBOARD_DESTINATIONS"]),
    )
    engine = make_engine(settings.database_url)
    init_db(engine)
    # The chat checkpoints' tables too, before the processes start: five processes creating them at once on a
    # fresh database race on LangGraph's migration rows (UniqueViolation on checkpoint_migrations_pkey).
    with open_checkpointer(settings):
        pass
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    create_user(engine=engine, name="olive", role="operator", password=None, actor="benchmark")
    create_user(engine=engine, name="ann", role="approver", password=None, actor="benchmark")
    link_people(engine)
    runner = ToolRunner(settings=settings, engine=engine, registry=build_registry())
    artifacts = []
    for offset in range(files + rate_files):  # one file per day: each a delivery of its own
        day = (REFERENCE_DATE - timedelta(days=offset + 1)).isoformat()
        done = runner.call(
            "export_dataset", {"dataset": "orders", "format": "csv", "period": f"{day}..{day}"}, actor="olive"
        )
        artifacts.append(int(done.result.data["artifact_id"]))
    tokens = {name: issue_token(engine=engine, name=name, actor="benchmark") for name in ("olive", "ann")}
    engine.dispose()
    return {"tokens": tokens, "artifacts": artifacts[:files], "rate_artifacts": artifacts[files:]}


def _chaos(processes: list[Host], *, every_s: float, max_kills: int, stop: threading.Event) -> None:
    kills = 0
    while kills < max_kills and not stop.wait(every_s):
        process = random.choice(processes)
        process.kill()
        process.start()
        kills += 1


def simulate(
    *,
    hosts: int = 3,
    bots: int = 2,
    turns: int = 300,
    files: int = 100,
    concurrency: int = 4,
    kill_every_s: float = 5.0,
    max_kills: int = 12,
    rate_files: int = 150,
    sweep_interval: float = 5.0,
    keep: bool = False,
) -> dict[str, Any]:
    """Run the simulation on a throwaway PostgreSQL database; returns the report."""
    from tests.utils.db import temporary_postgres_database
    from tests.utils.servers.ports import free_port
    from tests.utils.servers.sftp import SftpServer
    from tests.utils.servers.telegram_api import TelegramApi

    started = time.monotonic()
    with (
        temporary_postgres_database() as database_url,
        (
            contextlib.nullcontext(tempfile.mkdtemp(prefix="sb-hosts-"))
            if keep
            else tempfile.TemporaryDirectory(prefix="sb-hosts-")
        ) as folder,
        SftpServer() as partner,
        TelegramApi() as telegram_api,
    ):
        shared = Path(folder) / "shared-artifacts"
        shared.mkdir()
        destinations = {
            "partner_sftp": {
                "kind": "sftp",
                "host": partner.host,
                "port": partner.port,
                "username": partner.username,
                "password_secret": "partner_sftp_password",
                "known_hosts": str(partner.known_hosts_path),
            }
        }
        base = {
            **os.environ,
            "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_ARTIFACTS_DIR": str(shared),
            "SWITCHBOARD_DESTINATIONS": json.dumps(destinations),
            "SWITCHBOARD_REFERENCE_DATE": REFERENCE_DATE.isoformat(),
            "SWITCHBOARD_SESSION_SECRET": "hosts-benchmark-shared-session-secret",
            "SWITCHBOARD_SECRET_PARTNER_SFTP_PASSWORD": partner.password,
            "SWITCHBOARD_RATE_LIMIT_PER_MINUTE": "0",
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
        }
        base.pop("SWITCHBOARD_CONFIG", None)
        machines = []
        for index in range(hosts):
            var = Path(folder) / f"host-{index}"
            var.mkdir()
            env = {**base, "SWITCHBOARD_VAR_DIR": str(var), "SWITCHBOARD_EXECUTOR_ID": f"host-{index}"}
            machines.append(Host(index, free_port("127.0.0.1"), env, Path(folder) / f"host-{index}.log"))
        bot_hosts = []
        for index in range(bots):
            var = Path(folder) / f"bot-{index}"
            var.mkdir()
            env = {
                **base,
                **bot_env(telegram_api),
                "SWITCHBOARD_VAR_DIR": str(var),
                "SWITCHBOARD_EXECUTOR_ID": f"bot-{index}",
            }
            port = free_port("127.0.0.1")
            args = bot_args(port, sweep_interval=sweep_interval)
            bot_hosts.append(Host(index, port, env, Path(folder) / f"bot-{index}.log", kind="bot", args=args))
        prepared = _prepare({**machines[0].env}, files, rate_files)
        everyone = machines + bot_hosts
        for machine in everyone:
            machine.start()
        stop = threading.Event()
        chaos = threading.Thread(
            target=_chaos,
            args=(everyone,),
            kwargs={"every_s": kill_every_s, "max_kills": max_kills, "stop": stop},
        )
        telegram = Telegram(telegram_api, bot_hosts, database_url) if bot_hosts else None
        try:
            for machine in machines:
                assert machine.process is not None
                wait_ready(machine.url, machine.process, timeout_s=180)
            for bot in bot_hosts:
                wait_listening(bot, timeout_s=180)
            chaos.start()
            tally = asyncio.run(load(machines, prepared, turns, concurrency, telegram))
            stop.set()
            chaos.join()
            latencies = settle(database_url, tally.approved_at, timeout_s=180, partial=True)
            updates = update_workflows(database_url, timeout_s=60) if bot_hosts else {}
            # The rate phase measures the consoles alone, as before the bots took part.
            for bot in bot_hosts:
                bot.stop()
            landed_before = len(partner.landed)
            rate_approved = asyncio.run(rate(machines, prepared, concurrency=12))
            rate_done = settle(database_url, rate_approved, timeout_s=180)
        except BaseException:
            for machine in everyone:
                print(f"--- {machine.name} ---", file=sys.stderr)
                print(machine.log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop.set()
            for machine in everyone:
                machine.stop()
        received = list(partner.landed[:landed_before])
        rate_received = list(partner.landed[landed_before:])
    distinct = set(received)
    # From the first approval to the last run's end: executions per second across the hosts, with no kills.
    rate_span = max((rate_approved[a] + seconds for a, seconds in rate_done.items()), default=0.0) - min(
        rate_approved.values(), default=0.0
    )
    expected = len(tally.approved_at)
    via = {
        kind: {
            "turns": tally.turns_via[kind],
            "approvals": sum(1 for v in tally.approved_via.values() if v == kind),
            "kills": sum(m.kills for m in everyone if m.kind == kind),
            "p95_ms": p95_ms([s for a, s in latencies.items() if tally.approved_via.get(a) == kind]),
        }
        for kind in ("serve", "bot")
    }
    return {
        "hosts": hosts,
        "bots": bots,
        "turns": tally.turns,
        "turn_errors": tally.turn_errors,
        "requested": len(tally.requested),
        "expected": expected,
        "executed": len(distinct),
        "duplicates": len(received) - len(distinct),
        "lost": max(0, expected - len(distinct)),
        "kills": sum(m.kills for m in everyone),
        "approve_to_executed_p95_ms": p95_ms(list(latencies.values())),
        "via": via,
        "bot_replies_missing": telegram.replies_missing if telegram else 0,
        "bot_buttons_missing": telegram.buttons_missing if telegram else 0,
        "bot_redeliveries": telegram.redeliveries if telegram else 0,
        "tap_answers": telegram.answers() if telegram else {},
        "telegram_updates": updates,
        "rate_approved": len(rate_approved),
        "rate_executed": len(set(rate_received)),
        "rate_duplicates": len(rate_received) - len(set(rate_received)),
        "approved_executions_per_s": round(len(rate_done) / rate_span, 1) if rate_span > 0 else None,
        "seconds": round(time.monotonic() - started, 1),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "folder": folder if keep else None,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the simulation, print a table, and end with one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--files", type=int, default=100, help="delivery requests to approve")
    parser.add_argument("--bots", type=int, default=2, help="switchboard bot processes (0: consoles only)")
    parser.add_argument("--kill-every", type=float, default=5.0)
    parser.add_argument("--max-kills", type=int, default=12)
    parser.add_argument("--rate-files", type=int, default=150, help="deliveries of the no-kill rate phase")
    parser.add_argument("--keep", action="store_true", help="keep the hosts' folders and logs (printed)")
    args = parser.parse_args(argv)
    report = simulate(
        bots=args.bots,
        turns=args.turns,
        files=args.files,
        kill_every_s=args.kill_every,
        max_kills=args.max_kills,
        rate_files=args.rate_files,
        keep=args.keep,
    )
    rows = table(report)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        sys.stdout.write(f"{name:<{width}}  {value}\n")
    keys = ("expected", "executed", "duplicates", "lost", "kills", "approve_to_executed_p95_ms")
    sys.stdout.write(json.dumps({key: report[key] for key in keys}) + "\n")


if __name__ == "__main__":
    main()
