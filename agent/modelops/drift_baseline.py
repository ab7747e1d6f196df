"""The baseline the drift report compares with: the live router's confidences on the project's dev split.

It is computed once per router (the router's fingerprint names the file, ``<var_dir>/modelops/baseline-<fp>.json``)
and read from disk after that; a new router gets a new baseline. The caller supplies the dev messages (the CLI
reads them with ``evals.dataset``, which this layer may not import) and the backend that decides them.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.backends.base import Backend, DecideRequest
from agent.modelops.drift_psi import BINS, histogram

logger = logging.getLogger(__name__)
FOLDER = "modelops"
Progress = Callable[[int, int], None]


class BaselineScope(BaseModel):
    """The baseline's confidences for one tool (or all decisions): how many, their mean and their histogram."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int
    mean: float
    counts: list[int] = Field(min_length=BINS, max_length=BINS)


class Baseline(BaseModel):
    """The live router's confidences on the dev split, overall and per chosen tool.

    Attributes:
        fingerprint: The router it was computed for.
        source: What it was computed on (e.g. ``dev split, 1467 messages``).
        created_at: When.
        overall: Every decision, out of scope included.
        tools: The decisions that chose each tool.
        oos_share: The share of dev messages the router put out of scope.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str
    source: str
    created_at: datetime
    overall: BaselineScope
    tools: dict[str, BaselineScope]
    oos_share: float


def baseline_path(var_dir: Path, fingerprint: str) -> Path:
    """Where the baseline of the router with ``fingerprint`` is kept."""
    return var_dir / FOLDER / f"baseline-{fingerprint}.json"


def load_baseline(var_dir: Path, fingerprint: str) -> Baseline | None:
    """The stored baseline of this router, or None (not computed yet, or unreadable: it is then recomputed)."""
    path = baseline_path(var_dir, fingerprint)
    try:
        return Baseline.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError):
        logger.warning("the drift baseline at %s is unreadable; it will be computed again", path)
        return None


def save_baseline(var_dir: Path, baseline: Baseline) -> Path:
    """Write the baseline (through a temporary file, so a reader never sees half of it)."""
    path = baseline_path(var_dir, baseline.fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(baseline.model_dump_json(indent=1), encoding="utf-8")
    temporary.replace(path)
    return path


def _scope(confidences: Sequence[float]) -> BaselineScope:
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return BaselineScope(n=len(confidences), mean=round(mean, 4), counts=histogram(confidences))


def compute_baseline(
    *,
    backend: Backend,
    texts: Sequence[str],
    fingerprint: str,
    today: date,
    source: str,
    progress: Progress | None = None,
) -> Baseline:
    """Decide every message with ``backend`` (no side effects) and keep the confidence of each decision."""
    if not texts:
        raise ValueError("a baseline needs at least one message")
    by_tool: defaultdict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    out_of_scope = 0
    for done, text in enumerate(texts, 1):
        decision = backend.decide(DecideRequest(text=text, today=today))
        every.append(decision.confidence)
        if decision.tool is None:
            out_of_scope += 1
        else:
            by_tool[decision.tool].append(decision.confidence)
        if progress is not None:
            progress(done, len(texts))
    return Baseline(
        fingerprint=fingerprint,
        source=source,
        created_at=datetime.now(UTC),
        overall=_scope(every),
        tools={tool: _scope(values) for tool, values in sorted(by_tool.items())},
        oos_share=round(out_of_scope / len(texts), 4),
    )


def ensure_baseline(
    *,
    var_dir: Path,
    fingerprint: str,
    compute: Callable[[], Baseline],
) -> Baseline:
    """The stored baseline of this router, computed with ``compute`` and stored the first time."""
    found = load_baseline(var_dir, fingerprint)
    if found is not None:
        return found
    baseline = compute()
    save_baseline(var_dir, baseline)
    return baseline
