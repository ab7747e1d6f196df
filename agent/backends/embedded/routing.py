"""What the embedded backend routes a message with: the live router, its calibration, and an optional shadow.

The factory hands the backend a callable returning a ``Routing`` per message, so a promoted router or a new
shadow candidate applies from the next message without rebuilding the backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from agent.backends.embedded.calibration import JointCalibration
    from agent.backends.embedded.router import IntentRouter
    from agent.backends.embedded.router_models import Prediction


class ShadowHook(Protocol):
    """Decides on the same message with a candidate router and records it; never changes the live decision."""

    def __call__(
        self, *, text: str, routed: str, live: Prediction, embeddings: npt.NDArray[np.float32]
    ) -> None:
        """Record the candidate's choice on ``routed`` (the text the live router read) beside ``live``."""


@dataclass(frozen=True)
class Routing:
    """The live router and its calibration for one message, and the shadow candidate if one is set."""

    router: IntentRouter
    calibration: JointCalibration | None
    shadow: ShadowHook | None = None
