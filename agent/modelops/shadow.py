"""Shadow mode: a candidate router decides on live messages beside the live router, and only its choice is kept.

``ShadowRecorder`` is the embedded backend's shadow hook: it reuses the message's embedding (the candidate was
trained on the same encoder), so the added cost per message is the candidate's classifiers (no second encoding)
and one audit append: measured about 4 ms for a full-size candidate on SQLite. It writes a ``router.shadow`` record (``ShadowData``) and returns nothing, so it cannot change what
the agent does; a failure to record is logged and swallowed, never raised into the turn.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_examples import OOS_LABEL
from agent.backends.embedded.router_models import Prediction
from agent.modelops.events import SHADOW_EVENT, RouterChoice, ShadowData
from core.errors import AuditUnavailable
from core.store.audit import AuditLog

logger = logging.getLogger(__name__)
SHADOW_ACTOR = "router-shadow"


def choice_of(prediction: Prediction) -> RouterChoice:
    """A router's choice as the audit record shows it (out of scope or refused: no tool)."""
    tool = None if prediction.label == OOS_LABEL else prediction.label
    return RouterChoice(tool=tool, confidence=round(min(1.0, max(0.0, prediction.probability)), 4))


def compare(
    *,
    texts: Sequence[str],
    routed: Sequence[str],
    live: IntentRouter,
    candidate: IntentRouter,
    live_fingerprint: str,
    candidate_fingerprint: str,
) -> list[ShadowData]:
    """Both routers' choices on each message (``routed``: the text as the router reads it), one encoding each."""
    if not texts:
        return []
    embeddings = live.encoder.encode(list(routed))
    live_predictions = live.predict(list(routed), embeddings=embeddings)
    candidate_predictions = candidate.predict(list(routed), embeddings=embeddings)
    return [
        ShadowData(
            text=text,
            live=choice_of(mine),
            candidate=choice_of(theirs),
            live_fingerprint=live_fingerprint,
            candidate_fingerprint=candidate_fingerprint,
        )
        for text, mine, theirs in zip(texts, live_predictions, candidate_predictions, strict=True)
    ]


class ShadowRecorder:
    """The backend's shadow hook for one candidate (see the module docstring)."""

    def __init__(
        self,
        *,
        candidate: IntentRouter,
        candidate_fingerprint: str,
        live_fingerprint: str,
        audit: AuditLog,
    ) -> None:
        """Shadow ``candidate`` beside the live router ``live_fingerprint``, recording to ``audit``."""
        self.candidate = candidate
        self.candidate_fingerprint = candidate_fingerprint
        self.live_fingerprint = live_fingerprint
        self.audit = audit

    def __call__(
        self, *, text: str, routed: str, live: Prediction, embeddings: npt.NDArray[np.float32]
    ) -> None:
        """Decide with the candidate on the same embedding and audit both choices."""
        try:
            theirs = self.candidate.predict([routed], embeddings=embeddings)[0]
            data = ShadowData(
                text=text,
                live=choice_of(live),
                candidate=choice_of(theirs),
                live_fingerprint=self.live_fingerprint,
                candidate_fingerprint=self.candidate_fingerprint,
            )
            self.audit.append(
                SHADOW_EVENT,
                actor=SHADOW_ACTOR,
                subject=f"router:{self.candidate_fingerprint}",
                data=data.model_dump(mode="json"),
            )
        except AuditUnavailable as exc:
            logger.warning("shadow decision not recorded: %s", exc.message)
        except Exception:  # a shadow must never break a live turn
            logger.exception("shadow candidate %s failed on a message", self.candidate_fingerprint)
