"""The embedded backend: intent router for the tool, typed extractors for the arguments, thread-aware follow-ups.

It runs offline from models shipped inside PyPI packages. Confidence is the router's calibrated probability that
the tool is right, discounted when an argument had to be guessed from an earlier turn; missing and ambiguous
arguments are reported as ``missing`` so the graph asks back instead of guessing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from agent.backends.base import Alternative, DecideRequest, Decision, Turn
from agent.backends.embedded.extract.slots import ExtractedArgs, KnownEntities, extract_args
from agent.backends.embedded.router import IntentRouter, Prediction
from agent.backends.embedded.router_examples import OOS_LABEL
from tools.registry import Registry

# Words that mark a message as a change to the previous call rather than a new request.
_FOLLOWUP = re.compile(
    r"^\s*(now|and|also|same|what about|how about|ok(ay)? (now|and)|then|instead|just|only|but)\b"
    r"|\b(instead|same (for|but|again)|as well|that one|do the same|again for|too)\b",
    re.I,
)
_ANAPHORA = re.compile(r"\b(that|it|them|those|this|the same|the result|the report)\b", re.I)
FOLLOWUP_DISCOUNT = 0.97


class EmbeddedBackend:
    """Maps a message to a Decision with no server and no download."""

    name = "embedded"

    def __init__(
        self, *, router: IntentRouter, registry: Registry, known: Callable[[], KnownEntities] | None = None,
        model: str = "minilm-l6-int8+ngram-lr",
    ) -> None:
        self.router = router
        self.registry = registry
        self.known = known
        self.model = model
        self._schemas = {name: spec.args_model.model_json_schema() for name, spec in registry.items()}

    def decide(self, request: DecideRequest) -> Decision:
        """Route, extract, resolve follow-ups against the thread, and score."""
        started = time.perf_counter()
        prediction = self.router.predict([request.text])[0]
        previous = _last_call(request.context)
        decision = self._decide(request, prediction, previous)
        return decision.model_copy(update={"latency_ms": (time.perf_counter() - started) * 1000})

    # ---- internals ---------------------------------------------------------------------------------------------
    def _extract(self, tool: str, text: str, today: date) -> ExtractedArgs:
        known = self.known() if self.known else None
        return extract_args(text, schema=self._schemas[tool], today=today, known=known)

    def _decide(self, request: DecideRequest, prediction: Prediction, previous: Turn | None) -> Decision:
        alternatives = [
            Alternative(tool=a.label, probability=round(a.probability, 4))
            for a in prediction.alternatives if a.label != prediction.top_label and a.label in self.registry
        ]
        forced = request.allowed_tools[0] if request.allowed_tools and len(request.allowed_tools) == 1 else None
        tool = forced or (prediction.label if prediction.label in self.registry else None)
        p_tool = prediction.probability if tool == prediction.top_label else _class_probability(prediction, tool)
        followup = previous is not None and previous.tool in self.registry and self._is_followup(request.text, tool, previous, request.today)
        if followup:
            assert previous is not None and previous.tool is not None
            return self._followup(request, previous, tool, p_tool, alternatives)
        if tool is None:
            confidence = max(1.0 - prediction.probability, prediction.oos_probability)
            return Decision(tool=None, confidence=round(min(1.0, confidence), 4), tool_probability=0.0,
                            alternatives=[Alternative(tool=prediction.top_label, probability=round(prediction.probability, 4)),
                                          *alternatives], backend=self.name, model=self.model)
        found = self._extract(tool, request.text, request.today)
        args: dict[str, Any] = dict(found.values)
        inherited = False
        if previous is not None and previous.tool and _ANAPHORA.search(request.text):
            args, inherited = _inherit(args, previous.args, self._schemas[tool])
        missing = [m for m in [*found.missing, *found.ambiguous] if m not in args]
        confidence = p_tool * (FOLLOWUP_DISCOUNT if inherited else 1.0)
        return Decision(tool=tool, args=args, confidence=round(confidence, 4), tool_probability=round(p_tool, 4),
                        missing=missing, alternatives=alternatives, backend=self.name, model=self.model,
                        followup=inherited)

    def _is_followup(self, text: str, tool: str | None, previous: Turn, today: date) -> bool:
        """A message that changes a slot of the previous call ("now just EMEA", "as xml please")."""
        marker = bool(_FOLLOWUP.search(text))
        if tool is not None and not marker:
            return False  # a complete request of its own, even for the same tool
        return bool(self._extract(previous.tool or "", text, today).values)

    def _followup(
        self, request: DecideRequest, previous: Turn, tool: str | None, p_tool: float, alternatives: list[Alternative],
    ) -> Decision:
        assert previous.tool is not None
        found = self._extract(previous.tool, request.text, request.today)
        args = {**previous.args, **found.values}
        p_same = p_tool if tool == previous.tool else 0.0
        confidence = max(p_same, 0.9) * FOLLOWUP_DISCOUNT
        return Decision(tool=previous.tool, args=args, confidence=round(confidence, 4), tool_probability=round(confidence, 4),
                        missing=[m for m in found.ambiguous if m not in args], alternatives=alternatives,
                        backend=self.name, model=self.model, followup=True)


def _last_call(context: list[Turn]) -> Turn | None:
    for turn in reversed(context):
        if turn.role == "assistant" and turn.tool:
            return turn
    return None


def _class_probability(prediction: Prediction, tool: str | None) -> float:
    for alt in prediction.alternatives:
        if alt.label == tool:
            return alt.probability
    return 0.0


def _inherit(args: dict[str, Any], previous: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Carry over same-named arguments from the previous call ("export that as csv")."""
    names = set(schema.get("properties", {}))
    carried = {k: v for k, v in previous.items() if k in names and k not in args and v is not None}
    return {**carried, **args}, bool(carried)


def oos_label() -> str:
    """The router's out-of-scope label (never a tool name)."""
    return OOS_LABEL
