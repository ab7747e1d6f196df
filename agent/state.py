"""The typed turn: what the chat graph's nodes read and write, the reply interfaces render, the approval state.

One chat turn carries one object that grows as it moves through the graph: ``Intent`` (understand: the backend's
decision and where it came from) → ``Checked`` (check arguments: bound once into a ``BoundCall``, or what is missing
or invalid) → ``Plan`` (gate: the policy's verdict). Each stage extends the one before, so nothing is copied field
by field. ``DecisionView`` is what a reply shows of a plan; the audit record (``DecisionRecord``) and the console's
``DecisionOut`` extend it.

The thread's checkpoint keeps the operator's words and the calls made (``turns``), the question it waits on
(``pending``) and the last reply; the per-turn objects are dropped by the ``reply`` node.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, TypedDict, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agent.backends.base import Decision, Turn
from agent.policy import PolicyDecision
from core.store.approvals import binding_of
from core.text import REPLY_LIMIT, clip
from core.vocabulary import ROLES, Action, Risk, Role
from tools.base import Table, ToolArgs
from tools.bound import BoundCall

__all__ = [
    "ApprovalResult",
    "ApprovalState",
    "ChatState",
    "ChatUpdate",
    "Checked",
    "Command",
    "DecisionRecord",
    "DecisionView",
    "Intent",
    "Pending",
    "Plan",
    "Reply",
    "Route",
    "Source",
    "Turn",
    "Verdict",
    "new_turn",
]

# Where a turn's decision came from: a new message, or the operator's answer to the thread's pending question.
Source = Literal["message", "confirmed", "answer", "choice"]
# What the plan leads to; "shadow" decides and audits but never executes.
Route = Literal["execute", "confirm", "approve", "clarify", "refuse", "shadow"]
# Messages that are not requests for a tool.
Command = Literal["help", "cancel"]
RUNNER_UP_FLOOR = 0.1  # a runner-up tool at least this likely is offered as "Did you mean …?"


class DecisionView(BaseModel):
    """'What I ran': the tool, arguments, confidence and the policy's action, shown with every reply."""

    tool: str | None
    args: dict[str, Any] = Field(default_factory=dict)
    confidence: float = 0.0
    action: Action = "refuse"
    backend: str = "embedded"
    reasons: list[str] = Field(default_factory=list)


class DecisionRecord(DecisionView):
    """The audit record of a decision: what the reply shows, plus what it was based on."""

    text: str | None = None
    risk: Risk = "read"
    model: str = ""
    latency_ms: float = 0.0
    prompt_hash: str = ""
    policy_version: str = ""
    shadow: bool = False
    notes: list[str] = Field(default_factory=list)


class Reply(BaseModel):
    """One assistant reply, the same for the console, the bot and the CLI.

    Its text is clipped to ``core.text.REPLY_LIMIT`` characters: a reply quotes errors and data, and it is stored
    in the thread and sent to every interface.
    """

    text: Annotated[str, AfterValidator(lambda text: clip(text, REPLY_LIMIT))]
    decision: DecisionView | None = None
    table: Table | None = None
    chart_path: str | None = None
    approval_id: str | None = None
    run_id: int | None = None
    buttons: list[str] = Field(default_factory=list, description="Quick answers, e.g. ['yes', 'no'].")
    notes: list[str] = Field(default_factory=list)
    kind: Literal["answer", "question", "confirm", "waiting", "started", "error", "info"] = "answer"


class Pending(BaseModel):
    """What the thread is waiting for from the operator (a yes/no, a missing argument, a choice).

    Attributes:
        kind: The question asked.
        tool: The tool the question is about (none for a choice between tools).
        args: The call's arguments so far, in canonical form.
        missing: The arguments asked for.
        options: The tools offered, for a choice.
        confidence: The decision's confidence when the question was asked.
        text: The words that asked for the call (a choice re-decides on them with the chosen tool).
        id: Names this question: a "yes" to it executes under the key ``confirm:<thread>:<id>``, so a turn that
            runs again (its process died before the turn's checkpoint was written) executes once.
    """

    # Checkpoints written before a field existed (or after one went) still load.
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["confirm", "missing", "choose", "low_confidence"]
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)
    confidence: float = 0.0
    text: str = ""
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)


class Intent(BaseModel):
    """What the operator asked for: the backend's decision, where it came from and the words that asked for it.

    Attributes:
        decision: Tool, raw arguments and confidence.
        source: A new message, or an answer to the thread's pending question.
        text: The words that asked for this call, remembered with it when it runs; None for answers, which say
            too little on their own.
        confirms: The id of the pending question this intent says yes to (its execution's key), if any.
    """

    model_config = ConfigDict(frozen=True)

    decision: Decision
    source: Source = "message"
    text: str | None = None
    confirms: str | None = None


class Checked(Intent):
    """An intent whose arguments were checked against the tool's model.

    Attributes:
        call: The arguments validated once and bound; None when the tool is unknown or an argument is missing or
            invalid (``decision.missing`` and ``invalid`` say which).
        risk: The risk the gate weighs.
        invalid: Why the arguments do not fit, in words for the operator.
        value: The call's monetary value, when the tool has one.
        weighed_as: The tool the gate weighs: the call's own, or the one a retry repeats.
        roles: The roles allowed to use ``weighed_as``.
    """

    call: BoundCall | None = None
    risk: Risk = "read"
    invalid: str | None = None
    value: float | None = None
    weighed_as: str | None = None
    roles: tuple[str, ...] = ROLES

    @property
    def args(self) -> ToolArgs | None:
        """The validated arguments, when they are valid."""
        return self.call.args if self.call is not None else None

    @property
    def shown_args(self) -> dict[str, Any]:
        """The arguments as shown and remembered: canonical when bound, else as the backend gave them."""
        return self.call.canonical if self.call is not None else self.decision.args


class Plan(Checked):
    """A checked intent and the policy gate's verdict: the one object a turn carries from planner to reply."""

    gate: PolicyDecision

    @property
    def action(self) -> Action:
        """The policy's action."""
        return self.gate.action

    @property
    def route(self) -> Route:
        """What happens next: the action, or shadow mode's 'decide but do not execute'."""
        action = self.gate.action
        if self.source == "confirmed":
            # The requester said yes: a call that needed only that runs now; shadow mode never got this far.
            return "execute" if action in ("execute", "confirm") else action
        if self.gate.shadow and action in ("execute", "confirm", "approve"):
            return "shadow"
        return action

    @property
    def runner_up(self) -> str | None:
        """A close second tool worth offering instead, when the arguments themselves are not the problem."""
        tool = self.decision.tool
        if not tool or self.decision.missing or self.invalid:
            return None
        second = next((a for a in self.decision.alternatives if a.tool and a.tool != tool), None)
        return second.tool if second is not None and second.probability >= RUNNER_UP_FLOOR else None

    def view(self) -> DecisionView:
        """'What I ran' for the reply."""
        return DecisionView(
            tool=self.decision.tool,
            args=self.shown_args,
            confidence=round(self.decision.confidence, 4),
            action=self.action,
            backend=self.decision.backend,
            reasons=self.gate.reasons,
        )

    def record(self, *, prompt_hash: str) -> DecisionRecord:
        """The audit record of this decision."""
        return DecisionRecord(
            **dict(self.view()),
            text=self.text,
            risk=self.risk,
            model=self.decision.model,
            latency_ms=round(self.decision.latency_ms, 2),
            prompt_hash=prompt_hash,
            policy_version=self.gate.policy_version,
            shadow=self.gate.shadow,
            notes=self.decision.notes,
        )


class ChatState(BaseModel):
    """One chat thread's state; nodes read it as attributes and return ``ChatUpdate``s.

    Attributes:
        user: Who is talking.
        role: Their role (anything unknown acts as an operator).
        text: This turn's message.
        proposal: The call an interface made of this turn without words (an upload), instead of the backend's.
        turns: The thread's earlier words and calls, never tool output or file data (the planner's context).
        pending: The question the thread waits on.
        command: This turn's message is help or a "no" to the pending question.
        intent: This turn's request (understand).
        checked: Its arguments checked (check).
        plan: Its policy verdict (gate).
        reply: This turn's reply.
    """

    user: str = ""
    role: str = "operator"
    text: str = ""
    proposal: Decision | None = None
    turns: list[Turn] = Field(default_factory=list)
    pending: Pending | None = None
    command: Command | None = None
    intent: Intent | None = None
    checked: Checked | None = None
    plan: Plan | None = None
    reply: Reply | None = None

    @property
    def acting_role(self) -> Role:
        """The role the policy weighs."""
        return cast(Role, self.role) if self.role in ("approver", "admin") else "operator"


class ChatUpdate(TypedDict, total=False):
    """What a node writes to ``ChatState``."""

    turns: list[Turn]
    pending: Pending | None
    command: Command | None
    intent: Intent | None
    checked: Checked | None
    plan: Plan | None
    reply: Reply | None


def new_turn(*, user: str, role: str, text: str, proposal: Decision | None = None) -> dict[str, Any]:
    """The graph's input for one message: who says what, with the per-turn fields cleared.

    Clearing them in the input (rather than trusting the last turn to have done so) means a turn that failed
    halfway can never leak its plan into the next one. ``proposal`` is the call an interface already knows the
    turn asks for (an uploaded file is a request to load it): it is used instead of reading the text.
    """
    return {
        "user": user,
        "role": role,
        "text": text,
        "proposal": proposal,
        "command": None,
        "intent": None,
        "checked": None,
        "plan": None,
        "reply": None,
    }


class Verdict(BaseModel):
    """A decision on an approval request, as its paused thread is resumed with it."""

    status: Literal["approved", "rejected", "superseded", "expired"]
    by: str | None = None


class ApprovalResult(BaseModel):
    """What the approval thread did once resumed."""

    executed: bool = False
    run_id: int | None = None
    text: str = ""


class ApprovalState(BaseModel):
    """Checkpointed per approval request: the call as stored (canonical arguments), the verdict and the outcome."""

    approval_id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    requester: str = ""
    thread_id: str | None = None
    decision: Verdict | None = None
    outcome: ApprovalResult | None = None

    @property
    def binding(self) -> str:
        """The sha256 of the call this thread was paused on; the request's row must carry the same."""
        return binding_of(self.tool, self.args)
