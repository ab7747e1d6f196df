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
from agent.backends.embedded.calibration import JointCalibration
from agent.backends.embedded.extract.schema import describe_schema
from agent.backends.embedded.extract.slots import ExtractedArgs, KnownEntities, extract_args, revise_args
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_examples import OOS_LABEL
from agent.backends.embedded.router_models import Prediction
from tools.registry import Registry

# Words that mark a message as a change to the previous call rather than a new request.
_FOLLOWUP = re.compile(
    r"^\s*(now|and|also|same|what about|how about|ok(ay)? (now|and)|then|instead|just|only|but)\b"
    r"|\b(instead|same (for|but|again)|as well|that one|do the same|again for|too)\b",
    re.I,
)
_ANAPHORA = re.compile(r"\b(that|it|them|those|this|the same|the result|the report)\b", re.I)
# A follow-up only adjusts a call; these verbs ask for something no tool does ("now drop the customers table").
_DESTRUCTIVE = re.compile(
    r"\b(delete|drop|remove|truncate|wipe|erase|purge|kill|cancel|refund|write[ -]?off|wire|unschedule|"
    r"turn off|disable|deactivate|shut ?down|revoke|grant)\b",
    re.I,
)
_DROP_OFF = re.compile(r"\bdrop\b.+\b(in|into|on|onto|to)\s+(the\s+)?\w", re.I)
_APPROVE_ALL = re.compile(r"\b(approve|sign off|accept)\s+(all|every|everything|them all)\b", re.I)
# Tools whose own job is removing or replacing data; for every other tool a destructive verb means "not a tool".
_REMOVES_DATA = frozenset({"normalize_dataset", "ingest_file"})
_NUMBER = re.compile(r"(?<![\w.-])#?(\d{1,9})(?![\w.-])")
# When a sales question names no report, the regional breakdown is the default view.
_SALES_WORDS = re.compile(r"\b(sales|sell|sells|sold|selling|revenue|turnover)\b", re.I)
FOLLOWUP_DISCOUNT = 0.97
# Out-of-scope class probability above which a router pick is not taken as a request of its own.
_OOS_LIKELY = 0.5


class EmbeddedBackend:
    """Maps a message to a Decision with no server and no download."""

    name = "embedded"

    def __init__(
        self,
        *,
        router: IntentRouter,
        registry: Registry,
        known: Callable[[], KnownEntities] | None = None,
        model: str = "minilm-l6-int8+ngram-lr",
        calibration: JointCalibration | None = None,
    ) -> None:
        self.router = router
        self.calibration = calibration
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
        update: dict[str, Any] = {"latency_ms": (time.perf_counter() - started) * 1000}
        if self.calibration is not None:
            update["confidence"] = round(
                self.calibration.apply(decision.confidence, has_tool=decision.tool is not None), 4
            )
        return decision.model_copy(update=update)

    # ---- internals ---------------------------------------------------------------------------------------------
    def _extract(self, tool: str, text: str, today: date) -> ExtractedArgs:
        known = self.known() if self.known else None
        return extract_args(text, schema=self._schemas[tool], today=today, known=known)

    def _decide(self, request: DecideRequest, prediction: Prediction, previous: Turn | None) -> Decision:
        alternatives = [
            Alternative(tool=a.label, probability=round(a.probability, 4))
            for a in prediction.alternatives
            if a.label != prediction.top_label and a.label in self.registry
        ]
        forced = (
            request.allowed_tools[0] if request.allowed_tools and len(request.allowed_tools) == 1 else None
        )
        tool = forced or (prediction.label if prediction.label in self.registry else None)
        if tool is not None and forced is None and _unsupported(request.text, tool):
            # "kill run 482", "unschedule the sync", "approve all": no tool does that; never map it onto one.
            return Decision(
                tool=None,
                confidence=0.9,
                alternatives=[
                    Alternative(tool=tool, probability=round(prediction.probability, 4)),
                    *alternatives,
                ],
                backend=self.name,
                model=self.model,
                notes=["unsupported action"],
            )
        p_tool = (
            prediction.probability if tool == prediction.top_label else _class_probability(prediction, tool)
        )
        # A pick the router itself finds more likely out of scope than not ("do a dry run first") does not
        # stand on its own; like a refusal, it is read against the thread before it is acted on.
        standalone = tool is not None and (forced is not None or prediction.oos_probability < _OOS_LIKELY)
        followup = (
            previous is not None
            and previous.tool in self.registry
            and self._is_followup(request.text, standalone, previous, request.today)
        )
        if followup:
            assert previous is not None and previous.tool is not None
            return self._followup(request, previous, tool, p_tool, alternatives)
        if tool is None:
            confidence = max(1.0 - prediction.probability, prediction.oos_probability)
            return Decision(
                tool=None,
                confidence=round(min(1.0, confidence), 4),
                tool_probability=0.0,
                alternatives=[
                    Alternative(tool=prediction.top_label, probability=round(prediction.probability, 4)),
                    *alternatives,
                ],
                backend=self.name,
                model=self.model,
            )
        found = self._extract(tool, request.text, request.today)
        args: dict[str, Any] = dict(found.values)
        args.update(self._defaults(tool, request.text, args))
        inherited = False
        if previous is not None and previous.tool and self._continues(request.text, tool, found, previous):
            # "export that as csv", "show me the top 20" right after a report, "ok place the order" right
            # after a quote: the thread supplies the rest.
            if previous.tool == tool:
                args.update(revise_args(previous.args, found.values, request.text))
            args, inherited = _inherit(args, previous.args, self._schemas[tool])
        missing = [m for m in [*found.missing, *found.ambiguous] if m not in args]
        confidence = p_tool * (FOLLOWUP_DISCOUNT if inherited else 1.0)
        return Decision(
            tool=tool,
            args=args,
            confidence=round(confidence, 4),
            tool_probability=round(p_tool, 4),
            missing=missing,
            alternatives=alternatives,
            backend=self.name,
            model=self.model,
            followup=inherited,
        )

    def _defaults(self, tool: str, text: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Fill what the words imply but no extractor names: a lone id number, the default sales report."""
        props = self._schemas[tool].get("properties", {})
        extra: dict[str, Any] = {}
        ids = [name for name in props if name.endswith("_id") and name not in args]
        numbers = _NUMBER.findall(text)
        if len(ids) == 1 and len(numbers) == 1 and sum(1 for n in props if n.endswith("_id")) == 1:
            extra[ids[0]] = int(numbers[0])  # "what happened to 9931?" → run_id 9931
        if "report" in props and "report" not in args and _SALES_WORDS.search(text):
            extra["report"] = "sales_by_region"
        return extra

    def _continues(self, text: str, tool: str, found: ExtractedArgs, previous: Turn) -> bool:
        """Whether a request for ``tool`` builds on the previous call, so its arguments may carry over.

        It does when it points back ("that", "it"), or when it lacks a required argument and either asks for
        the same tool again, reads as a follow-up ("now as a csv file"), or names nothing the previous call
        could not supply ("try again" after a run's status).
        """
        if _ANAPHORA.search(text):
            return True
        if not found.missing:
            return False
        if previous.tool == tool or _FOLLOWUP.search(text):
            return True
        carried, _ = _inherit({}, previous.args, self._schemas[tool])
        return all(name in carried for name in found.missing)

    def _is_followup(self, text: str, standalone: bool, previous: Turn, today: date) -> bool:
        """A message that changes a slot of the previous call ("now just EMEA", "as xml please").

        ``standalone`` says the router found a tool for the message on its own; such a message needs a
        follow-up word ("now", "instead", "also") to be read as a change to the previous call.
        """
        if _destructive(text):
            return False
        marker = bool(_FOLLOWUP.search(text))
        if standalone and not marker:
            return False  # a complete request of its own, even for the same tool
        found = self._extract(previous.tool or "", text, today)
        return bool(found.values) or bool(self._defaults(previous.tool or "", text, {}))

    def _followup(
        self,
        request: DecideRequest,
        previous: Turn,
        tool: str | None,
        p_tool: float,
        alternatives: list[Alternative],
    ) -> Decision:
        assert previous.tool is not None
        found = self._extract(previous.tool, request.text, request.today)
        changed = dict(found.values) or self._defaults(previous.tool, request.text, {})
        args = {**previous.args, **revise_args(previous.args, changed, request.text)}
        p_same = p_tool if tool == previous.tool else 0.0
        confidence = max(p_same, 0.9) * FOLLOWUP_DISCOUNT
        return Decision(
            tool=previous.tool,
            args=args,
            confidence=round(confidence, 4),
            tool_probability=round(confidence, 4),
            missing=[m for m in found.ambiguous if m not in args],
            alternatives=alternatives,
            backend=self.name,
            model=self.model,
            followup=True,
        )


def _unsupported(text: str, tool: str) -> bool:
    """A destructive or blanket verb that the chosen tool does not perform."""
    if _APPROVE_ALL.search(text):
        return True
    return tool not in _REMOVES_DATA and _destructive(text)


def _destructive(text: str) -> bool:
    verbs = {m.group(1).lower() for m in _DESTRUCTIVE.finditer(text)}
    if "drop" in verbs and _DROP_OFF.search(text):
        verbs.discard("drop")  # "drop the file in the finance folder" delivers it
    return bool(verbs)


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


def _inherit(
    args: dict[str, Any], previous: Mapping[str, Any], schema: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Carry over arguments from the previous call ("export that as csv").

    Same-named arguments carry over; so does a value that is a valid choice of exactly one unfilled enum
    argument under another name, since tools name the same thing differently ("explain credit hold" then
    "apply it": rule → ruleset; "export sales by region" then "just show me": dataset → report).
    """
    names = set(schema.get("properties", {}))
    carried = {k: v for k, v in previous.items() if k in names and k not in args and v is not None}
    for spec in describe_schema(schema):
        if spec.name in args or spec.name in carried or not spec.enum:
            continue
        fits = {v for k, v in previous.items() if k not in names and isinstance(v, str) and v in spec.enum}
        if len(fits) == 1:
            carried[spec.name] = fits.pop()
    return {**carried, **args}, bool(carried)


def oos_label() -> str:
    """The router's out-of-scope label (never a tool name)."""
    return OOS_LABEL
