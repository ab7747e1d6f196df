"""``switchboard router train|check``: rebuild the router that ships with the package."""

from __future__ import annotations

import typer

from switchboard.app import console, err_console, handle_errors

app = typer.Typer(help="Train and check the embedded intent router.", no_args_is_help=True)


@app.command()
@handle_errors
def train() -> None:
    """Retrain from prompts/examples and write the shipped copy (commit it with the examples)."""
    from agent.backends.factory import SHIPPED_DIR, train_router

    _, count, seconds = train_router(SHIPPED_DIR)
    console.print(f"Trained on {count} examples in {seconds:.1f} s; wrote {SHIPPED_DIR}", highlight=False)


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
    from datetime import date

    from agent.backends.embedded.calibration import JointCalibration, fit_curve
    from agent.backends.factory import (
        CALIBRATION_FILE,
        build_embedded,
        examples_fingerprint,
        shipped_fingerprint,
    )
    from evals.dataset import load_examples, split_paths
    from evals.runner import evaluate
    from switchboard.settings import load_settings
    from tools.registry import build_registry

    if shipped_fingerprint() != examples_fingerprint():
        err_console.print("The shipped router is stale; run 'switchboard router train' first.")
        raise typer.Exit(code=1)
    registry = build_registry()
    settings = load_settings()
    examples = load_examples(split_paths("dev"))
    backend = build_embedded(settings, registry=registry, calibrated=False)
    result = evaluate(
        examples, backend=backend, registry=registry, settings=settings, today=date(2026, 11, 22)
    )
    tool = [(o.confidence, o.correct) for o in result.outcomes if o.predicted_tool is not None]
    none = [(o.confidence, o.correct) for o in result.outcomes if o.predicted_tool is None]
    calibration = JointCalibration(
        fingerprint=examples_fingerprint(),
        n=len(result.outcomes),
        tool=fit_curve([c for c, _ in tool], [k for _, k in tool]),
        none=fit_curve([c for c, _ in none], [k for _, k in none]),
    )
    calibration.save(CALIBRATION_FILE)
    console.print(
        f"Fitted on {len(result.outcomes)} dev examples ({len(tool)} tool, {len(none)} no-tool); "
        f"raw dev ECE was {result.summary.ece:.3f}. Wrote {CALIBRATION_FILE}",
        highlight=False,
    )
