"""Reviewed example sets for candidate-router tests: one that teaches the router wrong, one that teaches it right.

Both are drawn from the base training examples the small test recipe leaves out (it trains on every n-th), so the
candidate meets words the baseline never saw: rightly labelled they help it, mislabelled they hurt it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.backends.embedded.router_examples import OOS_LABEL, load_training_examples
from agent.modelops.candidate_models import CandidateRecipe
from agent.modelops.reviewed import ReviewedExample

#: Small and fast: every 12th base example, every 10th dev line.
SMALL = CandidateRecipe(base_every=12, dev_every=10)
REVIEWED_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def reviewed(index: int, text: str, tool: str | None) -> ReviewedExample:
    """One reviewed example."""
    return ReviewedExample(
        id=f"cand-{index:05d}",
        text=text,
        tool=tool,
        source="declined",
        reviewed_by="ann",
        reviewed_at=REVIEWED_AT,
    )


def _left_out(every: int) -> list[tuple[int, str, str]]:
    texts, labels = load_training_examples()
    return [(i, text, label) for i, (text, label) in enumerate(zip(texts, labels, strict=True)) if i % every]


def harmful_set(every: int = SMALL.base_every) -> list[ReviewedExample]:
    """Report requests labelled as customer look-ups, export requests labelled as reports."""
    wrong = {"run_report": "lookup_customer", "export_dataset": "run_report"}
    return [reviewed(i, text, wrong[label]) for i, text, label in _left_out(every) if label in wrong]


def good_set(every: int = SMALL.base_every, *, step: int = 3) -> list[ReviewedExample]:
    """Correctly labelled examples across every tool and out of scope."""
    return [
        reviewed(i, text, None if label == OOS_LABEL else label)
        for i, text, label in _left_out(every)[::step]
    ]
