"""Training of the router's two classifiers, and out-of-fold predictions for calibration without a dev split.

This is the only router module that needs scikit-learn; a saved router predicts with numpy alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from agent.backends.embedded.router_features import TfidfFeaturizer, log_softmax, top_k_similarity

if TYPE_CHECKING:
    from agent.backends.embedded.router_models import RouterConfig

FloatArray = npt.NDArray[np.float64]
# Logit given to a class a fold never saw: impossible in practice, but finite so NLL stays finite.
_ABSENT_CLASS_LOGIT = -30.0


def _logistic(
    x: object, y: npt.NDArray[np.int64], *, n_labels: int, c: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=c, max_iter=3000)
    # Multi-threaded BLAS on these small problems, on a busy 2-core machine, was 20-40x slower than 1 thread.
    with threadpool_limits(limits=1):
        model.fit(x, y)
    n_features = model.coef_.shape[1]
    coef = np.zeros((n_labels, n_features), dtype=np.float32)
    intercept = np.full(n_labels, _ABSENT_CLASS_LOGIT, dtype=np.float32)
    classes = model.classes_.astype(int)
    if len(classes) == 2:
        # scikit-learn stores a binary problem as one row for the positive class.
        coef[classes[1]], intercept[classes[1]] = model.coef_[0], model.intercept_[0]
        intercept[classes[0]] = 0.0
    else:
        coef[classes], intercept[classes] = model.coef_, model.intercept_
    return coef, intercept


def fit_members(
    texts: Sequence[str],
    embeddings: npt.NDArray[np.float32],
    targets: npt.NDArray[np.int64],
    *,
    n_labels: int,
    config: RouterConfig,
) -> tuple[TfidfFeaturizer, dict[str, npt.NDArray[np.float32]]]:
    """Fit the embedding and n-gram logistic regressions.

    Returns:
        The n-gram featurizer and the weight arrays ``emb_coef``, ``emb_intercept``, ``lex_coef`` and
        ``lex_intercept``.
    """
    featurizer = TfidfFeaturizer.fit(texts, min_df=config.min_df)
    emb_coef, emb_intercept = _logistic(embeddings, targets, n_labels=n_labels, c=config.c_embedding)
    lex_coef, lex_intercept = _logistic(
        featurizer.transform(texts), targets, n_labels=n_labels, c=config.c_lexical
    )
    return featurizer, {
        "emb_coef": emb_coef,
        "emb_intercept": emb_intercept,
        "lex_coef": lex_coef,
        "lex_intercept": lex_intercept,
    }


def cross_fitted_log_probs(
    texts: Sequence[str],
    embeddings: npt.NDArray[np.float32],
    targets: npt.NDArray[np.int64],
    *,
    n_labels: int,
    oos_index: int | None,
    config: RouterConfig,
    writers: Sequence[str] | None = None,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.float32]]:
    """Out-of-fold member log-probabilities and neighbour similarities for every training example.

    With ``writers`` (and ``config.fold_by_writer``), a fold holds out whole writers, so every row is predicted
    by models that never saw its writer's phrasing: the confidence the calibration learns is a stranger's, not
    that of a writer's other lines (issue 16). Without them, or with fewer writers than folds, folds are
    stratified by label.

    Returns:
        ``(log_p_embedding, log_p_lexical, knn_similarity)``, each row predicted by models that never saw it.
    """
    n = len(texts)
    log_emb = np.zeros((n, n_labels))
    log_lex = np.zeros((n, n_labels))
    knn = np.zeros(n, dtype=np.float32)
    splits = _folds(targets, n_labels=n_labels, config=config, writers=writers)
    for train_idx, held_idx in splits:
        fold_texts = [texts[i] for i in train_idx]
        featurizer, arrays = fit_members(
            fold_texts, embeddings[train_idx], targets[train_idx], n_labels=n_labels, config=config
        )
        held_emb = embeddings[held_idx].astype(np.float64)
        log_emb[held_idx] = log_softmax(held_emb @ arrays["emb_coef"].T + arrays["emb_intercept"])
        lex = featurizer.transform([texts[i] for i in held_idx])
        log_lex[held_idx] = log_softmax(np.asarray(lex @ arrays["lex_coef"].T) + arrays["lex_intercept"])
        bank_idx = train_idx if oos_index is None else train_idx[targets[train_idx] != oos_index]
        knn[held_idx] = top_k_similarity(embeddings[held_idx], embeddings[bank_idx], k=config.knn_k)
    return log_emb, log_lex, knn


def _folds(
    targets: npt.NDArray[np.int64], *, n_labels: int, config: RouterConfig, writers: Sequence[str] | None
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    n = len(targets)
    if config.fold_by_writer and writers is not None and len(set(writers)) >= config.folds:
        if len(writers) != n:
            raise ValueError("writers and targets must be of equal length")
        return list(GroupKFold(n_splits=config.folds).split(np.zeros(n), targets, groups=list(writers)))
    min_count = int(np.bincount(targets, minlength=n_labels)[np.unique(targets)].min())
    folds = max(2, min(config.folds, min_count))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes with fewer members than folds
        return list(splitter.split(np.zeros(n), targets))
