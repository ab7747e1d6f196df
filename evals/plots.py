"""PNG plots of an eval run: reliability diagram, coverage-vs-accuracy curve and confusion matrix.

Uses matplotlib's object API (``Figure``) rather than pyplot, so no global figure state and no GUI backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from evals.summary import Bin, CoveragePoint


def reliability_png(bins: Sequence[Bin], path: Path, *, ece: float | None) -> Path:
    """Accuracy per confidence bin against the diagonal, with the bin counts underneath."""
    fig = Figure(figsize=(5.5, 6.0), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    width = bins[0].high - bins[0].low if bins else 1.0
    filled = [b for b in bins if b.n]
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    top.bar(
        [b.low for b in filled],
        [b.accuracy or 0.0 for b in filled],
        width=width,
        align="edge",
        edgecolor="black",
        color="#4c72b0",
        alpha=0.8,
        label="accuracy",
    )
    top.plot(
        [b.confidence or 0.0 for b in filled],
        [b.accuracy or 0.0 for b in filled],
        "o",
        color="#dd8452",
        label="mean confidence",
    )
    top.set_ylabel("accuracy (tool and arguments right)")
    top.set_ylim(0, 1.02)
    title = "Reliability diagram" + (f" (ECE {ece:.3f})" if ece is not None else "")
    top.set_title(title)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(
        [b.low for b in bins],
        [b.n for b in bins],
        width=width,
        align="edge",
        color="#8c8c8c",
        edgecolor="black",
    )
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("examples")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def coverage_png(points: Sequence[CoveragePoint], path: Path) -> Path:
    """Accuracy among answered examples against the share answered, as the confidence threshold rises."""
    fig = Figure(figsize=(5.5, 4.5), dpi=100)
    ax = fig.subplots()
    shown = [p for p in points if p.accuracy is not None]
    ax.plot(
        [p.coverage for p in shown],
        [p.accuracy or 0.0 for p in shown],
        marker="o",
        markersize=3,
        color="#4c72b0",
    )
    labelled: set[float] = set()
    for p in shown:
        # Label a few thresholds, and each coverage once: many thresholds can share one point.
        if round(p.threshold * 100) in (50, 80, 90, 95, 100) and round(p.coverage, 3) not in labelled:
            labelled.add(round(p.coverage, 3))
            ax.annotate(
                f"{p.threshold:.1f}",
                (p.coverage, p.accuracy or 0.0),
                fontsize=7,
                textcoords="offset points",
                xytext=(4, -10),
            )
    ax.set_xlabel("coverage (share answered)")
    ax.set_ylabel("accuracy among answered")
    ax.set_xlim(0, 1.02)
    low = min((p.accuracy or 0.0 for p in shown), default=0.0)
    ax.set_ylim(max(0.0, low - 0.05), 1.01)
    ax.set_title("Coverage vs accuracy (labels: confidence threshold)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def confusion_png(labels: Sequence[str], matrix: Sequence[Sequence[int]], path: Path) -> Path:
    """Row-normalised confusion matrix with the raw counts written in the cells."""
    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = max(5.0, 0.45 * len(labels) + 2.5)
    fig = Figure(figsize=(size, size), dpi=100)
    ax = fig.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = list(range(len(labels)))
    ax.set_xticks(ticks, labels=list(labels), rotation=90, fontsize=8)
    ax.set_yticks(ticks, labels=list(labels), fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    for i in ticks:
        for j in ticks:
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "black",
                )
    ax.set_title("Confusion matrix (colour: share of the row)")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
