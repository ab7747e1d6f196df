"""Threshold tuning on the DEV split: per-risk confidence thresholds that reach a target precision.

For each risk the tuned threshold is the policy's floor for that risk, the level below which the runtime asks
back: ``read`` → ``execute`` (reads run without asking above it), ``write`` → ``confirm``, ``external`` →
``confirm`` (the confidence floor before an approver sees it). The proposal is the lowest threshold on a 0.01
grid, never below ``MIN_THRESHOLD``, at which the calls passing it (right risk, arguments complete, confidence
≥ threshold) are at least ``target`` precise. Per-tool threshold overrides are left alone. Only the dev split
is ever used: the test split stays unseen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from agent.config import PolicyConfig, RiskThresholds
from core.errors import BadInput, ConfigError
from evals.metrics import Outcome, rate

RISKS: tuple[str, ...] = ("read", "write", "external")
# Never below 0.5: a call the backend itself thinks more likely wrong than right is not let through unasked,
# however clean a small dev sample looks.
MIN_THRESHOLD = 0.5
GRID: tuple[float, ...] = tuple(round(i / 100, 2) for i in range(int(MIN_THRESHOLD * 100), 101))


@dataclass(frozen=True)
class Proposal:
    """A proposed threshold for one risk and what it gives on dev."""

    risk: str
    key: str
    current: float | None
    proposed: float | None
    precision: float | None
    coverage: float | None
    passed: int
    candidates: int
    current_precision: float | None
    current_coverage: float | None

    @property
    def reached(self) -> bool:
        """Whether some threshold reaches the target precision."""
        return self.proposed is not None


def tuned_key(limits: RiskThresholds | None, risk: str) -> str:
    """The threshold acting as this risk's floor (the lowest one set)."""
    values = {k: getattr(limits, k) for k in ("confirm", "execute")} if limits else {}
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return "execute" if risk == "read" else "confirm"
    return min(present, key=lambda k: present[k])


def _at(candidates: Sequence[Outcome], threshold: float) -> tuple[float | None, float | None, int]:
    passed = [o for o in candidates if o.confidence >= threshold]
    return rate(sum(o.correct for o in passed), len(passed)), rate(len(passed), len(candidates)), len(passed)


def propose(outcomes: Sequence[Outcome], policy: PolicyConfig, *, target: float = 0.99) -> list[Proposal]:
    """One proposal per risk.

    Candidates are the calls the threshold decides about: a predicted tool of that risk with complete, valid
    arguments. Precision counts a call right when its tool and every checked argument are right; coverage is
    the share of candidates that pass.
    """
    proposals = []
    for risk in RISKS:
        limits = policy.risks.get(risk)  # type: ignore[call-overload]
        key = tuned_key(limits, risk)
        current = getattr(limits, key) if limits else None
        candidates = [
            o for o in outcomes if o.predicted_tool is not None and o.risk == risk and not o.needs_input
        ]
        chosen: float | None = None
        for threshold in GRID:
            precision, _, passed = _at(candidates, threshold)
            if passed and precision is not None and precision >= target:
                chosen = threshold
                break
        precision, coverage, passed = _at(candidates, chosen) if chosen is not None else (None, None, 0)
        cur_precision, cur_coverage, _ = _at(candidates, current) if current is not None else (None, None, 0)
        proposals.append(
            Proposal(
                risk,
                key,
                current,
                chosen,
                precision,
                coverage,
                passed,
                len(candidates),
                cur_precision,
                cur_coverage,
            )
        )
    return proposals


def bump_version(version: str) -> str:
    """Next policy version: the trailing number plus one ("2026.11-1" → "2026.11-2"), else "-1" appended."""
    match = re.search(r"(\d+)$", version)
    if not match:
        return f"{version}-1"
    return version[: match.start()] + str(int(match.group(1)) + 1)


def refuse_default_config(config_file: Path, *, packaged: Path | None) -> None:
    """Raise BadInput when ``config_file`` is the packaged default (``packaged``), which --write must never edit."""
    if packaged is not None and config_file.resolve() == packaged.resolve():
        raise BadInput(
            f"refusing to edit the packaged default config {packaged}: copy it, set "
            "SWITCHBOARD_CONFIG to the copy and run again"
        )


def write_thresholds(
    config_file: Path, proposals: Sequence[Proposal], policy: PolicyConfig, *, packaged: Path | None
) -> str:
    """Write the reached proposals into the YAML config, keep the rest (comments too), bump the version.

    Args:
        config_file: The YAML file to edit.
        proposals: What ``propose`` found.
        policy: The policy in force.
        packaged: The packaged default config, which is never edited.

    Returns:
        The new policy version.

    Raises:
        BadInput: When the file is the packaged default config (copy it first) or nothing was reached.
        ConfigError: When the file cannot be read or parsed.
    """
    refuse_default_config(config_file, packaged=packaged)
    reached = [p for p in proposals if p.reached]
    if not reached:
        raise BadInput("no threshold reaches the target precision on dev, so nothing was written")
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    # The shipped config's layout (``key:`` then ``    - item``): a copied file diffs only where it changed.
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        data = yaml.load(config_file.read_text(encoding="utf-8")) or CommentedMap()
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {config_file}: {exc.strerror}", file=str(config_file)
        ) from None
    except Exception as exc:  # ruamel raises many parser error types
        raise ConfigError(
            f"config file {config_file} is not valid YAML: {exc}", file=str(config_file)
        ) from None
    section = data.setdefault("policy", CommentedMap())
    risks = section.setdefault("risks", CommentedMap())
    # A partial ``risks`` mapping replaces the defaults wholesale, so every risk in force is written out.
    for risk, limits in policy.risks.items():
        if risk not in risks:
            risks[risk] = CommentedMap(limits.model_dump(exclude_defaults=True))
    for p in reached:
        entry = risks.setdefault(p.risk, CommentedMap())
        entry[p.key] = p.proposed
    version = bump_version(str(section.get("version", policy.version)))
    section["version"] = version
    with config_file.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return version
