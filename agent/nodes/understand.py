"""Understand: what does this message ask for?

Help, a "no" to the thread's pending question, an answer to it (yes, the missing argument, one of the offered
tools), or a new request for the backend to decide on. An answer that does not fit the question is a new request.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig

from agent import replies as r
from agent.backends.base import DecideRequest, Decision
from agent.nodes.deps import ChatDeps, source_of, subject_of
from agent.references import resolve_results
from agent.state import ChatState, ChatUpdate, Intent, Pending

CONTEXT_TURNS = 6  # earlier words and calls the backend sees, for follow-ups ("now just EMEA")
CHOSEN_CONFIDENCE = 0.9  # the operator picked the tool themselves
# Slots any text can fill: an answer to "What message should I send?" is the message, whatever it says.
FREE_TEXT = frozenset({"message", "query"})
ANSWER_WORDS = 4  # a reply this short to "which ...?" is an answer, whatever else it could be read as


def understand(deps: ChatDeps, state: ChatState, config: RunnableConfig) -> ChatUpdate:
    """Read the message: help, an answer to the pending question, or a new decision from the backend."""
    if r.is_help(state.text):
        return {"command": "help", "pending": None}
    if state.pending is not None:
        noted = {"source": source_of(config), "subject": subject_of(config)}  # where a correction was made
        if r.is_no(state.text):
            if deps.corrections is not None:  # a "no" to the agent's guess is a correction to learn from
                deps.corrections.declined(state=state, **noted)
            return {"command": "cancel", "pending": None}
        answered = _answer(deps, state.pending, state.text)
        if answered is not None:
            if answered.source == "choice" and answered.decision.tool and deps.corrections is not None:
                chosen, args = answered.decision.tool, answered.decision.args
                deps.corrections.other_choice(state=state, chosen=chosen, args=args, **noted)
            return {"intent": answered, "pending": None}
    if state.proposal is not None:
        # The interface knows what this turn asks for (a file was uploaded): the text, which may quote data (a
        # file's name), is not read for it. The call still goes through the argument check and the gate.
        return {"intent": Intent(decision=state.proposal, text=state.text), "pending": None}
    decision = deps.backend.decide(
        DecideRequest(
            text=state.text,
            context=state.turns[-CONTEXT_TURNS:],
            today=deps.runner.reference_date(),
            allowed_tools=[spec.name for spec in deps.registry.for_role(state.acting_role)],
        )
    )
    decision = resolve_results(
        decision, text=state.text, turns=state.turns, runs=deps.runner.runs, prompts=deps.prompts
    )
    return {"intent": Intent(decision=decision, text=state.text), "pending": None}


def _answer(deps: ChatDeps, pending: Pending, text: str) -> Intent | None:
    """The intent an answer to ``pending`` completes, or None when ``text`` does not answer it."""
    if pending.kind in ("confirm", "low_confidence") and pending.tool and r.is_yes(text):
        decision = Decision(
            tool=pending.tool,
            args=pending.args,
            confidence=1.0,
            tool_probability=1.0,
            backend="operator-confirmed",
        )
        return Intent(decision=decision, source="confirmed", text=pending.text, confirms=pending.id)
    if pending.kind == "missing" and pending.tool:
        found = deps.fill_slots(pending.tool, text, deps.runner.reference_date(), pending.missing)
        if found and (set(pending.missing) <= FREE_TEXT or _is_answer(deps, pending.tool, text)):
            decision = Decision(
                tool=pending.tool,
                args={**pending.args, **found},
                confidence=pending.confidence,
                tool_probability=pending.confidence,
                backend="operator-answer",
            )
            return Intent(decision=decision, source="answer")
    if pending.kind == "choose":
        choice = choose(
            text, pending.options, titles=[deps.prompts.wording.title(o) for o in pending.options]
        )
        if choice:
            decided = deps.backend.decide(
                DecideRequest(
                    text=pending.text or text, today=deps.runner.reference_date(), allowed_tools=[choice]
                )
            )
            decision = decided.model_copy(
                update={"tool": choice, "confidence": max(decided.confidence, CHOSEN_CONFIDENCE)}
            )
            return Intent(decision=decision, source="choice")
    return None


def _is_answer(deps: ChatDeps, tool: str, text: str) -> bool:
    """A value for the slot that was asked, not a new request that happens to contain one.

    A short reply ("the finance share", "1042") answers; a longer one answers only when, read on its own, it
    asks for the same tool or for none. "email finance that the report is late" after "Which destination?" is a
    new request and gets its own decision.
    """
    if len(text.split()) <= ANSWER_WORDS:
        return True
    alone = deps.backend.decide(DecideRequest(text=text, today=deps.runner.reference_date()))
    return alone.tool in (None, tool)


def choose(text: str, options: list[str], *, titles: list[str] | None = None) -> str | None:
    """The option an answer picks: its title (a button), its position ("the second one") or a word of its name."""
    folded = text.lower()
    for option, title in zip(options, titles or [], strict=False):
        if folded.strip() == title.lower():
            return option
    for ordinal, index in (("first", 0), ("1", 0), ("second", 1), ("2", 1)):
        if folded.strip() in (ordinal, f"the {ordinal}", f"the {ordinal} one") and index < len(options):
            return options[index]
    hits = [o for o in options if any(word in folded for word in o.split("_") if len(word) > 3)]
    return hits[0] if len(hits) == 1 else None
