"""Intent router: picks a label (tool or intent) for a message, or refuses it as out of scope.

Two multinomial logistic regressions, one over MiniLM sentence embeddings and one over character and
word n-grams, are mixed in log space and temperature-scaled. The confidence is P(top label is right): a
Platt map of the top class probability times the mean similarity to the 5 nearest training examples.
Out-of-scope negatives form an explicit class; a message that class claims outright (``oos_refusal``) is refused
whatever its confidence. Mixing weight, temperature, Platt map and threshold are
fitted on a dev split, or out-of-fold on the training data when there is none. On CLINC150 this beat
plain logistic regression over embeddings (see evals/intent_bench.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.backends.embedded import router_calibration as cal
from agent.backends.embedded import router_store
from agent.backends.embedded.encoder import Encoder
from agent.backends.embedded.router_features import TfidfFeaturizer, log_softmax, softmax, top_k_similarity
from agent.backends.embedded.router_models import Alternative, Prediction, RouterConfig, RouterState

logger = logging.getLogger(__name__)
FloatArray = npt.NDArray[np.float64]


class IntentRouter:
    """Label classifier with calibrated confidence and an out-of-scope refusal.

    Build with :meth:`fit` or :meth:`load`; both need an :class:`Encoder` (shared, loaded by the caller).
    """

    def __init__(
        self,
        *,
        state: RouterState,
        encoder: Encoder,
        featurizer: TfidfFeaturizer,
        arrays: dict[str, npt.NDArray[np.float32]],
    ) -> None:
        """Assemble a router from fitted parts (use :meth:`fit` or :meth:`load` instead)."""
        self.state = state
        self.encoder = encoder
        self.featurizer = featurizer
        self.arrays = arrays
        self._transposed: dict[str, npt.NDArray[np.floating[Any]]] = {}
        self._oos_index = state.labels.index(state.oos_label) if state.oos_label in state.labels else None
        self._in_scope = np.array([i for i in range(len(state.labels)) if i != self._oos_index])

    @property
    def labels(self) -> list[str]:
        """All labels, including the out-of-scope label if trained with one."""
        return list(self.state.labels)

    @property
    def threshold(self) -> float:
        """Refusal threshold on the calibrated probability."""
        return self.state.threshold

    def set_threshold(self, threshold: float) -> None:
        """Refuse predictions whose calibrated probability is below ``threshold``."""
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self.state.threshold = threshold

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        encoder: Encoder,
        oos_label: str | None = "oos",
        dev_texts: Sequence[str] | None = None,
        dev_labels: Sequence[str] | None = None,
        config: RouterConfig | None = None,
        embeddings: npt.NDArray[np.float32] | None = None,
        dev_embeddings: npt.NDArray[np.float32] | None = None,
        writers: Sequence[str] | None = None,
    ) -> IntentRouter:
        """Train on labelled utterances, then calibrate on the dev split or out-of-fold.

        Args:
            texts: Training utterances.
            labels: Their labels; ``oos_label`` marks out-of-scope negatives.
            encoder: Sentence encoder.
            oos_label: Label of the out-of-scope class (None: no such class).
            dev_texts: Optional dev utterances for calibration and threshold.
            dev_labels: Their labels.
            config: Hyperparameters.
            embeddings: Precomputed embeddings of ``texts`` (skips encoding).
            dev_embeddings: Precomputed embeddings of ``dev_texts``.
            writers: Who wrote each utterance; out-of-fold calibration then holds out whole writers.

        Returns:
            A calibrated router.
        """
        from agent.backends.embedded.router_training import cross_fitted_log_probs, fit_members

        cfg = config or RouterConfig()
        if len(texts) != len(labels) or not texts:
            raise ValueError("texts and labels must be non-empty and of equal length")
        label_set = sorted(set(labels))
        if len([lab for lab in label_set if lab != oos_label]) < 2:
            raise ValueError("need at least two in-scope labels")
        emb = embeddings if embeddings is not None else encoder.encode(texts)
        y = np.array([label_set.index(lab) for lab in labels], dtype=np.int64)
        state = RouterState(
            labels=label_set, oos_label=oos_label if oos_label in label_set else None, config=cfg
        )
        featurizer, arrays = fit_members(texts, emb, y, n_labels=len(label_set), config=cfg)
        bank_mask = np.array([lab != oos_label for lab in labels])
        arrays["knn_bank"] = emb[bank_mask].astype(np.float32)
        router = cls(state=state, encoder=encoder, featurizer=featurizer, arrays=arrays)
        if dev_texts is not None and dev_labels is not None:
            router.calibrate(dev_texts, dev_labels, embeddings=dev_embeddings)
        else:
            log_emb, log_lex, knn = cross_fitted_log_probs(
                texts,
                emb,
                y,
                n_labels=len(label_set),
                oos_index=router._oos_index,
                config=cfg,
                writers=writers,
            )
            router._calibrate_arrays(log_emb, log_lex, knn, y)
        return router

    def calibrate(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        embeddings: npt.NDArray[np.float32] | None = None,
    ) -> None:
        """Fit mixing weight, temperature, confidence map and threshold on held-out labelled messages.

        Labels unknown to the router count as out of scope.
        """
        emb = embeddings if embeddings is not None else self.encoder.encode(texts)
        log_emb, log_lex = self._member_log_probs(texts, emb)
        knn = top_k_similarity(emb, self.arrays["knn_bank"], k=self.state.config.knn_k)
        self._calibrate_arrays(log_emb, log_lex, knn, self._targets(labels))

    def fit_temperature(self, texts: Sequence[str], labels: Sequence[str]) -> float:
        """Refit only the temperature on held-out messages; returns it.

        Labels unknown to the router count as out of scope; without an out-of-scope class they are an error.
        """
        targets = self._targets(labels)
        if (targets < 0).any():
            raise ValueError("fit_temperature needs labels the router knows")
        log_emb, log_lex = self._member_log_probs(texts, self.encoder.encode(texts))
        w = self.state.mix_weight
        self.state.temperature = cal.fit_temperature((1 - w) * log_emb + w * log_lex, targets)
        return self.state.temperature

    def predict(
        self, texts: Sequence[str], *, embeddings: npt.NDArray[np.float32] | None = None
    ) -> list[Prediction]:
        """Route messages.

        Args:
            texts: Messages.
            embeddings: Precomputed embeddings of ``texts`` (skips encoding).

        Returns:
            One prediction per message, in order.
        """
        if not texts:
            return []
        emb = embeddings if embeddings is not None else self.encoder.encode(texts)
        probs, top, confidence = self._decide(texts, emb)
        labels, k = self.state.labels, self.state.config.top_k
        out: list[Prediction] = []
        for row, best, conf in zip(probs, top, confidence, strict=True):
            ranked = self._in_scope[np.argsort(-row[self._in_scope], kind="stable")[:k]]
            p_oos = float(row[self._oos_index]) if self._oos_index is not None else 0.0
            accept = conf >= self.state.threshold and p_oos < self.state.config.oos_refusal
            out.append(
                Prediction(
                    label=labels[best] if accept else None,
                    probability=float(conf),
                    top_label=labels[best],
                    alternatives=[Alternative(label=labels[i], probability=float(row[i])) for i in ranked],
                    oos_probability=p_oos,
                )
            )
        return out

    def save(self, directory: Path) -> None:
        """Write the router to ``directory`` (router.json + router.npz; no pickle)."""
        router_store.save(directory, state=self.state, featurizer=self.featurizer, arrays=self.arrays)

    @classmethod
    def load(cls, directory: Path, *, encoder: Encoder) -> IntentRouter:
        """Read a router written by :meth:`save`."""
        state_json, vocabulary, arrays = router_store.load(directory)
        state = RouterState.model_validate_json(state_json)
        featurizer = TfidfFeaturizer(vocabulary, arrays.pop("idf"))
        return cls(state=state, encoder=encoder, featurizer=featurizer, arrays=arrays)

    def _targets(self, labels: Sequence[str]) -> npt.NDArray[np.int64]:
        index = {lab: i for i, lab in enumerate(self.state.labels)}
        oos = self._oos_index if self._oos_index is not None else -1
        return np.array([index.get(lab, oos) for lab in labels], dtype=np.int64)

    def _member_log_probs(
        self, texts: Sequence[str], emb: npt.NDArray[np.float32]
    ) -> tuple[FloatArray, FloatArray]:
        a = self.arrays
        log_emb = log_softmax(emb.astype(np.float64) @ self._weights_t("emb_coef") + a["emb_intercept"])
        lex = self.featurizer.transform(texts)
        log_lex = log_softmax(
            np.asarray(lex @ self._weights_t("lex_coef"), dtype=np.float64) + a["lex_intercept"]
        )
        return log_emb, log_lex

    def _weights_t(self, name: str) -> npt.NDArray[np.floating[Any]]:
        # Transposed once, contiguously: per message, copying the n-gram weights (vocabulary x labels) cost
        # more than the product itself. The values and so the results are the same.
        if name not in self._transposed:
            dtype = np.float64 if name == "emb_coef" else self.arrays[name].dtype
            self._transposed[name] = np.ascontiguousarray(self.arrays[name].T, dtype=dtype)
        return self._transposed[name]

    def _mixed_probs(self, log_emb: FloatArray, log_lex: FloatArray) -> FloatArray:
        w, t = self.state.mix_weight, self.state.temperature
        return softmax(((1.0 - w) * log_emb + w * log_lex) / t)

    def _score(
        self, probs: FloatArray, knn: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.int64], FloatArray]:
        top = self._in_scope[probs[:, self._in_scope].argmax(axis=1)]
        return top, probs[np.arange(len(top)), top] * np.clip(knn, 1e-3, None)

    def _decide(
        self, texts: Sequence[str], emb: npt.NDArray[np.float32]
    ) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
        probs = self._mixed_probs(*self._member_log_probs(texts, emb))
        knn = top_k_similarity(emb, self.arrays["knn_bank"], k=self.state.config.knn_k)
        top, score = self._score(probs, knn)
        return probs, top, cal.platt(score, self.state.platt_a, self.state.platt_b)

    def _calibrate_arrays(
        self,
        log_emb: FloatArray,
        log_lex: FloatArray,
        knn: npt.NDArray[np.float32],
        targets: npt.NDArray[np.int64],
    ) -> None:
        is_oos = targets < 0 if self._oos_index is None else targets == self._oos_index
        known = targets >= 0
        if known.any():
            self.state.mix_weight, self.state.temperature = cal.fit_mixture(
                log_emb[known], log_lex[known], targets[known]
            )
        top, score = self._score(self._mixed_probs(log_emb, log_lex), knn)
        correct = (top == targets) & ~is_oos
        self.state.platt_a, self.state.platt_b = cal.fit_platt(score, correct)
        confidence = cal.platt(score, self.state.platt_a, self.state.platt_b)
        self.state.threshold = cal.choose_threshold(
            confidence, correct, is_oos, max_in_scope_drop=self.state.config.max_in_scope_drop
        )
        logger.info(
            "router calibrated",
            extra={
                "mix_weight": self.state.mix_weight,
                "temperature": self.state.temperature,
                "threshold": self.state.threshold,
                "n_dev": int(len(targets)),
            },
        )
