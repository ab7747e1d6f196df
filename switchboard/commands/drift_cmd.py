"""``switchboard drift``: the router's drift report from the audit log, per window and tool, and its alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from agent.modelops.drift_alerts import DriftAlert, raise_drift_alerts
from agent.modelops.drift_baseline import Baseline, compute_baseline, ensure_baseline
from agent.modelops.drift_models import DriftReport, ScopeStats
from agent.modelops.drift_service import drift_report, live_fingerprint, report_range
from switchboard.app import App, console, err_console, handle_errors
from switchboard.commands import panels
from switchboard.commands.audit_cmd import parse_since
from switchboard.feedback import working
from switchboard.render import plain, print_json, render_table
from tools.base import Table

COLUMNS = [
    "Window",
    "Tool",
    "Decisions",
    "Confidence",
    "vs baseline",
    "PSI",
    "Corrected",
    "Asked back",
    "Refused",
    "Escalated",
    "Flagged",
]
BASELINE_DAY = date(2026, 11, 22)  # the dev split's reference date (evals.dataset.REFERENCE_DATE)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{0.0 - value:+.2f}" if signed else f"{value:.2f}"


def _row(window: str, stats: ScopeStats, measures: dict[tuple[str, str], str]) -> list[object]:
    corrected = (
        f"{stats.corrections.total} ({_pct(stats.correction_rate)})"
        if stats.decisions
        else str(stats.corrections.total)
    )
    return [
        window,
        stats.scope,
        stats.decisions,
        _num(stats.confidence_mean),
        _num(stats.confidence_drop, signed=True),
        _num(stats.psi.value if stats.psi else None),
        corrected,
        _pct(stats.actions.clarify if stats.decisions else None),
        _pct(stats.actions.refuse if stats.decisions else None),
        _pct(stats.actions.approve if stats.decisions else None),
        measures.get((window, stats.scope), ""),
    ]


def _table(report: DriftReport) -> Table:
    measures: dict[tuple[str, str], str] = {}
    for flag in report.flags:
        key = (flag.window, flag.scope)
        measures[key] = ", ".join(filter(None, [measures.get(key), flag.measure]))
    rows = [
        _row(window.label, stats, measures)
        for window in report.windows
        for stats in [window.overall, *window.tools]
    ]
    return Table(columns=COLUMNS, rows=rows)


def _baseline(state: App, say: Callable[[str], None]) -> Baseline:
    """The live router's baseline, computed on the dev split the first time (a minute at most, then cached)."""
    from agent.backends.factory import build_embedded
    from evals.dataset import load_examples, split_paths
    from tools.registry import build_registry

    def compute() -> Baseline:
        examples = load_examples(split_paths("dev"))
        backend = build_embedded(state.settings, registry=build_registry())
        return compute_baseline(
            backend=backend,
            texts=[example.text for example in examples],
            fingerprint=live_fingerprint(Path(state.settings.var_dir)),
            today=BASELINE_DAY,
            source=f"dev split, {len(examples)} messages",
            progress=lambda done, total: say(f"Computing the drift baseline: {done}/{total} dev messages"),
        )

    return ensure_baseline(
        var_dir=Path(state.settings.var_dir),
        fingerprint=live_fingerprint(Path(state.settings.var_dir)),
        compute=compute,
    )


def _say_alerts(alerts: list[DriftAlert]) -> None:
    for alert in alerts:
        if alert.already:
            said = f"Already alerted: {alert.scope} in {alert.window}"
        elif alert.notified:
            said = f"Alerted {', '.join(alert.notified)}: {alert.scope} in {alert.window}"
        else:
            said = f"No alert rule for model_drift: {alert.scope} in {alert.window} not sent"
        err_console.print(plain(said), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``drift`` to the root app."""

    @app.command("drift", rich_help_panel=panels.DEVELOP)
    @handle_errors
    def drift(
        ctx: typer.Context,
        window: Annotated[
            Literal["day", "week"], typer.Option(help="Day windows or ISO weeks (UTC).")
        ] = "day",
        days: Annotated[
            int | None,
            typer.Option(min=1, max=366, help="The last N days (default: 7 for days, 28 for weeks)."),
        ] = None,
        since: Annotated[str | None, typer.Option(help="From this date or time (ISO, UTC) instead.")] = None,
        until: Annotated[
            str | None, typer.Option(help="Up to this date or time (ISO, UTC); default: now.")
        ] = None,
        tool: Annotated[
            str | None, typer.Option(help="Only this tool (overall still counts every decision).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print one JSON document instead of a table.")
        ] = False,
        alert: Annotated[
            bool,
            typer.Option(
                "--alert", help="Raise a model_drift alert per flagged window and tool (once each)."
            ),
        ] = False,
    ) -> None:
        """Confidence, corrections, out-of-scope share and new words per window and tool; flag what drifted."""
        state: App = ctx.obj
        end = parse_since(until) or datetime.now(UTC)
        start, end = report_range(kind=window, now=end, days=days, since=parse_since(since))
        with working(state, "Reading the audit log") as update:
            baseline = _baseline(state, update)
            report = drift_report(
                settings=state.settings,
                engine=state.engine,
                kind=window,
                start=start,
                end=end,
                tool=tool,
                baseline=baseline,
            )
        raised: list[DriftAlert] = []
        if alert:
            from flows.operations.alerts import AlertManager

            raised = raise_drift_alerts(
                report=report, alerts=AlertManager(settings=state.settings, engine=state.engine)
            )
        if as_json:
            print_json(
                {
                    **report.model_dump(mode="json"),
                    "flagged": report.flagged,
                    "alerts": [
                        {"subject": a.subject, "notified": list(a.notified), "already": a.already}
                        for a in raised
                    ],
                }
            )
            return
        render_table(_table(report))
        if report.baseline is not None:
            b = report.baseline
            console.print(
                plain(f"Baseline: router {b.fingerprint}, {b.source}, mean confidence {b.mean:.2f}")
            )
        latest = report.latest
        if latest is not None and latest.vocabulary is not None and latest.vocabulary.tokens:
            v = latest.vocabulary
            top = ", ".join(f"{t.token} ({t.count})" for t in v.top[:5]) or "none"
            console.print(
                plain(f"New words in {latest.label}: {v.share:.0%} of {v.tokens}; most used: {top}")
            )
        if not report.flags:
            console.print(plain("Nothing drifted past its threshold."))
        for flag in report.flags:
            console.print(plain(f"FLAGGED {flag.message}"), soft_wrap=True)
        _say_alerts(raised)
