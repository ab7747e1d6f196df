"""Confidence histograms and the population stability index (PSI) between two of them.

Confidences fall into ``BINS`` equal bins over [0, 1]. PSI sums ``(a - e) * ln(a / e)`` over the bins, where ``e``
and ``a`` are the expected (baseline) and actual (window) shares; an empty bin counts as half a message so one
never divides by zero (a bin empty on both sides adds nothing). Under 0.1 is usually read as no shift, 0.1-0.2 as some, 0.2 and up as a real one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

BINS = 10
TOP_BINS = 3  # the bins a report names as moving the most


class BinShift(BaseModel):
    """One bin's share in the baseline and in the window, and what it adds to the PSI."""

    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    expected: float
    actual: float
    contribution: float

    @property
    def label(self) -> str:
        """The bin as a range, e.g. ``0.6-0.7``."""
        return f"{self.low:.1f}-{self.high:.1f}"


class PsiResult(BaseModel):
    """The PSI of a window against the baseline, with the bins that moved most (largest contribution first)."""

    model_config = ConfigDict(frozen=True)

    value: float
    bins: list[BinShift]


def bin_of(confidence: float) -> int:
    """The bin a confidence falls in (1.0 goes in the last one)."""
    return min(BINS - 1, max(0, int(confidence * BINS)))


def histogram(confidences: Iterable[float]) -> list[int]:
    """Counts per bin."""
    counts = [0] * BINS
    for confidence in confidences:
        counts[bin_of(confidence)] += 1
    return counts


def psi(expected: Sequence[int], actual: Sequence[int]) -> PsiResult | None:
    """The PSI of ``actual`` against ``expected`` (counts per bin); None when either is empty."""
    expected_n, actual_n = sum(expected), sum(actual)
    if not expected_n or not actual_n or len(expected) != len(actual):
        return None
    shifts: list[BinShift] = []
    for index, (e_count, a_count) in enumerate(zip(expected, actual, strict=True)):
        # A bin empty on both sides says nothing; one empty on one side counts as half a message there.
        e = max(e_count, 0.5) / expected_n if a_count or e_count else 1.0
        a = max(a_count, 0.5) / actual_n if a_count or e_count else 1.0
        shifts.append(
            BinShift(
                low=index / len(expected),
                high=(index + 1) / len(expected),
                expected=round(e_count / expected_n, 4),
                actual=round(a_count / actual_n, 4),
                contribution=round((a - e) * math.log(a / e), 4),
            )
        )
    total = sum(shift.contribution for shift in shifts)
    ranked = sorted(shifts, key=lambda shift: shift.contribution, reverse=True)[:TOP_BINS]
    return PsiResult(value=round(total, 4), bins=ranked)
