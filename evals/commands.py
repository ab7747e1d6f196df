"""What ``switchboard eval`` does, without the terminal: build the backend, run, tune, gate, benchmarks.

The CLI module parses options and prints; everything here returns values, so it is testable on its own.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from agent.backends.base import Backend
from agent.config import AgentSettings
from core.errors import BadInput, ConfigError
from core.vocabulary import Role
from evals.dataset import PROJECT_DIR, Example, load_examples, split_paths
from evals.gate import GateResult, baseline_from, baseline_path, check, load_baseline, write_baseline
from evals.report import pct
from evals.runner import EvalResult, Progress, evaluate, tool_arguments
from evals.summary import Summary
from evals.tune import Proposal, propose, refuse_default_config, write_thresholds
from tools.registry import Registry, build_registry

logger = logging.getLogger(__name__)

__all__ = ["pct"]


def with_backend(
    settings: AgentSettings, backend: str | None, *, ollama_mode: str | None = None
) -> AgentSettings:
    """AgentSettings with ``agent.backend`` and ``agent.ollama_mode`` overridden (None keeps the configured one)."""
    update = {
        key: value for key, value in (("backend", backend), ("ollama_mode", ollama_mode)) if value is not None
    }
    if not update:
        return settings
    # Validated, so a mode the config does not know is refused here rather than deep in the backend.
    agent = type(settings.agent).model_validate({**settings.agent.model_dump(), **update})
    return settings.model_copy(update={"agent": agent})


def default_paths(split: str) -> list[Path]:
    """Files of a project dataset split."""
    return split_paths(split, directory=PROJECT_DIR)


def build(settings: AgentSettings, *, engine: Engine | None = None) -> tuple[Registry, Backend]:
    """The tool registry and the configured backend (the same factory the runtime uses).

    Without ``engine`` the backend knows no customer or product names, so scores never depend on what a
    database holds; with it (``--with-db``) names resolve against that database as they do live.
    """
    from agent.backends.factory import build_backend

    registry = build_registry()
    return registry, build_backend(settings, registry=registry, engine=engine)


@contextmanager
def demo_database(settings: AgentSettings, *, today: date) -> Iterator[Engine]:
    """A throwaway SQLite database holding the demo data (seed 7) as of ``today``, for ``--with-db``."""
    from core.store.db import make_engine
    from core.store.schema import init_db
    from flows.demo.data import load_demo

    with tempfile.TemporaryDirectory(prefix="switchboard-eval-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        try:
            init_db(engine)
            local = settings.model_copy(update={"var_dir": Path(folder), "inbox_dir": Path(folder) / "inbox"})
            load_demo(engine=engine, settings=local, today=today)
            yield engine
        finally:
            engine.dispose()


def run(
    settings: AgentSettings,
    *,
    paths: Sequence[Path],
    today: date,
    role: str = "operator",
    shown: Sequence[str] | None = None,
    progress: Progress | None = None,
    with_db: bool = False,
) -> EvalResult:
    """Validate the dataset files, then evaluate the configured backend on them at the configured policy.

    With ``with_db`` the backend resolves names against the demo database (see :func:`demo_database`).
    """
    examples = load_examples(paths, tools=tool_arguments(build_registry()))
    if with_db:
        with demo_database(settings, today=today) as engine:
            return _evaluate(settings, examples, paths, today, role, shown, progress, engine)
    return _evaluate(settings, examples, paths, today, role, shown, progress, None)


def _evaluate(
    settings: AgentSettings,
    examples: list[Example],
    paths: Sequence[Path],
    today: date,
    role: str,
    shown: Sequence[str] | None,
    progress: Progress | None,
    engine: Engine | None,
) -> EvalResult:
    registry, backend = build(settings, engine=engine)
    role_: Role = role  # type: ignore[assignment]
    return evaluate(
        examples,
        backend=backend,
        registry=registry,
        settings=settings,
        today=today,
        role=role_,
        datasets=list(shown or [str(p) for p in paths]),
        progress=progress,
    )


@dataclass
class TuneOutcome:
    """Proposals on dev and, with --write, the new policy version."""

    target: float
    proposals: list[Proposal]
    config_file: str
    written_version: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for --json."""
        return {
            "target_precision": self.target,
            "config_file": self.config_file,
            "written_version": self.written_version,
            "proposals": [
                {
                    "risk": p.risk,
                    "threshold": p.key,
                    "current": p.current,
                    "proposed": p.proposed,
                    "precision": p.precision,
                    "coverage": p.coverage,
                    "passed": p.passed,
                    "candidates": p.candidates,
                    "current_precision": p.current_precision,
                    "current_coverage": p.current_coverage,
                }
                for p in self.proposals
            ],
        }


def tune(
    settings: AgentSettings,
    *,
    today: date,
    role: str = "operator",
    target: float = 0.99,
    write: bool = False,
    progress: Progress | None = None,
) -> TuneOutcome:
    """Propose per-risk thresholds on the dev split (never test); with ``write``, update the config file."""
    config_file = Path(settings.config_file)
    if write:
        refuse_default_config(
            config_file, packaged=settings.DEFAULT_CONFIG
        )  # before the (slow) run, so the user learns it at once
    result = run(settings, paths=default_paths("dev"), today=today, role=role, progress=progress)
    proposals = propose(result.outcomes, settings.policy, target=target)
    outcome = TuneOutcome(target, proposals, str(config_file), summary=result.summary.model_dump(mode="json"))
    if write:
        outcome.written_version = write_thresholds(
            config_file, proposals, settings.policy, packaged=settings.DEFAULT_CONFIG
        )
    return outcome


def save_baseline(summary: Summary, path: Path | None = None, *, with_db: bool = False) -> Path:
    """Write the baseline from this run, keeping the floors and tolerance of the existing file."""
    target = path or baseline_path(with_db=with_db)
    previous = load_baseline(target) if target.exists() else None
    fresh = baseline_from(summary, floors=previous.floors if previous else None)
    if previous is not None:
        fresh = fresh.model_copy(update={"tolerance": previous.tolerance})
    return write_baseline(fresh, target)


def gate(summary: Summary, path: Path | None = None, *, with_db: bool = False) -> GateResult:
    """Compare this run with the committed baseline."""
    return check(summary, load_baseline(path or baseline_path(with_db=with_db)))


def bfcl(
    settings: AgentSettings,
    *,
    datasets_dir: Path,
    limit: int | None = None,
    categories: Sequence[str] = (),
    progress: Progress | None = None,
) -> Any:
    """Run BFCL v3 against the configured Ollama; None when no Ollama answers (the caller says 'skipped')."""
    from evals.bfcl import CATEGORIES, ollama_reachable, run_bfcl

    host = settings.agent.ollama_host
    if not ollama_reachable(host):
        return None
    directory = datasets_dir / "bfcl-v3"
    if not directory.is_dir():
        raise BadInput(f"no BFCL data at {directory}: pass --datasets-dir")
    return run_bfcl(
        directory,
        host=host,
        model=settings.agent.ollama_model,
        categories=tuple(categories) or CATEGORIES,
        limit=limit,
        timeout=settings.agent.ollama_timeout_s,
        progress=progress,
    )


def intent(
    benchmark: str | None,
    directory: Path | None,
    *,
    datasets_dir: Path,
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Run a named public intent benchmark (converted once into ``cache_dir``) or an intent set folder."""
    from agent.backends.embedded.encoder import Encoder, EncoderError
    from evals.benchmarks_convert import BENCHMARKS, ConversionError, prepare_benchmark
    from evals.intent_bench import IntentBenchError, run_intent_benchmark

    if benchmark is not None and benchmark not in BENCHMARKS:
        raise BadInput(f"--benchmark {benchmark!r}: use clinc150, snips or bfcl")
    try:
        if benchmark is not None:
            directory = prepare_benchmark(benchmark, datasets_dir=datasets_dir, cache_dir=cache_dir)
        if directory is None:
            raise BadInput("name a --benchmark or an --intent-benchmark folder")
        # An offline run may use both cores; serving keeps the encoder on one.
        return run_intent_benchmark(directory, encoder=Encoder.load(threads=2), progress=progress)
    except (ConversionError, IntentBenchError) as exc:
        raise BadInput(str(exc)) from None
    except EncoderError as exc:
        raise ConfigError(str(exc)) from None


def intent_rows(result: Any) -> list[tuple[str, str]]:
    """The figures of an intent benchmark as (label, value) rows."""
    return [
        (
            "test messages (in scope / oos)",
            f"{result.n_test} ({result.n_test_in_scope} / {result.n_test_oos})",
        ),
        ("intents (train)", str(result.n_intents)),
        ("in-scope accuracy at the threshold", pct(result.in_scope_accuracy)),
        ("in-scope accuracy (argmax)", pct(result.in_scope_accuracy_argmax)),
        ("macro-F1", pct(result.macro_f1)),
        ("OOS recall", pct(result.oos_recall)),
        ("OOS precision", pct(result.oos_precision)),
        ("in-scope false refusals", pct(result.false_refusal_rate)),
        ("threshold (fitted on " + result.calibrated_on + ")", f"{result.threshold:.3f}"),
        ("latency p50 / p95", f"{result.latency_ms_p50:.1f} ms / {result.latency_ms_p95:.1f} ms"),
        ("fit / total time", f"{result.fit_seconds:.1f} s / {result.total_seconds:.1f} s"),
    ]
