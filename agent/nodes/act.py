"""Act on the gate's verdict: execute, confirm with the requester, escalate to an approver, refuse, or shadow.

Only ``execute`` runs a tool, and only ``escalate`` stores an approval request; both carry the turn's bound call,
so the arguments that run (or are approved) are the ones checked, never validated again.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig

from agent import replies as r
from agent.backends.base import remember_accepted
from agent.background_runs import BackgroundRuns
from agent.nodes.deps import ChatDeps, required, source_of, subject_of, thread_of
from agent.state import ChatState, ChatUpdate, Pending, Reply
from core.errors import SwitchboardError
from core.store.audit import AuditEvent


def execute(deps: ChatDeps, state: ChatState, config: RunnableConfig) -> ChatUpdate:
    """Run the tool now (a read at good confidence, or a call the operator confirmed)."""
    plan = required(state.plan, "a plan")
    call = required(plan.call, "a bound call")
    view = plan.view()
    before = []
    if plan.source == "message":  # the gate left this decision's record to be written with the call's own
        record = plan.record(prompt_hash=deps.prompts.hash).model_dump(mode="json")
        before.append(AuditEvent("agent.decision", state.user, subject_of(config), record))
    # A confirmed call runs once per question: a turn that runs again finds its execution by this key.
    key = f"confirm:{thread_of(config)}:{plan.confirms}" if plan.confirms else None
    background = deps.background
    long_running = deps.registry.get_tool(call.tool).long_running
    if background is not None and long_running and background.available(source_of(config)):
        return _start(deps, background, state, config, before, key)
    try:
        execution = deps.runner.run(
            call, actor=state.user, source=source_of(config), audit_first=before, idempotency_key=key
        )
    except SwitchboardError as exc:
        reply = Reply(text=deps.prompts.render("failed", error=exc.message), decision=view, kind="error")
        return {"reply": reply}
    if plan.text:
        remember_accepted(deps.backend, text=plan.text, tool=call.tool, args=call.canonical)
    result = execution.result
    reply = Reply(
        text=deps.prompts.render("done", summary=result.summary),
        decision=view,
        table=result.table,
        chart_path=result.chart_path,
        run_id=execution.run.id if execution.run else None,
        notes=list(plan.decision.notes),
    )
    return {"reply": reply}


def _start(
    deps: ChatDeps,
    background: BackgroundRuns,
    state: ChatState,
    config: RunnableConfig,
    before: list[AuditEvent],
    key: str | None,
) -> ChatUpdate:
    """Queue a long call (a named flow) and answer at once; its outcome is posted to the thread when it ends."""
    plan = required(state.plan, "a plan")
    call = required(plan.call, "a bound call")
    try:
        run = background.start(
            call,
            owner=state.user,
            thread_id=thread_of(config),
            source=source_of(config),
            audit_first=before,
            key=key,
        )
    except SwitchboardError as exc:
        reply = Reply(
            text=deps.prompts.render("failed", error=exc.message), decision=plan.view(), kind="error"
        )
        return {"reply": reply}
    if plan.text:
        remember_accepted(deps.backend, text=plan.text, tool=call.tool, args=call.canonical)
    text = deps.prompts.render(
        "started", call=deps.prompts.wording.phrase(call.tool, call.canonical), run_id=run.id
    )
    reply = Reply(
        text=text, decision=plan.view(), run_id=run.id, kind="started", notes=list(plan.decision.notes)
    )
    return {"reply": reply}


def confirm(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """Ask the requester yes or no before a write, saying what it would change (the tool's dry run)."""
    plan = required(state.plan, "a plan")
    call = required(plan.call, "a bound call")
    phrase = deps.prompts.wording.phrase(call.tool, call.canonical)
    spec = deps.registry.get_tool(call.tool)
    if spec.preview is None:
        text = deps.prompts.render("confirm_plain", call=phrase)
    else:
        try:
            preview = spec.preview(deps.runner.context(actor=state.user), call.args)
        except SwitchboardError as exc:
            # Say what the dry run found before the "yes"; the choice stays the person's, as in every interface.
            text = deps.prompts.render("preview_failed", call=phrase, error=exc.message)
        else:
            text = deps.prompts.render("confirm", call=phrase, preview=r.preview_words(deps.prompts, preview))
    reply = Reply(
        text=text,
        decision=plan.view(),
        buttons=["yes", "no"],
        kind="confirm",
        notes=list(plan.decision.notes),
    )
    pending = Pending(
        kind="confirm",
        tool=call.tool,
        args=call.canonical,
        confidence=plan.decision.confidence,
        text=plan.text if plan.text is not None else state.text,
    )
    return {"reply": reply, "pending": pending}


def escalate(deps: ChatDeps, state: ChatState, config: RunnableConfig) -> ChatUpdate:
    """Store an approval request bound to these exact arguments; an approver decides it later."""
    plan = required(state.plan, "a plan")
    view = plan.view()
    try:
        request = deps.approvals.submit(
            required(plan.call, "a bound call"),
            requester=state.user,
            reasons=plan.gate.reasons,
            confidence=plan.decision.confidence,
            thread_id=thread_of(config),
        )
    except SwitchboardError as exc:
        reply = Reply(text=deps.prompts.render("failed", error=exc.message), decision=view, kind="error")
        return {"reply": reply}
    text = deps.prompts.render(
        "waiting_approval",
        # The words the requester used: the request pins moving references ("latest") to an artifact id.
        call=deps.prompts.wording.phrase(request.tool, required(plan.call, "a bound call").canonical),
        reasons="; ".join(plan.gate.reasons),
        approval_id=request.id,
        expires=f"{request.expires_at:%Y-%m-%d %H:%M} UTC",
    )
    reply = Reply(
        text=text, decision=view, approval_id=request.id, kind="waiting", notes=list(plan.decision.notes)
    )
    return {"reply": reply}


def refuse(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """Out of scope, small talk, or a tool this role may not use: no tool call, and an answer that says why."""
    plan = required(state.plan, "a plan")
    if plan.decision.tool:
        text = deps.prompts.render("refused_role", reason="; ".join(plan.gate.reasons))
        return {"reply": Reply(text=text, decision=plan.view(), kind="info")}
    if plan.decision.refusal:
        return {"reply": Reply(text=plan.decision.refusal, decision=plan.view(), kind="info")}
    return {"reply": r.without_tool(deps.prompts, state.text, user=state.user, view=plan.view())}


def shadow(deps: ChatDeps, state: ChatState) -> ChatUpdate:
    """Shadow mode: say what the policy decided, and execute nothing."""
    plan = required(state.plan, "a plan")
    call = required(plan.call, "a bound call")
    text = deps.prompts.render(
        "shadow", action=plan.action, call=deps.prompts.wording.phrase(call.tool, call.canonical)
    )
    return {"reply": Reply(text=text, decision=plan.view(), kind="info")}
