"""The joint calibration curve: isotonic on dev, shrunk toward the raw confidence where dev is thin."""

from __future__ import annotations

from agent.backends.embedded.calibration import fit_curve


def test_a_few_lucky_low_confidence_hits_do_not_lift_the_curve_to_certainty() -> None:
    raw = [0.95] * 300 + [0.4] * 3
    curve = fit_curve(raw, [True] * len(raw))

    assert curve(0.95) > 0.98
    assert curve(0.4) < 0.7


def test_dense_evidence_overrides_the_prior() -> None:
    raw = [0.5] * 200 + [0.9] * 200
    correct = [i % 5 != 0 for i in range(200)] + [True] * 200
    curve = fit_curve(raw, correct)

    assert abs(curve(0.5) - 0.8) < 0.03
    assert curve(0.5) <= curve(0.9)


def test_without_a_prior_it_is_plain_isotonic_regression() -> None:
    raw = [0.95] * 300 + [0.4] * 3
    assert fit_curve(raw, [True] * len(raw), prior_bins=0)(0.4) == 1.0


def test_too_few_examples_give_the_identity() -> None:
    assert fit_curve([0.3, 0.9], [True, False])(0.3) == 0.3
