"""The embedded backend: intent router for the tool, typed extractors for the arguments, thread-aware follow-ups.

It runs offline from models shipped inside PyPI packages. Confidence is the router's calibrated probability that
the tool is right, discounted when an argument had to be guessed from an earlier turn; missing and ambiguous
arguments are reported as ``missing`` so the graph asks back instead of guessing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from agent.backends.base import Alternative, DecideRequest, Decision, Turn
from agent.backends.embedded import dialogue, signals
from agent.backends.embedded.calibration import JointCalibration
from agent.backends.embedded.dialogue_time import THAT_ONE, count_beside
from agent.backends.embedded.entities import EntityIndex, Tagged, typed_names
from agent.backends.embedded.extract.booleans import extract_dry_run
from agent.backends.embedded.extract.periods import extract_period
from agent.backends.embedded.extract.slots import ExtractedArgs, KnownEntities, extract_args, revise_args
from agent.backends.embedded.places import named_refusal, target_refusal
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_models import Prediction
from agent.backends.embedded.routing import Routing
from agent.backends.embedded.speech_acts import SpeechAct, as_typed, before_aside, read_speech_act
from agent.backends.embedded.stray import doubt
from agent.backends.embedded.thread_customer import ANOTHER_NAME, PERSON, pronoun_customer
from tools.registry import Registry

_FOLLOWUP, _ANAPHORA = dialogue.FOLLOWUP_WORD, dialogue.POINTS_BACK
FOLLOWUP_DISCOUNT = 0.97
# A call lacking a required argument cannot be right as it stands: its confidence stays below every threshold.
INCOMPLETE_CAP = 0.5
# A complete call that extraction doubts (see stray.doubt) is checked with the operator before it runs.
DOUBT_CAP = 0.55
REFERENCE_CONFIDENCE = 0.9  # a short message resolved against the previous call ("how'd that go", "go ahead")
# Free-text slots: a value for one alone is no evidence of a follow-up ("great, thanks" is no customer search).
_FREE_TEXT = frozenset({"query", "message", "recipient", "file", "path"})
_OOS_LIKELY = 0.5  # out-of-scope probability above which a router pick is no request of its own
_FOCUS_FIRM = 0.7  # below it, a focusing clause's reading yields to all the clauses that ask
_NEW_REQUEST = 0.9  # from it, the router's pick of another tool than the thread's is a new request


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
        routing: Callable[[], Routing] | None = None,
    ) -> None:
        """Route with ``router`` and ``calibration``, or with what ``routing`` returns for each message."""
        self.router = router
        self._routing = routing
        self.calibration = calibration
        self.registry = registry
        self.known = known
        self.model = model
        self._schemas = {name: spec.args_model.model_json_schema() for name, spec in registry.items()}
        self._entities: tuple[KnownEntities, EntityIndex] | None = None

    def decide(self, request: DecideRequest) -> Decision:
        """Route, extract, resolve follow-ups against the thread, and score."""
        started = time.perf_counter()
        known = self.known() if self.known else None
        request = request.model_copy(update={"text": as_typed(request.text, known.skus if known else ())})
        speech = read_speech_act(request.text)
        index = self._index()
        routing = self._routing() if self._routing else Routing(self.router, self.calibration)
        asked = speech.ask
        tagged, routed, embeddings, prediction = self._route(routing, index, asked)
        if asked != speech.args_text and (prediction.label is None or prediction.probability < _FOCUS_FIRM):
            # "what would 300 C-55 cost 1187? Don't order, I only want the price": the focus says too little alone,
            # but never for the call it holds back ("order 40 A100X, don't place it yet, just quote")
            whole = self._route(routing, index, speech.args_text)
            label = whole[3].label or ""
            held = speech.holds(label) and "dry_run" not in self._props(label)  # a preview is never held back
            if label and whole[3].probability > prediction.probability and not held:
                asked, (tagged, routed, embeddings, prediction) = speech.args_text, whole
        if prediction.label is None and (head := before_aside(asked)) is not None:
            # "I need every product as a CSV — the stall is doing a stocktake": the statement after asks nothing
            first = self._route(routing, index, head)
            if first[3].label is not None and first[3].probability >= _NEW_REQUEST:
                tagged, routed, embeddings, prediction = first
        named = self._named(index, tagged if speech.args_text == asked else speech.args_text)
        if routing.shadow is not None and request.forced_tool is None:
            # The candidate reads the same embedding: shadowing costs its classifiers, not a second encoding.
            routing.shadow(text=request.text, routed=routed, live=prediction, embeddings=embeddings)
        previous = dialogue.last_call(request.context)
        decision = self._decide(request, prediction, previous, speech, named)
        update: dict[str, Any] = {"latency_ms": (time.perf_counter() - started) * 1000}
        confidence = decision.confidence
        if routing.calibration is not None:
            confidence = routing.calibration.apply(confidence, has_tool=decision.tool is not None)
        props = self._props(decision.tool) if decision.tool else {}
        if decision.tool is not None and decision.missing:
            confidence = min(confidence, INCOMPLETE_CAP)
        elif props and (why := doubt(request.text, speech.args_text, decision.args, props)):
            # "Same for EMEA, and give me 10" answered with the top 10 kept: asked before it runs, saying why
            confidence, update["notes"] = min(confidence, DOUBT_CAP), [*decision.notes, why]
        update["confidence"] = round(confidence, 4)
        return decision.model_copy(update=update)

    # ---- internals ---------------------------------------------------------------------------------------------
    def _route(
        self, routing: Routing, index: EntityIndex | None, text: str
    ) -> tuple[Tagged, str, Any, Prediction]:
        """The router's reading of ``text`` with the database's names typed, and what it read."""
        tagged = index.tag(text) if index is not None else Tagged(text, ())
        routed = signals.quoted_as_payload(tagged.text)
        embeddings = routing.router.encoder.encode([routed])
        return tagged, routed, embeddings, routing.router.predict([routed], embeddings=embeddings)[0]

    def _index(self) -> EntityIndex | None:
        """The names of the database's customers and products, rebuilt when the loaded entities change."""
        known = self.known() if self.known else None
        if known is None or not (known.customers or known.products):
            return None
        if self._entities is None or self._entities[0] is not known:
            self._entities = (known, EntityIndex(known.customers, known.products))
        return self._entities[1]

    def _named(self, index: EntityIndex | None, text: str | Tagged) -> dict[str, Any]:
        """Argument values the message gives by name (see :meth:`EntityIndex.named_args`)."""
        return index.named_args(text) if index is not None else {}

    def _extract(
        self, tool: str, text: str, today: date, named: dict[str, Any] | None = None
    ) -> ExtractedArgs:
        known = self.known() if self.known else None
        return extract_args(text, schema=self._schemas[tool], today=today, known=known, named=named)

    def _decide(
        self,
        request: DecideRequest,
        prediction: Prediction,
        previous: Turn | None,
        speech: SpeechAct,
        named: dict[str, Any],
    ) -> Decision:
        alternatives = [
            Alternative(tool=a.label, probability=round(a.probability, 4))
            for a in prediction.alternatives
            if a.label != prediction.top_label and a.label in self.registry
        ]
        forced = request.forced_tool
        tool = forced or (prediction.label if prediction.label in self.registry else None)
        if forced is None and speech.asks_nothing:
            # "please don't send anything to the bank today": nothing is asked for.
            return self._no_tool(0.9, "the message only says what not to do", tool, prediction, alternatives)
        reference = self._reference(request, previous, forced, speech.args_text)
        if reference is not None:
            return reference.model_copy(update={"alternatives": alternatives})
        if tool is not None and forced is None and speech.holds(tool) and "dry_run" not in self._props(tool):
            # "book 10 B200 for 1042 but don't submit it yet": told not to act, so no call at all.
            return self._no_tool(0.9, "asked not to act yet", tool, prediction, alternatives).model_copy(
                update={"refusal": "You asked me not to do that yet, so nothing was started."}
            )
        contacted = signals.contacts_customer(typed_names(self._index(), speech.args_text))
        if tool and not forced and (signals.unsupported(speech.args_text, tool) or contacted):
            # "kill run 482", "approve all", "email Acme their numbers": no tool does that; never map it onto one.
            # When it is a delivery to a place that is none of ours ("… via their portal"), the refusal names ours.
            unsupported_ = self._no_tool(0.9, "unsupported action", tool, prediction, alternatives)
            refusal = named_refusal(speech.args_text) or (signals.FOR_CUSTOMERS if contacted else None)
            return unsupported_.model_copy(update={"refusal": refusal})
        p_tool = prediction.probability_of(tool)
        # A pick the router itself finds more likely out of scope than not ("do a dry run first") does not
        # stand on its own; like a refusal, it is read against the thread before it is acted on.
        standalone = tool is not None and (forced is not None or prediction.oos_probability < _OOS_LIKELY)
        # "now tidy up the orders table" after a load: a firm pick of another tool is a request of its own
        anew = standalone and p_tool >= _NEW_REQUEST and dialogue.asks_anew(request.text)
        followup = (
            previous is not None
            and previous.tool in self.registry
            and not (anew and tool != previous.tool)
            and self._is_followup(speech.args_text, standalone, previous, request.today)
        )
        if followup:
            assert previous is not None and previous.tool is not None
            return self._followup(request, previous, tool, p_tool, alternatives)
        if tool is None:  # "upload it to the Leeds office", "run the payroll flow": say what there is instead
            confidence = round(min(1.0, max(1.0 - prediction.probability, prediction.oos_probability)), 4)
            out_of_scope = self._no_tool(confidence, None, None, prediction, alternatives)
            return out_of_scope.model_copy(update={"refusal": named_refusal(speech.args_text)})
        found = self._extract(tool, speech.args_text, request.today, named)
        args: dict[str, Any] = dict(found.values)
        args.update(self._defaults(tool, speech.args_text, args))
        if forced is None and (refused := target_refusal(speech.args_text, tool, args)):
            # "send the latest export to the auditors' portal", "run the fleet flow": never a guess at another one
            return self._no_tool(
                0.9, "no such destination or flow", tool, prediction, alternatives
            ).model_copy(update={"refusal": refused})
        if speech.negated:  # "don't go digging into run 340, just retry it": the id is still the run's
            args.update(
                {k: v for k, v in self._defaults(tool, request.text, args).items() if k.endswith("_id")}
            )
        if "dry_run" in self._props(tool) and speech.negated:
            # "apply credit hold, but nothing should actually change": the negation is the argument.
            dry_run = extract_dry_run(request.text)
            if dry_run is not None:
                args["dry_run"] = dry_run
        inherited = False
        if previous is not None and previous.tool and self._continues(request.text, tool, found, previous):
            # "export that as csv", "show me the top 20" right after a report, "ok place the order" right
            # after a quote: the thread supplies the rest.
            if previous.tool == tool:
                args.update(revise_args(previous.args, found.values, request.text))
            args, inherited = signals.inherit(args, dialogue.previous_args(previous), self._schemas[tool])
        if dialogue.keeps_preview(previous, tool, found.values):
            args["dry_run"] = True  # a preview becomes real only when asked: "go ahead", "for real"
        if "client_id" in self._props(tool) and "client_id" not in args:
            # "what would they pay for 200 B300" after a lookup: the pronoun is the thread's customer.
            client = pronoun_customer(speech.args_text, request.context, index=self._index())
            args, inherited = ({**args, "client_id": client}, True) if client else (args, inherited)
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

    def _props(self, tool: str) -> Mapping[str, Any]:
        return self._schemas[tool].get("properties", {})  # type: ignore[no-any-return]

    def _no_tool(
        self,
        confidence: float,
        note: str | None,
        tool: str | None,
        prediction: Prediction,
        alternatives: list[Alternative],
    ) -> Decision:
        return Decision(
            tool=None,
            confidence=confidence,
            alternatives=[
                Alternative(tool=tool or prediction.top_label, probability=round(prediction.probability, 4)),
                *alternatives,
            ],
            backend=self.name,
            model=self.model,
            notes=[note] if note else [],
        )

    def _reference(
        self, request: DecideRequest, previous: Turn | None, forced: str | None, asked: str
    ) -> Decision | None:
        """A short message pointing back ("how'd that go"); ``asked`` lacks its negated clauses ("don't retry…")."""
        if previous is None or forced is not None:
            return None
        required = self._schemas.get(previous.tool or "", {}).get("required", [])
        reference = dialogue.resolve_reference(asked, previous, today=request.today)
        reference = reference or dialogue.answer_to_lack(
            request.text,
            previous,
            required=required,
            extract=lambda t, x: self._extract(t, x, request.today).values,
        )
        allowed = request.allowed_tools
        if reference is None or (allowed is not None and reference.tool not in allowed):
            return None
        args = dict(reference.args)
        missing: list[str] = []
        if reference.reads_text:
            text = THAT_ONE.sub(" ", request.text)  # "go ahead with that one" orders no single unit
            found = self._extract(reference.tool, text, request.today, self._named(self._index(), text))
            args.update(found.values)
            missing = [m for m in [*found.missing, *found.ambiguous] if m not in args]
        dry_run = extract_dry_run(request.text) if "dry_run" in self._props(reference.tool) else None
        if dry_run is not None and "dry_run" not in args:
            args["dry_run"] = dry_run  # "now apply it, as a dry run only", after the rule was explained
        return Decision(
            tool=reference.tool,
            args=args,
            missing=missing,
            confidence=REFERENCE_CONFIDENCE,
            tool_probability=REFERENCE_CONFIDENCE,
            backend=self.name,
            model=self.model,
            followup=True,
            notes=[f"read as {reference.why}"] if reference.why else [],
        )

    def _defaults(self, tool: str, text: str, args: Mapping[str, Any]) -> dict[str, Any]:
        return dialogue.implied_args(self._schemas[tool].get("properties", {}), text, args)

    def _continues(self, text: str, tool: str, found: ExtractedArgs, previous: Turn) -> bool:
        """Whether a request for ``tool`` builds on the previous call, so its arguments may carry over.

        It points back ("that"), or lacks a required argument and asks for the same tool again, reads as a
        follow-up ("now as a csv"), or names nothing the previous call could not supply ("try again").
        """
        if _ANAPHORA.search(text):
            return True
        if not found.missing:
            return False
        if previous.tool == tool or _FOLLOWUP.search(text):
            return True
        carried, _ = signals.inherit({}, previous.args, self._schemas[tool])
        return all(name in carried for name in found.missing)

    def _is_followup(self, text: str, standalone: bool, previous: Turn, today: date) -> bool:
        """A message that changes a slot of the previous call ("now just EMEA", "as xml please").

        ``standalone`` says the router found a tool for the message on its own; such a message needs a
        follow-up word ("now", "instead", "also") to be read as a change to the previous call.
        """
        # "deliver it to our HubSpot account" after an export: a place no destination is, so nothing to continue
        files = previous.tool in ("deliver_file", "export_dataset") and named_refusal(text)
        if signals.unsupported(text, previous.tool or "") or files or dialogue.CLOSING.search(text):
            return False  # "now delete what you loaded", "thanks, that will be all": nothing to continue
        if previous.tool == "lookup_customer" and PERSON.search(text) and not ANOTHER_NAME.search(text):
            return False  # a pronoun after a lookup is that customer, never the next one to look up
        # "the same message to the ops group" marks a follow-up as "now" or "instead" do; so does a marker that opens
        # the last sentence ("That's only ten. Make it the top 25") or follows a courtesy ("tidy, now just emea").
        ends = (dialogue.value_sentences(text)[-1], dialogue.request_part(text))
        marker = bool(
            _FOLLOWUP.search(text)
            or any(_FOLLOWUP.search(e) for e in ends)
            or dialogue.SAME_PAYLOAD.search(text)
        )
        if not (marker or _ANAPHORA.search(text) or dialogue.is_short(text)):
            return False  # a long message needs a word that points back ("by the way, what is ... Australia")
        if standalone and not marker:
            return False  # a complete request of its own, even for the same tool
        kept = dialogue.kept_text(text)  # "B300, not B200" names one product
        by_name = self._named(self._index(), kept)
        found = self._extract(previous.tool or "", kept, today, by_name)
        typed = {k: v for k, v in found.values.items() if k not in _FREE_TEXT}
        # "No, no — Stark Retail specifically." after a lookup: a customer of the database's is the next one
        named = previous.tool == "lookup_customer" and "client_id" in by_name
        if typed or named or self._defaults(previous.tool or "", text, {}):
            return True
        # A free-text value ("and Globex?") counts only when the message reads as a follow-up, and never when
        # it is really a period ("the same for last month" is no customer called "last month").
        if extract_period(text, today=today) is not None and "period" not in self._props(previous.tool or ""):
            return False
        # "Thank you. Set out the criteria that apply to such an account": no customer is named there.
        swallowed = signals.swallowed(kept, found.values)
        return (marker or bool(_ANAPHORA.search(text))) and bool(found.values) and swallowed is None

    def _followup(
        self,
        request: DecideRequest,
        previous: Turn,
        tool: str | None,
        p_tool: float,
        alternatives: list[Alternative],
    ) -> Decision:
        assert previous.tool is not None
        # "the same message to sales" keeps the message; "make it 20 and EMEA only" sets the count too.
        changed: dict[str, Any] = dict(count_beside(request.text, previous.args))
        for sentence in dialogue.value_sentences(request.text):  # a later sentence's value wins
            kept = dialogue.kept_text(sentence)
            found = self._extract(previous.tool, kept, request.today, self._named(self._index(), kept))
            values = found.values or self._defaults(previous.tool, kept, {})
            # A typed value said later wins; free text ("and Wingtip Foods? They owe me a call") is said first.
            changed.update({k: v for k, v in values.items() if k not in _FREE_TEXT or k not in changed})
        # dry_run reads all the words: kept_text drops the "not" of "not as a dry run".
        if "dry_run" in self._props(previous.tool) and (dry_run := extract_dry_run(request.text)) is not None:
            changed["dry_run"] = dry_run
        if dialogue.SAME_PAYLOAD.search(request.text):
            changed.pop("message", None)
        args = {**previous.args, **revise_args(previous.args, changed, dialogue.kept_text(request.text))}
        p_same = p_tool if tool == previous.tool else 0.0
        # Evidence, not the thread, carries the confidence: a follow-up word and a typed value for a slot of the
        # previous call, or a short message that is little more than that value.
        marker = bool(_FOLLOWUP.search(request.text) or _ANAPHORA.search(request.text))
        evidence = 0.95 if marker else (0.9 if dialogue.is_short(request.text) else 0.6)
        confidence = max(p_same, evidence) * FOLLOWUP_DISCOUNT
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
