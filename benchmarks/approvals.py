"""What one approved SFTP delivery costs on PostgreSQL, against a same-run baseline: ``python -m benchmarks.approvals``.

Each series runs in a process of its own (a fresh database, a real SFTP server on loopback, the durable engine),
requests ``--approvals`` deliveries of distinct files, then approves them one at a time and, in a second phase,
from ``--threads`` threads at once. The baseline series undoes two of the savings at run time: every upload opens
its own SSH connection (a pool that keeps nothing), and every pooled database connection is pinged at checkout
(as ``pool_pre_ping`` did). The series alternate (baseline, current, baseline, ...) and the table shows medians,
because this machine's speed moves while it runs. CPU is the process's own, which includes the SFTP server's
side of each upload (it runs in the same process here).

Statements are SQLAlchemy's (ours and the engine's); round trips are every statement psycopg sent, including
pings and LangGraph's checkpointer.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REFERENCE_DATE = date(2026, 11, 22)


def _series(*, baseline: bool, approvals: int, threads: int) -> dict[str, Any]:
    """One series in this process; its figures per approval."""
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from agent.service import open_switchboard
    from core.store.db import make_engine, ping_when_idle
    from core.store.schema import init_db
    from flows.delivery.transports import sftp_pool
    from flows.demo.data import load_demo
    from switchboard.settings import load_settings
    from tests.utils.db import temporary_postgres_database
    from tests.utils.fake_backend import ScriptedBackend
    from tests.utils.servers.sftp import SftpServer

    counts: collections.Counter[str] = collections.Counter()
    counting = threading.Event()

    def _statement(*_args: Any) -> None:
        if counting.is_set():
            counts["statements"] += 1

    event.listen(Engine, "before_cursor_execute", _statement)
    sent = psycopg.Cursor.execute

    def _counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        if counting.is_set():
            counts["round_trips"] += 1
        return sent(self, *args, **kwargs)

    psycopg.Cursor.execute = _counted  # type: ignore[method-assign]
    if baseline:
        sftp_pool._pool, sftp_pool._pool_pid = sftp_pool.SftpPool(max_idle=0), os.getpid()

    with (
        temporary_postgres_database() as url,
        SftpServer() as sftp,
        tempfile.TemporaryDirectory(prefix="sb-approvals-bench-") as folder,
    ):
        partner = {
            "kind": "sftp",
            "host": sftp.host,
            "port": sftp.port,
            "username": sftp.username,
            "password_secret": "partner_sftp_password",
            "known_hosts": str(sftp.known_hosts_path),
        }
        settings = load_settings(
            database_url=url,
            var_dir=Path(folder),
            reference_date=REFERENCE_DATE.isoformat(),
            destinations={"partner_sftp": partner},
            secrets={"partner_sftp_password": sftp.password},
            executor_id="bench",
        )
        engine = make_engine(url)
        init_db(engine)
        load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
        with open_switchboard(settings, engine, backend=ScriptedBackend(), durable_as="console-0") as sb:
            if baseline:
                from dbos._dbos import _get_dbos_instance

                ping_when_idle(engine, idle_s=0.0)
                ping_when_idle(_get_dbos_instance()._sys_db.engine, idle_s=0.0)
            warm, serial, wide = 3, approvals, approvals
            ids = []
            for offset in range(warm + serial + wide):  # one file per day: each a delivery of its own
                day = (REFERENCE_DATE - timedelta(days=offset + 1)).isoformat()
                export = sb.runner.call(
                    "export_dataset",
                    {"dataset": "orders", "format": "csv", "period": f"{day}..{day}"},
                    actor="olive",
                )
                args = {"file": str(export.result.data["artifact_id"]), "destination": "partner_sftp"}
                request = sb.approvals.request(
                    tool="deliver_file",
                    args=args,
                    requester="olive",
                    reasons=["bench"],
                    thread_id=f"b{offset}",
                )
                ids.append(request.id)

            def approve(approval_id: str) -> None:
                outcome = sb.approvals.approve(approval_id, approver="ann", role="approver")
                if not outcome.executed:
                    raise RuntimeError(outcome.text)

            for approval_id in ids[:warm]:
                approve(approval_id)
            accepted = sftp.accepted
            counting.set()
            wall, cpu = time.perf_counter(), time.process_time()
            for approval_id in ids[warm : warm + serial]:
                approve(approval_id)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            counting.clear()
            connections = sftp.accepted - accepted

            queue = list(ids[warm + serial :])
            lock = threading.Lock()

            def worker() -> None:
                while True:
                    with lock:
                        if not queue:
                            return
                        approval_id = queue.pop()
                    approve(approval_id)

            started = time.perf_counter()
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            wide_s = time.perf_counter() - started
            landed = len(sftp.landed)
        engine.dispose()
    expected = warm + serial + wide
    return {
        "wall_ms": wall / serial * 1000,
        "cpu_ms": cpu / serial * 1000,
        "statements": counts["statements"] / serial,
        "round_trips": counts["round_trips"] / serial,
        "ssh_connections": connections / serial,
        "per_s_threads": wide / wide_s,
        "landed_ok": landed == expected and len(set(sftp.landed)) == expected,
    }


def _child(baseline: bool, approvals: int, threads: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.approvals", "--child", "--approvals", str(approvals)]
    command += ["--threads", str(threads)] + (["--baseline"] if baseline else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Alternate baseline and current series; print the medians as a table, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approvals", type=int, default=40, help="approvals per phase and series")
    parser.add_argument("--threads", type=int, default=4, help="approving threads in the concurrent phase")
    parser.add_argument("--rounds", type=int, default=2, help="series of each kind")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.stdout.write(
            json.dumps(_series(baseline=args.baseline, approvals=args.approvals, threads=args.threads))
        )
        sys.stdout.write("\n")
        return
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "current": []}
    for _ in range(args.rounds):
        runs["baseline"].append(_child(True, args.approvals, args.threads))
        runs["current"].append(_child(False, args.approvals, args.threads))
    rows = [
        ("wall per approval, serial (ms)", "wall_ms", 1),
        ("CPU per approval, serial (ms, incl. SFTP server)", "cpu_ms", 1),
        ("SQL statements per approval", "statements", 1),
        ("round trips per approval (psycopg)", "round_trips", 1),
        ("SSH connections per approval", "ssh_connections", 2),
        (f"approvals/s, {args.threads} threads, 1 process", "per_s_threads", 1),
    ]
    medians = {
        kind: {key: statistics.median(r[key] for r in results) for _, key, _ in rows}
        for kind, results in runs.items()
    }
    print(f"{'per approved SFTP delivery, PostgreSQL':52} {'baseline':>10} {'current':>10}")
    for label, key, digits in rows:
        print(f"{label:52} {medians['baseline'][key]:>10.{digits}f} {medians['current'][key]:>10.{digits}f}")
    every = all(r["landed_ok"] for results in runs.values() for r in results)
    print(f"{'every file landed once':52} {str(every):>21}")
    print(json.dumps({"medians": medians, "landed_ok": every, "runs": runs}))


if __name__ == "__main__":
    main()
