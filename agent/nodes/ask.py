"""Ask back: the gate said "clarify", so the operator is asked before anything runs.

``ask_back`` asks for a missing argument, explains an invalid one, or checks a low-confidence guess with a yes/no;
``disambiguate`` offers two close tools ("Did you mean …?"). Each leaves the question as the thread's ``pending``,
which ``understand`` resolves on the next message.
"""

from __future__ import annotations

from agent import replies as r
from agent.nodes.deps import ChatDeps, required
from agent.state import ChatState, ChatUpdate, Pending, Reply

LOW_CONFIDENCE_FLOOR = 0.3  # below this a guess is not worth a yes/no: the request reads as out of scope


def ask_back(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """Ask for a missing argument, explain an invalid one, or check a low-confidence guess."""
    plan = required(state.plan, "a plan")
    tool, args, view = plan.decision.tool, plan.shown_args, plan.view()
    if tool and plan.decision.missing:
        text, choices = r.ask_missing(deps.prompts, deps.registry, tool, plan.decision.missing[0])
        pending = Pending(
            kind="missing",
            tool=tool,
            args=args,
            missing=plan.decision.missing,
            confidence=plan.decision.confidence,
        )
        reply = Reply(text=text, decision=view, buttons=choices, kind="question")
        return {"reply": reply, "pending": pending}
    if tool and plan.invalid:
        text = deps.prompts.render("ask_invalid", tool=tool, problem=plan.invalid)
        return {"reply": Reply(text=text, decision=view, kind="question")}
    if tool and plan.decision.confidence >= LOW_CONFIDENCE_FLOOR:
        text = deps.prompts.render("ask_low_confidence", call=deps.prompts.wording.phrase(tool, args))
        pending = Pending(kind="low_confidence", tool=tool, args=args, confidence=plan.decision.confidence)
        reply = Reply(text=text, decision=view, buttons=["yes", "no"], kind="question")
        return {"reply": reply, "pending": pending}
    return {"reply": r.without_tool(deps.prompts, state.text, user=state.user, view=view)}


def disambiguate(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """Offer the chosen tool and its close runner-up, each as a one-tap choice."""
    plan = required(state.plan, "a plan")
    options = [required(plan.decision.tool, "a tool"), required(plan.runner_up, "a runner-up")]
    titles = [deps.prompts.wording.title(o) for o in options]
    text = deps.prompts.render("ask_ambiguous", options=r.or_list([t[0].lower() + t[1:] for t in titles]))
    pending = Pending(
        kind="choose",
        options=options,
        confidence=plan.decision.confidence,
        # The choice re-decides on the words that asked, restricted to the tool picked.
        text=plan.text if plan.text is not None else state.text,
    )
    reply = Reply(text=text, decision=plan.view(), buttons=[*titles, "neither"], kind="question")
    return {"reply": reply, "pending": pending}
