"""``switchboard rollups check|rebuild``: the sums reports read, held to the order lines and rebuilt from them."""

from __future__ import annotations

import time

import typer

from core.store import rollups
from core.store.audit import AuditEvent, append_in
from core.store.db import read_session, write_session
from switchboard.app import App, console, err_console, handle_errors
from switchboard.render import plain

_SHOWN = 10  # mismatches printed

_SHOWN = 10  # mismatches printed

app = typer.Typer(
    help="Check the report rollups against the orders, or rebuild them from the orders.", no_args_is_help=True
)


@app.command()
@handle_errors
def check(ctx: typer.Context) -> None:
    """Compare every rollup bucket with the sums of its order lines; exit 1 naming the first that differ."""
    state: App = ctx.obj
    started = time.perf_counter()
    with read_session(state.engine) as session:
        compared, mismatches = rollups.check(session.connection())
    took = time.perf_counter() - started
    if mismatches:
        for mismatch in mismatches[:_SHOWN]:
            err_console.print(plain(str(mismatch)), soft_wrap=True)
        shown = f", the first {_SHOWN} above" if len(mismatches) > _SHOWN else ""
        summary = (
            f"DIFFERENT: {len(mismatches):,} of {compared:,} buckets{shown}; run: switchboard rollups rebuild"
        )
        err_console.print(plain(summary), soft_wrap=True)
        raise typer.Exit(code=1)
    console.print(plain(f"OK: {compared:,} buckets match the order lines ({took:.1f} s)"), soft_wrap=True)


@app.command()
@handle_errors
def rebuild(ctx: typer.Context) -> None:
    """Recompute every rollup from the order lines in one transaction (reports wait for it), and audit it."""
    state: App = ctx.obj
    started = time.perf_counter()
    with write_session(state.engine) as session:
        written = rollups.rebuild(session.connection())
        took = round(time.perf_counter() - started, 3)
        event = AuditEvent("rollups.rebuilt", "cli", "rollups", {"buckets": written, "seconds": took})
        append_in(session, [event])
    console.print(plain(f"Rebuilt: {written:,} buckets from the order lines ({took:.1f} s)"), soft_wrap=True)
