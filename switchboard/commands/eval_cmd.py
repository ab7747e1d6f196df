"""``switchboard eval``: the offline eval suite, threshold tuning, the CI gate and the public benchmarks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from switchboard.app import App, console, err_console, handle_errors
from switchboard.commands import panels
from switchboard.render import plain, safe

DATASETS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def progress_bar(*, enabled: bool) -> Progress:
    """A progress bar on stderr (transient; off for --json)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not enabled,
    )


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def _today(value: str | None) -> date:
    from core.errors import BadInput
    from evals.dataset import REFERENCE_DATE

    if value is None:
        return REFERENCE_DATE
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--today {value!r} is not a date (YYYY-MM-DD)") from None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def register(app: typer.Typer) -> None:
    """Add ``eval`` to the root app."""

    @app.command("eval", rich_help_panel=panels.DEVELOP)
    @handle_errors
    def eval_command(
        ctx: typer.Context,
        backend: Annotated[str | None, typer.Option(help="embedded or ollama (default: configured).")] = None,
        ollama_mode: Annotated[
            str | None,
            typer.Option(
                help="Ollama: tools (native calls) or structured (logprob confidence); default: configured."
            ),
        ] = None,
        dataset: Annotated[list[Path] | None, typer.Option(help="JSONL dataset file (repeatable).")] = None,
        split: Annotated[
            str | None,
            typer.Option(help="Project split: dev (default), test (sealed: see evals/README.md) or all."),
        ] = None,
        with_db: Annotated[
            bool,
            typer.Option("--with-db", help="Resolve customer and product names against the demo database."),
        ] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
        report: Annotated[Path | None, typer.Option(help="Write the report files into this folder.")] = None,
        today: Annotated[str | None, typer.Option(help="Reference date (default 2026-11-22).")] = None,
        role: Annotated[str, typer.Option(help="Role the messages are planned for.")] = "operator",
        tune: Annotated[bool, typer.Option("--tune", help="Propose per-risk thresholds on dev.")] = False,
        target_precision: Annotated[float, typer.Option(min=0.0, max=1.0, help="Precision to reach.")] = 0.99,
        write: Annotated[bool, typer.Option("--write", help="With --tune: update the config file.")] = False,
        check_baseline: Annotated[
            bool, typer.Option("--check-baseline", help="Exit 1 on a regression.")
        ] = False,
        write_baseline: Annotated[
            bool, typer.Option("--write-baseline", help="Rewrite the baseline.")
        ] = False,
        baseline: Annotated[Path | None, typer.Option(help="Baseline file (evals/baseline.json).")] = None,
        benchmark: Annotated[str | None, typer.Option(help="clinc150, snips or bfcl.")] = None,
        intent_benchmark: Annotated[Path | None, typer.Option(help="Intent set folder.")] = None,
        datasets_dir: Annotated[Path | None, typer.Option(help="Public benchmark data folder.")] = None,
        limit: Annotated[int | None, typer.Option(min=1, help="BFCL: items per category.")] = None,
        bfcl_category: Annotated[
            list[str] | None,
            typer.Option(
                "--bfcl-category",
                help="BFCL categories (repeatable): simple, multiple, irrelevance, live_simple, live_irrelevance. "
                "Default: simple, multiple, irrelevance.",
            ),
        ] = None,
    ) -> None:
        """Measure the router on a labelled dataset at the runtime thresholds (see evals/README.md)."""
        from core.errors import BadInput
        from evals import commands
        from evals.gate import BASELINE_SPLIT

        state: App = ctx.obj
        if backend not in (None, "embedded", "ollama"):
            raise BadInput(f"--backend {backend!r}: use embedded or ollama")
        if ollama_mode not in (None, "tools", "structured"):
            raise BadInput(f"--ollama-mode {ollama_mode!r}: use tools or structured")
        if role not in ("operator", "approver", "admin"):
            raise BadInput(f"--role {role!r}: use operator, approver or admin")
        modes = [tune, check_baseline or write_baseline, benchmark is not None, intent_benchmark is not None]
        if sum(modes) > 1:
            raise BadInput(
                "use one of --tune, --check-baseline/--write-baseline, --benchmark, --intent-benchmark"
            )
        if benchmark is not None or intent_benchmark is not None:
            _benchmarks(
                state,
                benchmark,
                intent_benchmark,
                datasets_dir or DATASETS_DIR,
                json_out=json_out,
                limit=limit,
                categories=tuple(bfcl_category or ()),
            )
            return
        if (check_baseline or write_baseline) and (dataset or split not in (None, BASELINE_SPLIT)):
            raise BadInput(
                f"the baseline is measured on the project {BASELINE_SPLIT} split: drop --dataset/--split"
            )
        if tune and (dataset or split not in (None, "dev")):
            raise BadInput(
                "--tune always uses the project dev split (tuning on test is not allowed): "
                "drop --dataset/--split"
            )
        if write and not tune:
            raise BadInput("--write only goes with --tune")
        settings = commands.with_backend(state.settings, backend, ollama_mode=ollama_mode)
        when = _today(today)
        with progress_bar(enabled=not json_out) as bar:
            task = bar.add_task("evaluating", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if tune:
                outcome = commands.tune(
                    settings, today=when, role=role, target=target_precision, write=write, progress=advance
                )
                bar.stop()
                _print_tune(outcome, json_out=json_out)
                return
            # dev unless asked: the test split is sealed and measured once, on purpose (evals/README.md).
            paths = list(dataset or []) or commands.default_paths(split or BASELINE_SPLIT)
            result = commands.run(
                settings,
                paths=paths,
                shown=[_shown(p) for p in paths],
                today=when,
                role=role,
                progress=advance,
                with_db=with_db,
            )
        summary = result.summary
        if json_out:
            console.print_json(summary.model_dump_json())
        else:
            _print_summary(result)
        if report is not None:
            from evals.report import write_report

            files = write_report(result, report)
            err_console.print(f"Report written to {files['report.html']}", highlight=False)
        if write_baseline:
            path = commands.save_baseline(summary, baseline, with_db=with_db)
            err_console.print(f"Baseline written to {path}: commit it deliberately.", highlight=False)
        if check_baseline:
            gate = commands.gate(summary, baseline, with_db=with_db)
            for note in gate.notes:
                err_console.print(plain(f"note: {note}"), highlight=False)
            for failure in gate.failures:
                err_console.print(f"[bold red]REGRESSION[/] {safe(failure.describe())}", highlight=False)
            if not gate.ok:
                raise typer.Exit(code=1)
            err_console.print("Baseline check passed.", highlight=False)


def _print_summary(result: Any) -> None:
    from evals.report import headline_rows, pct, runtime_rows

    s = result.summary
    console.print(_table(f"Eval: {s.backend} {s.model} on {', '.join(s.datasets)}", headline_rows(s)))
    console.print(_table(f"At the runtime thresholds (policy {s.policy_version})", runtime_rows(s)))
    per_tool = Table(title="Per class", title_justify="left")
    for column in ("class", "precision", "recall", "F1", "n", "args EM"):
        per_tool.add_column(column, justify="left" if column == "class" else "right")
    for name, t in s.per_tool.items():
        per_tool.add_row(
            name, pct(t.precision), pct(t.recall), pct(t.f1), str(t.support), pct(t.args_exact_match)
        )
    console.print(per_tool)
    if s.errors:
        noun = "example was" if s.errors == 1 else "examples were"
        console.print(f"{s.errors} {noun} not fully right; --report DIR lists them.", highlight=False)


def _print_tune(outcome: Any, *, json_out: bool) -> None:
    from evals.report import pct

    if json_out:
        console.print_json(json.dumps(outcome.as_dict()))
        return
    table = Table(title=f"Thresholds on dev for {pct(outcome.target)} precision", title_justify="left")
    for column in (
        "risk",
        "threshold",
        "current",
        "proposed",
        "precision now → proposed",
        "coverage now → proposed",
    ):
        table.add_column(column)
    for p in outcome.proposals:
        proposed = "unreachable" if p.proposed is None else f"{p.proposed:.2f}"
        current = "—" if p.current is None else f"{p.current:.2f}"
        table.add_row(
            p.risk,
            p.key,
            current,
            proposed,
            f"{pct(p.current_precision)} → {pct(p.precision)}",
            f"{pct(p.current_coverage)} → {pct(p.coverage)} ({p.passed}/{p.candidates})",
        )
    console.print(table)
    if outcome.written_version:
        console.print(
            f"Wrote thresholds to {outcome.config_file} (policy version {outcome.written_version}).",
            highlight=False,
        )
    elif outcome.proposals:
        console.print("Dry run: add --write to update the policy in your config file.", highlight=False)


def _benchmarks(
    state: App,
    benchmark: str | None,
    intent_dir: Path | None,
    datasets_dir: Path,
    *,
    json_out: bool,
    limit: int | None,
    categories: tuple[str, ...] = (),
) -> None:
    from evals import commands

    if benchmark == "bfcl":
        settings = state.settings
        host = settings.agent.ollama_host
        with progress_bar(enabled=not json_out) as bar:
            task = bar.add_task("BFCL", total=None)
            result = commands.bfcl(
                settings,
                datasets_dir=datasets_dir,
                limit=limit,
                categories=categories,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
            )
        if result is None:
            console.print(f"skipped: no Ollama at {host}", highlight=False)
            return
        if json_out:
            console.print_json(result.model_dump_json())
            return
        rows = [
            (name, f"{c.correct}/{c.n} = {commands.pct(c.accuracy)}") for name, c in result.categories.items()
        ]
        console.print(_table(f"BFCL v3 AST: {result.model} at {result.host}", rows))
        return
    with progress_bar(enabled=not json_out) as bar:
        task = bar.add_task("intent benchmark", total=None)
        result = commands.intent(
            benchmark,
            intent_dir,
            datasets_dir=datasets_dir,
            cache_dir=state.settings.var_dir / "benchmarks",
            progress=lambda stage: bar.update(task, description=stage),
        )
    if json_out:
        console.print_json(result.model_dump_json())
        return
    console.print(_table(f"Intent benchmark: {result.name}", commands.intent_rows(result)))
