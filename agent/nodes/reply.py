"""The end of a turn: the replies that need no plan (help, cancelled), and ``reply``, which remembers the turn.

The thread remembers the operator's words and the calls made (never their output), which is all the planner ever
sees of earlier turns; the per-turn intent, checked arguments and plan are dropped here.
"""

from __future__ import annotations

from agent import replies as r
from agent.nodes.deps import ChatDeps
from agent.state import ChatState, ChatUpdate, Reply, Route, Turn

MAX_TURNS = 12
# The routes whose call the thread remembers, so a follow-up ("now just EMEA") can change it.
REMEMBERED: frozenset[Route] = frozenset({"execute", "confirm", "approve", "shadow"})


def help_(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """List the tools this user may use."""
    text = r.help_text(deps.prompts, deps.registry, user=state.user, role=state.acting_role)
    return {"reply": Reply(text=text, kind="info")}


def cancelled(deps: ChatDeps, _state: ChatState) -> ChatUpdate:
    """The operator said no to the pending question."""
    return {"reply": Reply(text=deps.prompts.render("confirm_cancelled"), kind="info")}


def reply(state: ChatState) -> ChatUpdate:
    """Remember the operator's words and the call made, and drop this turn's plan."""
    turns = [*state.turns, Turn(role="user", text=state.text)]
    plan = state.plan
    if plan is not None and plan.decision.tool and plan.route in REMEMBERED:
        run_id = state.reply.run_id if state.reply is not None else None
        turns.append(Turn(role="assistant", tool=plan.decision.tool, args=plan.shown_args, run_id=run_id))
    return {"turns": turns[-MAX_TURNS:], "intent": None, "checked": None, "plan": None, "command": None}
