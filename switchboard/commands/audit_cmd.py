"""``switchboard audit verify|export|tail``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from core.errors import BadInput
from core.store.audit import AuditLog
from switchboard.app import App, console, err_console, handle_errors
from switchboard.render import render_table
from tools.base import Table

app = typer.Typer(help="Verify and export the hash-chained audit log.", no_args_is_help=True)


def parse_since(value: str | None) -> datetime | None:
    """Parse an ISO date or datetime (UTC when no zone is given)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(
            f"--since {value!r} is not an ISO date such as 2026-11-01 or 2026-11-01T08:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
@handle_errors
def verify(ctx: typer.Context) -> None:
    """Recompute the whole chain; exit 1 and name the first broken record if it was altered."""
    state: App = ctx.obj
    result = AuditLog(state.engine).verify()
    if result.ok:
        console.print(f"OK: {result.records} records, chain head {result.head}", highlight=False)
        return
    err_console.print(f"BROKEN at record {result.first_bad}: {result.reason} ({result.records} records read)")
    raise typer.Exit(code=1)


@app.command("export")
@handle_errors
def export(
    ctx: typer.Context,
    since: str | None = typer.Option(None, help="Only records from this date or time (ISO, UTC)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write; standard output when omitted."),
) -> None:
    """Write records as JSONL, ending with the chain head line to keep outside the database."""
    state: App = ctx.obj
    log = AuditLog(state.engine)
    if out is None:
        log.export(sys.stdout, since=parse_since(since))
        return
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        count = log.export(handle, since=parse_since(since))
    tmp.replace(out)
    console.print(f"Wrote {count} records and the chain head to {out}", highlight=False)


@app.command()
@handle_errors
def tail(ctx: typer.Context, limit: int = typer.Option(20, min=1, max=1000)) -> None:
    """Show the most recent records."""
    state: App = ctx.obj
    records = list(AuditLog(state.engine).iter_records())[-limit:]
    rows = [[r.seq, r.ts[:19], r.actor, r.event, r.subject, r.data[:120]] for r in records]
    render_table(
        Table(title="Audit", columns=["seq", "ts", "actor", "event", "subject", "data"], rows=rows),
        max_rows=limit,
    )
