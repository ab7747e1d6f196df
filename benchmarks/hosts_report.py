"""The hosts simulation's outcome: when the approved requests have run, and the table it prints."""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any


def settle(
    database_url: str, approved: dict[str, float], timeout_s: float, *, partial: bool = False
) -> dict[str, float]:
    """Wait until every approved request has an outcome; the seconds from approve to its run's end, per request.

    At the timeout: nothing, or with ``partial`` those that have an outcome.
    """
    from sqlalchemy import select
    from sqlmodel import Session, col

    from core.store.approvals import ApprovalRequest, ApprovalStatus
    from core.store.db import make_engine
    from core.store.runs import Run

    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout_s
    latencies: dict[str, float] = {}
    try:
        while True:
            with Session(engine) as session:
                rows = list(
                    session.execute(
                        select(ApprovalRequest, Run).join(
                            Run, col(Run.id) == col(ApprovalRequest.run_id), isouter=True
                        )
                    )
                )
            done = {
                request.id: run
                for request, run in rows
                if request.id in approved
                and request.status in (ApprovalStatus.EXECUTED, ApprovalStatus.FAILED)
            }
            finished = len(done) == len(approved)
            if finished or time.monotonic() >= deadline:
                break
            time.sleep(1.0)
    finally:
        engine.dispose()
    if not finished and not partial:
        return latencies
    for approval_id, run in done.items():
        if run is not None and run.finished_at is not None:
            end = run.finished_at if run.finished_at.tzinfo else run.finished_at.replace(tzinfo=UTC)
            latencies[approval_id] = end.timestamp() - approved[approval_id]
    return latencies


def p95_ms(seconds: list[float]) -> float | None:
    """The 95th percentile of ``seconds``, in milliseconds."""
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1) if ordered else None


def table(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's rows: name, value."""
    via = report["via"]
    rows = [
        ("chat turns sent (errors)", f"{report['turns']} ({report['turn_errors']})"),
        ("delivery requests created", str(report["requested"])),
        ("executions expected (approved)", str(report["expected"])),
        ("executions seen at the SFTP server", str(report["executed"])),
        ("duplicates", str(report["duplicates"])),
        ("lost", str(report["lost"])),
        ("kills (SIGKILL + restart)", str(report["kills"])),
        ("approve → executed p95", f"{report['approve_to_executed_p95_ms']} ms"),
    ]
    for kind, label in (("serve", f"{report['hosts']} consoles"), ("bot", f"{report['bots']} bots")):
        rows.append(
            (
                f"  via {label}: turns / approvals / kills",
                f"{via[kind]['turns']} / {via[kind]['approvals']} / {via[kind]['kills']}; "
                f"approve → executed p95 {via[kind]['p95_ms']} ms",
            )
        )
    if report["bots"]:
        rows += [
            ("  bots: updates re-posted to the other bot", str(report["bot_redeliveries"])),
            ("  bots: turns never answered", str(report["bot_replies_missing"])),
            ("  bots: Approve buttons never sent (console)", str(report["bot_buttons_missing"])),
            ("  bots: queued updates by outcome", json.dumps(report["telegram_updates"].get("outcomes"))),
            (
                "  bots: update queue wait / run p50, p95 (s)",
                " · ".join(
                    f"{label} {t['wait_s']} / {t['run_s']}"
                    for who, label in (("approver", "approver's chat"), ("operators", "operators' chats"))
                    if (t := report["telegram_updates"].get(who))
                ),
            ),
            ("  bots: answers to the Approve taps", json.dumps(report["tap_answers"], ensure_ascii=False)),
        ]
    rows += [
        (
            "then, no kills: approved executions/s",
            f"{report['approved_executions_per_s']}/s ({report['rate_executed']} of {report['rate_approved']} "
            f"landed, {report['rate_duplicates']} duplicates)",
        ),
        ("wall time", f"{report['seconds']} s"),
    ]
    if report["folder"]:
        rows.append(("folders and logs", str(report["folder"])))
    return rows
