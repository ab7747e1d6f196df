"""Scoring routers with the evals, for the joint calibration and for a candidate's gate.

This is where the agent's candidate routers meet the evals (the agent package may not import them): the joint
calibration is fitted on the project dev split as ``switchboard router calibrate`` fits it, and live and
candidate are scored on that split and on the candidate's held-out reviewed examples through the runtime's
planner, each with its own calibration, so they compare on equal footing. The sealed test split is never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.calibration import JointCalibration, fit_curve
from agent.backends.embedded.router import IntentRouter
from agent.backends.factory import live_router, load_calibration, load_router
from agent.config import AgentSettings
from agent.modelops.candidate_gate import gate
from agent.modelops.candidate_models import CandidateRecipe, GateResult, GateSplit, SplitScores
from agent.modelops.candidate_store import router_folder, write_manifest
from agent.modelops.candidate_train import TrainedCandidate, train_candidate
from agent.modelops.reviewed import ReviewedExample, latest
from evals.dataset import REFERENCE_DATE, Example, load_examples, split_paths
from evals.runner import EvalResult, evaluate
from tools.registry import Registry

#: The recipe ``switchboard router train --candidate`` uses: every base example, the whole dev split.
DEFAULT_RECIPE = CandidateRecipe()


def locked_split() -> list[Example]:
    """The project dev split: the gate's locked split, never trained on."""
    return load_examples(split_paths("dev"))


def held_out_examples(held_out: Sequence[ReviewedExample]) -> list[Example]:
    """Reviewed examples as eval examples: the tool is checked, not the arguments (a correction may lack them)."""
    return [Example(text=e.text, tool=e.tool, source=f"reviewed:{e.id}") for e in held_out]


def run(
    router: IntentRouter,
    examples: Sequence[Example],
    *,
    registry: Registry,
    settings: AgentSettings,
    calibration: JointCalibration | None,
    today: date = REFERENCE_DATE,
) -> EvalResult:
    """Plan every example with this router (nothing executes)."""
    backend = EmbeddedBackend(router=router, registry=registry, calibration=calibration)
    return evaluate(examples, backend=backend, registry=registry, settings=settings, today=today)


def fit_calibration(
    router: IntentRouter,
    fingerprint: str,
    *,
    dev: Sequence[Example],
    registry: Registry,
    settings: AgentSettings,
) -> tuple[JointCalibration, EvalResult]:
    """The joint calibration of ``router`` on the dev split, bound to ``fingerprint``; also the raw result."""
    result = run(router, dev, registry=registry, settings=settings, calibration=None)
    tool = [(o.confidence, o.correct) for o in result.outcomes if o.predicted_tool is not None]
    none = [(o.confidence, o.correct) for o in result.outcomes if o.predicted_tool is None]
    calibration = JointCalibration(
        fingerprint=fingerprint,
        n=len(result.outcomes),
        tool=fit_curve([c for c, _ in tool], [k for _, k in tool]),
        none=fit_curve([c for c, _ in none], [k for _, k in none]),
    )
    return calibration, result


def scores(result: EvalResult) -> SplitScores:
    """The gated metrics of one eval run."""
    summary = result.summary
    return SplitScores(
        n=summary.n,
        n_in_scope=summary.n_in_scope,
        n_oos=summary.n_oos,
        tool_accuracy=summary.tool_accuracy if summary.n else None,
        false_refusal_rate=summary.false_refusal_rate,
        oos_recall=summary.oos_recall,
        ece=summary.ece if summary.n else None,
    )


@dataclass(frozen=True)
class CandidateReport:
    """A trained candidate, its gate result, and what the live router scored."""

    trained: TrainedCandidate
    gate: GateResult
    live: dict[GateSplit, SplitScores]
    candidate: dict[GateSplit, SplitScores]


def train_and_gate(
    *, settings: AgentSettings, registry: Registry, recipe: CandidateRecipe | None = None
) -> CandidateReport:
    """Train a candidate on the base and latest reviewed examples, gate it against the live router, record it."""
    recipe = recipe or DEFAULT_RECIPE
    dev = locked_split()[:: recipe.dev_every]
    threads = settings.agent.encoder_threads
    reviewed = latest(settings.var_dir / "training")

    def calibrate(router: IntentRouter, fingerprint: str) -> JointCalibration:
        return fit_calibration(router, fingerprint, dev=dev, registry=registry, settings=settings)[0]

    trained = train_candidate(
        var_dir=settings.var_dir,
        reviewed=reviewed,
        recipe=recipe,
        locked_texts=[example.text for example in dev] if recipe.dev_every == 1 else _all_dev_texts(),
        calibrate=calibrate,
        threads=threads,
    )
    fingerprint = trained.manifest.fingerprint
    live = live_router(settings)
    splits: dict[GateSplit, list[Example]] = {"dev": dev, "reviewed": held_out_examples(trained.held_out)}
    live_router_ = load_router(settings)
    live_calibration = load_calibration(settings)
    candidate_calibration = JointCalibration.load(
        router_folder(settings.var_dir, fingerprint) / "calibration.json"
    )
    live_scores: dict[GateSplit, SplitScores] = {}
    candidate_scores: dict[GateSplit, SplitScores] = {}
    for split, examples in splits.items():
        if not examples:
            continue
        live_scores[split] = scores(
            run(live_router_, examples, registry=registry, settings=settings, calibration=live_calibration)
        )
        candidate_scores[split] = scores(
            run(
                trained.router,
                examples,
                registry=registry,
                settings=settings,
                calibration=candidate_calibration,
            )
        )
    result = gate(
        live_fingerprint=live.fingerprint,
        candidate_fingerprint=fingerprint,
        live=live_scores,
        candidate=candidate_scores,
        config=settings.router_gate,
    )
    write_manifest(
        router_folder(settings.var_dir, fingerprint), trained.manifest.model_copy(update={"gate": result})
    )
    return CandidateReport(trained, result, live_scores, candidate_scores)


def _all_dev_texts() -> list[str]:
    # The gate may look at a sample of dev, but every dev line stays out of training.
    return [example.text for example in locked_split()]
