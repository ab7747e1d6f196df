"""The drift report as the CLI and the console ask for it: the live router's stored baseline and vocabulary.

A range comes from "the last N days" or a start time; the thresholds come from the settings.

Nothing here decides a message: a baseline that is not stored yet is simply absent (the report then has no PSI
and no confidence drop) until ``switchboard drift`` computes it, since only that command may read the dev split.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from agent.backends.factory import examples_fingerprint
from agent.config import AgentSettings
from agent.modelops.candidate_store import is_kept, read_pointer
from agent.modelops.drift import build_report
from agent.modelops.drift_baseline import Baseline, load_baseline
from agent.modelops.drift_models import DriftReport
from agent.modelops.drift_vocab import training_vocabulary
from agent.modelops.drift_windows import WindowKind, window_of
from core.errors import BadInput

DEFAULT_DAYS: dict[WindowKind, int] = {"day": 7, "week": 28}
MAX_DAYS = 366


def live_fingerprint(var_dir: Path) -> str:
    """The fingerprint of the live router: a promoted one (``LIVE.json``), else the one for prompts/examples."""
    pointer = read_pointer(var_dir)
    if pointer is not None and pointer.live is not None and is_kept(var_dir, pointer.live):
        return pointer.live
    return examples_fingerprint()


def report_range(
    *, kind: WindowKind, now: datetime, days: int | None = None, since: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[start, now)``: from ``since``, or from the start of the window ``days`` days back (whole windows).

    Raises:
        BadInput: ``since`` is not before ``now``, or the range is longer than a year.
    """
    if since is not None:
        start = since if since.tzinfo else since.replace(tzinfo=UTC)
    else:
        count = days if days is not None else DEFAULT_DAYS[kind]
        if not 1 <= count <= MAX_DAYS:
            raise BadInput(f"--days must be between 1 and {MAX_DAYS}, not {count}")
        start = window_of(now - timedelta(days=count - 1), kind).start
    if start >= now:
        raise BadInput(f"--since {start:%Y-%m-%d %H:%M} is not in the past")
    if now - start > timedelta(days=MAX_DAYS):
        raise BadInput(f"the range is longer than {MAX_DAYS} days: choose a later --since")
    return start, now


def drift_report(
    *,
    settings: AgentSettings,
    engine: Engine,
    kind: WindowKind,
    start: datetime,
    end: datetime,
    tool: str | None = None,
    baseline: Baseline | None = None,
    with_vocabulary: bool = True,
) -> DriftReport:
    """The report with the live router's stored baseline (unless one is given) and training vocabulary."""
    fingerprint = live_fingerprint(Path(settings.var_dir))
    if baseline is None:
        baseline = load_baseline(Path(settings.var_dir), fingerprint)
    vocabulary = training_vocabulary(fingerprint) if with_vocabulary else None
    return build_report(
        engine=engine,
        limits=settings.drift,
        kind=kind,
        start=start,
        end=end,
        baseline=baseline,
        vocabulary=vocabulary,
        tool=tool,
    )
