"""``switchboard router``: rebuild the shipped router; train, gate, shadow, promote and roll back candidates."""

from __future__ import annotations

from datetime import date

import typer

from switchboard.app import App, console, err_console, handle_errors
from switchboard.render import plain, print_json, render_table
from tools.base import Table

app = typer.Typer(help="Train and check the embedded intent router.", no_args_is_help=True)
ACTOR = typer.Option("cli", "--as", help="Name recorded in the audit log.")


@app.command()
@handle_errors
def train(
    ctx: typer.Context,
    candidate: bool = typer.Option(
        False,
        "--candidate",
        help="Train a candidate on the examples plus the latest reviewed set under var/, and gate it against the "
        "live router (exit 1 when refused) instead of rebuilding the shipped copy.",
    ),
) -> None:
    """Retrain from prompts/examples and write the shipped copy (commit it with the examples)."""
    if candidate:
        _train_candidate(ctx.obj)
        return
    from agent.backends.factory import SHIPPED_DIR, train_router

    _, count, seconds = train_router(SHIPPED_DIR)
    console.print(f"Trained on {count} examples in {seconds:.1f} s; wrote {SHIPPED_DIR}", highlight=False)


def _train_candidate(state: App) -> None:
    from switchboard.commands.router_gate import train_and_gate
    from tools.registry import build_registry

    report = train_and_gate(settings=state.settings, registry=build_registry())
    manifest, counts = report.trained.manifest, report.trained.manifest.counts
    how = (
        "already trained, gated again"
        if report.trained.reused
        else f"trained in {report.trained.seconds:.1f} s"
    )
    console.print(
        plain(
            f"Candidate {manifest.fingerprint} ({how}): {counts.base} base examples + {counts.reviewed_train} "
            f"reviewed (reviewed set v{manifest.reviewed_version}, {counts.reviewed} examples); "
            f"{counts.held_out} held out to test on; {counts.dropped_locked} dropped as lines of the locked dev "
            f"split; {counts.dropped_unknown_tool} dropped for an unknown tool; {counts.relabelled} base "
            "examples relabelled."
        ),
        soft_wrap=True,
    )
    gate = report.gate
    rows = [
        [
            check.split,
            check.metric,
            _number(check.live),
            _number(check.candidate),
            _number(check.delta, signed=True),
            f"{check.tolerance:.3f}",
            check.support,
            ("pass" if check.passed else "FAIL") if check.gated else "not gated",
        ]
        for check in gate.checks
    ]
    columns = ["Split", "Metric", "Live", "Candidate", "Delta", "Tolerance", "Examples", "Result"]
    render_table(Table(title=f"Gate against live router {gate.live_fingerprint}", columns=columns, rows=rows))
    if not gate.passed:
        err_console.print(
            plain(f"Refused: the candidate is worse than the live router on {', '.join(gate.refused_by)}."),
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    console.print(
        plain(f"Passed: promote it with 'switchboard router promote {manifest.fingerprint}'."), soft_wrap=True
    )


def _number(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


@app.command()
@handle_errors
def candidates(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the candidate routers kept under var/routers, with their gate result and role."""
    from agent.backends.factory import live_router
    from agent.modelops.candidate_store import list_manifests, read_pointer

    state: App = ctx.obj
    manifests = list_manifests(state.settings.var_dir)
    pointer = read_pointer(state.settings.var_dir)
    live = live_router(state.settings).fingerprint

    def role(fingerprint: str) -> str:
        if fingerprint == live:
            return "live"
        if pointer is not None and fingerprint == pointer.shadow:
            return "shadow"
        if pointer is not None and fingerprint in pointer.history:
            return "previous"
        return ""

    if as_json:
        print_json([{**m.model_dump(mode="json"), "role": role(m.fingerprint)} for m in manifests])
        return
    rows = [
        [
            m.fingerprint,
            m.created_at.strftime("%Y-%m-%d %H:%M"),
            f"v{m.reviewed_version}",
            m.counts.reviewed_train,
            m.counts.held_out,
            "—"
            if m.gate is None
            else ("passed" if m.gate.passed else "refused: " + ", ".join(m.gate.refused_by)),
            role(m.fingerprint),
        ]
        for m in manifests
    ]
    columns = ["Fingerprint", "Created", "Reviewed", "Trained on", "Held out", "Gate", "Role"]
    render_table(Table(columns=columns, rows=rows), empty="No candidate routers.")


@app.command()
@handle_errors
def promote(ctx: typer.Context, fingerprint: str, actor: str = ACTOR) -> None:
    """Make a candidate that passed the gate the live router (audited; the one it replaces is kept)."""
    from agent.modelops.candidate_ops import promote as promote_candidate

    state: App = ctx.obj
    pointer = promote_candidate(
        settings=state.settings, engine=state.engine, fingerprint=fingerprint, actor=actor
    )
    console.print(
        plain(f"Live router is now {pointer.live} (was {pointer.previous}); new messages use it."),
        soft_wrap=True,
    )


@app.command()
@handle_errors
def rollback(ctx: typer.Context, actor: str = ACTOR) -> None:
    """Go back to the router that was live before the last promotion (audited)."""
    from agent.modelops.candidate_ops import rollback as roll_back

    state: App = ctx.obj
    pointer = roll_back(settings=state.settings, engine=state.engine, actor=actor)
    console.print(plain(f"Live router is now {pointer.live} again; new messages use it."), soft_wrap=True)


@app.command()
@handle_errors
def shadow(
    ctx: typer.Context,
    fingerprint: str | None = typer.Argument(None, help="The candidate to shadow."),
    off: bool = typer.Option(False, "--off", help="Stop shadowing."),
    actor: str = ACTOR,
) -> None:
    """Let a candidate decide on live messages beside the live router, without acting (audited as router.shadow)."""
    from agent.modelops.candidate_ops import set_shadow
    from core.errors import BadInput

    if off == (fingerprint is not None):
        raise BadInput("give a candidate's fingerprint to shadow, or --off to stop shadowing")
    state: App = ctx.obj
    set_shadow(settings=state.settings, engine=state.engine, fingerprint=fingerprint, actor=actor)
    message = (
        "Shadowing stopped." if off else f"Shadowing {fingerprint}: its choices are audited as router.shadow."
    )
    console.print(plain(message), soft_wrap=True)


@app.command()
@handle_errors
def replay(
    ctx: typer.Context,
    day: str = typer.Option(..., "--day", help="The UTC day to replay, YYYY-MM-DD."),
    candidate: str | None = typer.Option(
        None, "--candidate", help="The candidate (default: the shadow one)."
    ),
    record: bool = typer.Option(False, "--record", help="Also audit each comparison as router.shadow."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Replay a day's decisions through the live router and a candidate; write and show where they disagree."""
    from agent.backends.factory import live_router, load_kept_router, load_router
    from agent.modelops.candidate_store import read_manifest, read_pointer, router_folder
    from agent.modelops.replay import replay as run_replay
    from core.errors import BadInput

    state: App = ctx.obj
    settings = state.settings
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise BadInput(f"--day {day!r} is not a date such as 2026-11-21") from None
    pointer = read_pointer(settings.var_dir)
    fingerprint = candidate or (pointer.shadow if pointer else None)
    if fingerprint is None:
        raise BadInput("no shadow candidate is set; name one with --candidate")
    read_manifest(settings.var_dir, fingerprint)
    folder = router_folder(settings.var_dir, fingerprint)
    result = run_replay(
        engine=state.engine,
        day=when,
        live=load_router(settings),
        candidate=load_kept_router(folder, threads=settings.agent.encoder_threads),
        live_fingerprint=live_router(settings).fingerprint,
        candidate_fingerprint=fingerprint,
        out_dir=folder,
        record=record,
    )
    if as_json:
        print_json([item.model_dump(mode="json") for item in result.disagreements])
        return
    rows = [
        [
            item.text,
            item.live.tool or "none",
            f"{item.live.confidence:.2f}",
            item.candidate.tool or "none",
            f"{item.candidate.confidence:.2f}",
        ]
        for item in result.disagreements
    ]
    render_table(Table(columns=["Message", "Live", "Conf.", "Candidate", "Conf."], rows=rows))
    console.print(
        plain(
            f"{len(result.disagreements)} of {len(result.comparisons)} messages on {when.isoformat()} decided "
            f"differently; written to {result.written}."
        ),
        soft_wrap=True,
    )


@app.command()
@handle_errors
def check() -> None:
    """Exit 1 when the shipped router is older than the examples."""
    from agent.backends.factory import examples_fingerprint, shipped_fingerprint

    current, shipped = examples_fingerprint(), shipped_fingerprint()
    if current == shipped:
        console.print(f"OK: the shipped router matches the examples ({current}).")
        return
    err_console.print(
        f"Stale: examples are {current}, shipped router is {shipped}; run 'switchboard router train'."
    )
    raise typer.Exit(code=1)


@app.command()
@handle_errors
def calibrate() -> None:
    """Fit the joint confidence calibration on the project DEV split (never test) and ship it with the router."""
    from agent.backends.embedded.router import IntentRouter
    from agent.backends.factory import (
        CALIBRATION_FILE,
        SHIPPED_DIR,
        examples_fingerprint,
        load_encoder,
        shipped_fingerprint,
    )
    from switchboard.commands.router_gate import fit_calibration, locked_split
    from switchboard.settings import load_settings
    from tools.registry import build_registry

    if shipped_fingerprint() != examples_fingerprint():
        err_console.print("The shipped router is stale; run 'switchboard router train' first.")
        raise typer.Exit(code=1)
    settings = load_settings()
    # The shipped copy itself, not the live router: a promoted candidate has a calibration of its own.
    router = IntentRouter.load(SHIPPED_DIR, encoder=load_encoder(settings.agent.encoder_threads))
    calibration, result = fit_calibration(
        router, examples_fingerprint(), dev=locked_split(), registry=build_registry(), settings=settings
    )
    calibration.save(CALIBRATION_FILE)
    tool = sum(1 for o in result.outcomes if o.predicted_tool is not None)
    console.print(
        f"Fitted on {len(result.outcomes)} dev examples ({tool} tool, {len(result.outcomes) - tool} no-tool); "
        f"raw dev ECE was {result.summary.ece:.3f}. Wrote {CALIBRATION_FILE}",
        highlight=False,
    )
