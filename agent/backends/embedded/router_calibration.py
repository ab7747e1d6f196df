"""Calibration steps of the intent router, all fitted on held-out predictions (a dev split or out-of-fold).

1. The mixing weight of the embedding and n-gram classifiers and a temperature, by negative log-likelihood.
2. A Platt map from the out-of-scope-aware score ``p_top * knn`` to P(top label is right).
3. The refusal threshold on that probability.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from agent.backends.embedded.router_features import log_softmax

FloatArray = npt.NDArray[np.float64]
MIX_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(7))
_MIN_SCORE = 1e-6


def nll(logits: FloatArray, targets: npt.NDArray[np.int64]) -> float:
    """Mean negative log-likelihood of integer targets under softmax(logits)."""
    return float(-log_softmax(logits)[np.arange(len(targets)), targets].mean())


def fit_temperature(logits: FloatArray, targets: npt.NDArray[np.int64]) -> float:
    """Temperature T minimising the NLL of softmax(logits / T); T in [0.05, 20]."""
    from scipy.optimize import minimize_scalar  # fitting only; keeps it out of a serving process's start-up

    result = minimize_scalar(
        lambda log_t: nll(logits / math.exp(log_t), targets), bounds=(-3.0, 3.0), method="bounded"
    )
    return float(math.exp(result.x))


def fit_mixture(
    log_p_emb: FloatArray, log_p_lex: FloatArray, targets: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """Pick the n-gram weight w (grid) and temperature T with the lowest NLL.

    Returns:
        ``(w, T)``; the mixed logits are ``((1 - w) * log_p_emb + w * log_p_lex) / T``.
    """
    best: tuple[float, float, float] | None = None
    for w in MIX_WEIGHTS:
        mixed = (1.0 - w) * log_p_emb + w * log_p_lex
        temperature = fit_temperature(mixed, targets)
        loss = nll(mixed / temperature, targets)
        if best is None or loss < best[0]:
            best = (loss, w, temperature)
    assert best is not None
    return best[1], best[2]


def fit_platt(scores: FloatArray, correct: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Fit ``P(correct) = sigmoid(a * log(score) + b)`` by maximum likelihood.

    With only one outcome present (a tiny, perfectly separated dev set) there is nothing to fit, so the map is
    left close to the identity on the score.
    """
    if correct.all() or not correct.any():
        return 1.0, 0.0
    from sklearn.linear_model import LogisticRegression

    x = np.log(np.clip(scores, _MIN_SCORE, None))[:, None]
    model = LogisticRegression(C=1e4, max_iter=1000).fit(x, correct.astype(int))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def platt(scores: FloatArray, a: float, b: float) -> FloatArray:
    """Apply a fitted Platt map to raw scores."""
    z = a * np.log(np.clip(scores, _MIN_SCORE, None)) + b
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def choose_threshold(
    confidence: FloatArray,
    correct: npt.NDArray[np.bool_],
    is_oos: npt.NDArray[np.bool_],
    *,
    max_in_scope_drop: float,
) -> float:
    """Highest out-of-scope recall whose in-scope accuracy stays within ``max_in_scope_drop`` of argmax.

    Args:
        confidence: Calibrated confidence of each dev prediction.
        correct: Whether the top in-scope label is the gold label (always False for out-of-scope rows).
        is_oos: Whether the gold label is out of scope.
        max_in_scope_drop: Accuracy (fraction, e.g. 0.005) the threshold may cost on in-scope messages.

    Returns:
        The threshold (refuse when confidence < threshold); 0.0 when the dev data has no out-of-scope rows.
    """
    if not is_oos.any() or is_oos.all():
        return 0.0
    conf_in, correct_in, conf_oos = confidence[~is_oos], correct[~is_oos], confidence[is_oos]
    floor = correct_in.mean() - max_in_scope_drop - 1e-12
    candidates = np.unique(np.concatenate([[0.0], confidence]))
    best_index, best_recall = 0, -1.0
    for index, threshold in enumerate(candidates):
        accuracy = float((correct_in & (conf_in >= threshold)).mean())
        if accuracy < floor:
            break  # accuracy only falls as the threshold rises
        recall = float((conf_oos < threshold).mean())
        if recall > best_recall:
            best_index, best_recall = index, recall
    if best_index == 0:
        return 0.0
    # Every threshold in (previous candidate, chosen candidate] refuses the same dev messages; the midpoint
    # keeps a margin on both sides instead of sitting on the lowest accepted dev confidence.
    return float((candidates[best_index - 1] + candidates[best_index]) / 2)
