"""``switchboard audit verify|checkpoint|export|verify-bundle|keygen|public-key|tail``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from core.audit_keys import (
    checkpoint_path,
    load_signer,
    publish,
    read_public_key,
    trusted_keys,
    write_new_key,
)
from core.audit_verify import keyring, public_pem, verify_bundle
from core.errors import AuditTampered, BadInput
from core.store.audit import AuditLog
from core.store.checkpoints import Checkpointer, read_checkpoints, verify_log, write_bundle
from switchboard.app import App, console, err_console, handle_errors
from switchboard.render import plain, print_json, render_table
from tools.base import Table

app = typer.Typer(help="Verify, checkpoint and export the hash-chained audit log.", no_args_is_help=True)
PUBLIC_KEYS = typer.Option(
    None, "--public-key", help="A trusted public key (PEM); repeat it for the keys of earlier rotations."
)


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


def _checkpoints(count: int) -> str:
    return "1 checkpoint" if count == 1 else f"{count} checkpoints"


def _fail(message: str) -> None:
    err_console.print(plain(message), soft_wrap=True)
    raise typer.Exit(code=1)


@app.command()
@handle_errors
def verify(
    ctx: typer.Context,
    checkpoints: Path | None = typer.Option(
        None,
        "--checkpoints",
        help="Checkpoint file to hold the log against (default: the configured one, when it exists).",
    ),
    public_key: list[Path] | None = PUBLIC_KEYS,
) -> None:
    """Recompute the whole chain and prove every signed checkpoint is a prefix of it; exit 1 naming what broke."""
    state: App = ctx.obj
    path = checkpoints
    if path is None and checkpoint_path(state.settings).is_file():
        path = checkpoint_path(state.settings)
    if path is None:
        result = AuditLog(state.engine).verify()
        if not result.ok:
            _fail(f"BROKEN at record {result.first_bad}: {result.reason} ({result.records} records read)")
        console.print(plain(f"OK: {result.records} records, chain head {result.head}"), soft_wrap=True)
        return
    found = read_checkpoints(path)
    keys = trusted_keys(state.settings, public_key)
    outcome = verify_log(state.engine, checkpoints=found, keys=keys)
    chain, verdict = outcome.chain, outcome.checkpoints
    if verdict is not None and verdict.kind in ("forged", "untrusted"):
        _fail(f"{verdict.message} ({path})")
    if not chain.ok:
        _fail(f"BROKEN at record {chain.first_bad}: {chain.reason} ({chain.records} records read)")
    if verdict is not None and not verdict.ok:
        _fail(f"{verdict.message} ({path})")
    summary = verdict.message if verdict is not None else ""
    console.print(
        plain(f"OK: {chain.records} records, chain head {chain.head}; {summary} ({path})"), soft_wrap=True
    )


@app.command()
@handle_errors
def checkpoint(ctx: typer.Context) -> None:
    """Sign a checkpoint of the current chain head now (serving processes also do it every N records or M minutes)."""
    state: App = ctx.obj
    checkpointer = Checkpointer(engine=state.engine, settings=state.settings)
    try:
        written = checkpointer.run(force=True)
    except AuditTampered as exc:
        _fail(f"REFUSED: {exc.message}")
        return
    where = checkpointer.file.path
    if written is None:
        last = checkpointer.file.last()
        if last is None:
            console.print(plain("Nothing to sign: the audit log is empty"), soft_wrap=True)
        else:
            said = f"the checkpoint of record {last.seq} (signed {last.time}) is current ({where})"
            console.print(plain(f"Nothing new to sign: {said}"), soft_wrap=True)
        return
    console.print(
        plain(
            f"Signed a checkpoint of record {written.seq} ({written.head}) with key {written.key_id} into {where}"
        ),
        soft_wrap=True,
    )


@app.command("export")
@handle_errors
def export(
    ctx: typer.Context,
    since: str | None = typer.Option(None, help="Only records from this date or time (ISO, UTC)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write; standard output when omitted."),
    sign: bool = typer.Option(
        True,
        "--sign/--no-sign",
        help="Sign a checkpoint of the current head first, so it covers every record.",
    ),
) -> None:
    """Write an auditor's bundle: public keys, signed checkpoints, records and the chain head, as JSON lines."""
    state: App = ctx.obj
    checkpointer = Checkpointer(engine=state.engine, settings=state.settings)
    if sign:
        try:
            checkpointer.run(force=True)
        except AuditTampered as exc:  # the bundle is still written: its verification will name the damage
            err_console.print(plain(f"Warning: {exc.message}"), soft_wrap=True)
    path = checkpointer.file.path
    found = list(checkpointer.file.read()) if path.is_file() else []
    keys = trusted_keys(state.settings)
    if out is None:
        write_bundle(state.engine, sys.stdout, checkpoints=found, keys=keys, since=parse_since(since))
        return
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        count = write_bundle(state.engine, handle, checkpoints=found, keys=keys, since=parse_since(since))
    tmp.replace(out)
    console.print(
        plain(f"Wrote {count} records, {_checkpoints(len(found))} and the chain head to {out}"),
        soft_wrap=True,
    )


@app.command("verify-bundle")
@handle_errors
def verify_bundle_cmd(
    bundle: Path = typer.Argument(..., help="The file 'audit export' wrote."),
    public_key: list[Path] = typer.Option(
        ..., "--public-key", help="A trusted public key (PEM); repeat it for the keys of earlier rotations."
    ),
) -> None:
    """Check a bundle offline with trusted public keys alone (the keys inside the bundle are not trusted)."""
    keys = keyring(read_public_key(path) for path in public_key)
    try:
        handle = bundle.open(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {bundle}: {exc.strerror}", file=str(bundle)) from None
    with handle:
        verdict, count = verify_bundle(handle, keys)
    if not verdict.ok:
        _fail(verdict.message)
    console.print(plain(f"OK: {count} records; {verdict.message}"), soft_wrap=True)


@app.command()
@handle_errors
def keygen(
    ctx: typer.Context,
    out: Path = typer.Option(
        ..., "--out", "-o", help="New private key file (PEM, mode 600); never overwritten."
    ),
) -> None:
    """Make a new signing key and add its public key to the keyring (the first step of a key rotation)."""
    state: App = ctx.obj
    signer = write_new_key(out)
    published = publish(state.settings, signer.public_key)
    console.print(
        plain(f"Wrote key {signer.key_id} to {out} (mode 600); its public key is {published}"), soft_wrap=True
    )
    console.print(plain(f"Sign with it: SWITCHBOARD_AUDIT_SIGNING_KEY_FILE={out}"), soft_wrap=True)


@app.command("public-key")
@handle_errors
def public_key_cmd(ctx: typer.Context) -> None:
    """Print the signing key's public key (PEM), to give to auditors; makes the demo key if there is none."""
    state: App = ctx.obj
    signer = load_signer(state.settings)
    publish(state.settings, signer.public_key)
    sys.stdout.write(public_pem(signer.public_key))
    err_console.print(plain(f"key id {signer.key_id}"), soft_wrap=True)


@app.command()
@handle_errors
def tail(
    ctx: typer.Context,
    limit: int = typer.Option(20, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """Show the most recent records."""
    state: App = ctx.obj
    log = AuditLog(state.engine)
    records = list(log.iter_records(after=max(0, log.head().seq - limit)))[-limit:]
    if as_json:
        print_json(
            [
                {
                    "seq": r.seq,
                    "ts": r.ts,
                    "actor": r.actor,
                    "event": r.event,
                    "subject": r.subject,
                    "data": json.loads(r.data),
                    "hash": r.hash,
                }
                for r in records
            ]
        )
        return
    rows = [[r.seq, r.ts[:19], r.actor, r.event, r.subject, r.data[:120]] for r in records]
    render_table(
        Table(title="Audit", columns=["seq", "ts", "actor", "event", "subject", "data"], rows=rows),
        max_rows=limit,
        empty="The audit log is empty.",
    )
