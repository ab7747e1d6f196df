"""Joint calibration: maps the router's tool confidence to P(tool and arguments are right).

The router is calibrated for the tool alone; an argument can still be wrong. ``switchboard router calibrate``
runs the project **dev** split (never test) through the runtime's planner with calibration off and fits one
monotone (isotonic) map for tool decisions and one for "no tool" decisions, shrunk toward the raw confidence
where the dev split has few examples. The map is stored with the router's
fingerprint and ignored when the router changes, so a stale map can never apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Curve:
    """A piecewise-linear monotone map from raw confidence to probability."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, raw: float) -> float:
        """Map one confidence."""
        if not self.x:
            return raw
        return float(np.interp(raw, self.x, self.y))


@dataclass(frozen=True)
class JointCalibration:
    """Curves for tool decisions and for out-of-scope decisions, bound to a router fingerprint."""

    fingerprint: str
    tool: Curve
    none: Curve
    n: int = 0

    def apply(self, raw: float, *, has_tool: bool) -> float:
        """Calibrated confidence, kept strictly inside (0, 1) so no decision is ever certain."""
        value = (self.tool if has_tool else self.none)(raw)
        return min(0.995, max(0.005, value))

    def save(self, path: Path) -> None:
        """Write as JSON."""
        data = {
            "fingerprint": self.fingerprint,
            "n": self.n,
            "tool": {"x": list(self.tool.x), "y": list(self.tool.y)},
            "none": {"x": list(self.none.x), "y": list(self.none.y)},
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> JointCalibration | None:
        """Read a saved calibration, or None when there is none."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            fingerprint=str(data["fingerprint"]),
            n=int(data.get("n", 0)),
            tool=Curve(tuple(data["tool"]["x"]), tuple(data["tool"]["y"])),
            none=Curve(tuple(data["none"]["x"]), tuple(data["none"]["y"])),
        )


# Pseudo-observations per bin of raw confidence, placed on the identity line (see fit_curve).
PRIOR_BINS = 20
PRIOR_WEIGHT = 2.0


def fit_curve(
    raw: list[float], correct: list[bool], *, prior_bins: int = PRIOR_BINS, prior_weight: float = PRIOR_WEIGHT
) -> Curve:
    """Isotonic regression of correctness on raw confidence, shrunk toward the raw confidence where data is thin.

    The raw confidence is already the router's out-of-fold calibrated probability, so it is the prior: each of
    ``prior_bins`` equal bins of [0, 1] gets ``prior_weight`` pseudo-observations at its centre whose target is
    that centre. Where dev examples are dense they outweigh the prior; where there are only a few, the curve
    stays near the raw value. Plain isotonic regression on a dev split with a handful of errors pools a few
    low-confidence hits with the many high-confidence ones and maps a raw 0.4 to 0.99, which would let
    doubtful calls auto-execute.

    Args:
        raw: Raw confidences of the dev decisions.
        correct: Whether each decision was fully right.
        prior_bins: Number of bins carrying pseudo-observations (0: plain isotonic regression).
        prior_weight: Pseudo-observations per bin.

    Returns:
        The fitted curve; the identity (no breakpoints) with fewer than 10 examples.
    """
    if len(raw) < 10:
        return Curve((), ())
    from sklearn.isotonic import IsotonicRegression

    centres = (np.arange(prior_bins) + 0.5) / prior_bins if prior_bins > 0 else np.zeros(0)
    x = np.concatenate([np.asarray(raw, dtype=float), centres])
    y = np.concatenate([np.asarray(correct, dtype=float), centres])
    weights = np.concatenate([np.ones(len(raw)), np.full(len(centres), prior_weight)])
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    model.fit(x, y, sample_weight=weights)
    return Curve(tuple(float(v) for v in model.X_thresholds_), tuple(float(v) for v in model.y_thresholds_))
