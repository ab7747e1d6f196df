"""The chat graph's nodes: understand, then one of execute, confirm, escalate, clarify, refuse or help.

Nodes read only the operator's message, the thread's earlier calls and the tool schemas; a tool's output is shown
to the operator but never fed back into tool choice, so text inside data cannot steer the planner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from langchain_core.runnables import RunnableConfig

from agent import replies as r
from agent.backends.base import Backend, DecideRequest, Decision, Turn, remember_accepted
from agent.planner import Plan, gate_decision
from agent.policy import Policy, Role
from agent.prompts import Prompts
from agent.state import ChatState, DecisionView, Pending, Reply
from core.errors import SwitchboardError
from core.store.audit import AuditEvent
from tools.registry import Registry
from tools.runtime import ToolRunner

logger = logging.getLogger(__name__)
MAX_TURNS = 12
SlotFiller = Callable[[str, str, date, list[str]], dict[str, Any]]


@dataclass
class ChatNodes:
    """Node functions bound to their dependencies (no globals)."""

    backend: Backend
    registry: Registry
    policy: Policy
    runner: ToolRunner
    approvals: Any
    prompts: Prompts
    fill_slots: SlotFiller

    # ---- understand -------------------------------------------------------------------------------------------
    def understand(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        """Resolve a pending question, or plan the message afresh; audit the decision."""
        text, role = state["text"], _role(state)
        if r.is_help(text):
            return {"plan": {"route": "help"}, "pending": None}
        pending = state.get("pending")
        if pending:
            resolved = self._resolve_pending(pending, text, role)
            if resolved is not None:
                return resolved
        context = [Turn.model_validate(t) for t in state.get("turns", [])[-6:]]
        decision = self.backend.decide(
            DecideRequest(
                text=text,
                context=context,
                today=self.runner.reference_date(),
                allowed_tools=[s.name for s in self.registry.for_role(role)],
            )
        )
        return self._planned(decision, role, state, config, text)

    def _resolve_pending(self, pending: Pending, text: str, role: Role) -> dict[str, Any] | None:
        kind = pending.get("kind")
        if r.is_no(text):
            return {"plan": {"route": "cancelled"}, "pending": None}
        if kind in ("confirm", "low_confidence") and r.is_yes(text):
            decision = Decision(
                tool=pending["tool"],
                args=pending["args"],
                confidence=1.0,
                tool_probability=1.0,
                backend="operator-confirmed",
            )
            plan = self._gate(decision, role)
            route = "execute" if plan.action in ("execute", "confirm") else plan.action
            confirmed = self._plan_dict(plan, route=route)
            confirmed["text"] = pending.get("text", "")
            return {"plan": confirmed, "pending": None}
        if kind == "missing":
            found = self.fill_slots(
                pending["tool"], text, self.runner.reference_date(), pending.get("missing", [])
            )
            if found:
                args = {**pending["args"], **found}
                decision = Decision(
                    tool=pending["tool"],
                    args=args,
                    confidence=pending.get("confidence", 0.0),
                    tool_probability=pending.get("confidence", 0.0),
                    backend="operator-answer",
                )
                plan = self._gate(decision, role)
                return {"plan": self._plan_dict(plan), "pending": None}
        if kind == "choose":
            choice = self._choose(text, pending.get("options", []))
            if choice:
                decision = self.backend.decide(
                    DecideRequest(
                        text=pending.get("args", {}).get("__text__", text),
                        today=self.runner.reference_date(),
                        allowed_tools=[choice],
                    )
                )
                decision = decision.model_copy(
                    update={"tool": choice, "confidence": max(decision.confidence, 0.9)}
                )
                plan = self._gate(decision, role)
                return {"plan": self._plan_dict(plan), "pending": None}
        return None  # not an answer to the question: treat it as a new request

    def _gate(self, decision: Decision, role: Role) -> Plan:
        """Validate and apply the policy (the same function the evals use)."""
        return gate_decision(
            decision,
            role=role,
            registry=self.registry,
            policy=self.policy,
            settings=self.runner.settings,
            tool_context=self.runner.context(actor="planner"),
        )

    def _choose(self, text: str, options: list[str]) -> str | None:
        folded = text.lower()
        for ordinal, index in (("first", 0), ("1", 0), ("second", 1), ("2", 1)):
            if folded.strip() in (ordinal, f"the {ordinal}", f"the {ordinal} one") and index < len(options):
                return options[index]
        hits = [o for o in options if any(word in folded for word in o.split("_") if len(word) > 3)]
        return hits[0] if len(hits) == 1 else None

    def _planned(
        self, decision: Decision, role: Role, state: ChatState, config: RunnableConfig, text: str
    ) -> dict[str, Any]:
        plan = self._gate(decision, role)
        plan_dict = self._plan_dict(plan)
        plan_dict["text"] = text
        record = {
            "text": text,
            "tool": plan.decision.tool,
            "args": plan.decision.args,
            "confidence": round(plan.decision.confidence, 4),
            "action": plan.action,
            "reasons": plan.gate.reasons,
            "risk": plan.risk,
            "backend": plan.decision.backend,
            "model": plan.decision.model,
            "latency_ms": round(plan.decision.latency_ms, 2),
            "prompt_hash": self.prompts.hash,
            "policy_version": plan.gate.policy_version,
            "shadow": plan.gate.shadow,
            "notes": plan.decision.notes,
        }
        if plan_dict["route"] == "execute":
            # Written by the execute node in one transaction with the tool call's own record, before the tool
            # runs: one write fewer on the busiest path, and the chain still reads decision, then call.
            plan_dict["decision_record"] = record
        else:
            self.runner.audit.append(
                "agent.decision", actor=state["user"], subject=_subject(config), data=record
            )
        return {"plan": plan_dict, "pending": None}

    def _plan_dict(self, plan: Plan, *, route: str | None = None) -> dict[str, Any]:
        action = plan.action
        if route is None:
            route = "shadow" if plan.gate.shadow and action in ("execute", "confirm", "approve") else action
        args = (
            plan.args.model_dump(mode="json", exclude_none=True)
            if plan.args is not None
            else plan.decision.args
        )
        return {
            "route": route,
            "tool": plan.decision.tool,
            "args": args,
            "action": action,
            "confidence": plan.decision.confidence,
            "tool_probability": plan.decision.tool_probability,
            "reasons": plan.gate.reasons,
            "missing": plan.decision.missing,
            "invalid": plan.invalid,
            "alternatives": [a.model_dump() for a in plan.decision.alternatives],
            "backend": plan.decision.backend,
            "notes": plan.decision.notes,
        }

    # ---- terminal nodes ---------------------------------------------------------------------------------------
    def execute(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        """Run the tool now (a read at good confidence, or a call the operator confirmed)."""
        plan = state["plan"] or {}
        view = _view(plan, "execute")
        record = plan.get("decision_record")
        before = [AuditEvent("agent.decision", state["user"], _subject(config), record)] if record else []
        try:
            execution = self.runner.call(
                plan["tool"], plan["args"], actor=state["user"], source=_source(config), audit_first=before
            )
        except SwitchboardError as exc:
            reply = Reply(text=self.prompts.render("failed", error=exc.message), decision=view, kind="error")
            return self._finish(state, reply, plan)
        result = execution.result
        if plan.get("text"):
            remember_accepted(self.backend, text=plan["text"], tool=plan["tool"], args=plan["args"])
        reply = Reply(
            text=self.prompts.render("done", summary=result.summary),
            decision=view,
            table=result.table,
            chart_path=result.chart_path,
            run_id=execution.run.id if execution.run else None,
            notes=self._notes(plan),
        )
        return self._finish(state, reply, plan)

    def confirm(self, state: ChatState) -> dict[str, Any]:
        """Ask the requester yes or no before a write."""
        plan = state["plan"] or {}
        text = self.prompts.render("confirm", call=r.call_text(plan["tool"], plan["args"]))
        reply = Reply(
            text=text,
            decision=_view(plan, "confirm"),
            buttons=["yes", "no"],
            kind="confirm",
            notes=self._notes(plan),
        )
        pending: Pending = {
            "kind": "confirm",
            "tool": plan["tool"],
            "args": plan["args"],
            "confidence": plan["confidence"],
            "text": plan.get("text", state["text"]),
        }
        return self._finish(state, reply, plan, pending=pending)

    def escalate(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        """Store an approval request bound to these exact arguments and wait for an approver."""
        plan = state["plan"] or {}
        try:
            request = self.approvals.request(
                tool=plan["tool"],
                args=plan["args"],
                requester=state["user"],
                reasons=plan["reasons"],
                confidence=plan["confidence"],
                thread_id=_thread(config),
            )
        except SwitchboardError as exc:
            reply = Reply(
                text=self.prompts.render("failed", error=exc.message),
                decision=_view(plan, "approve"),
                kind="error",
            )
            return self._finish(state, reply, plan)
        text = self.prompts.render(
            "waiting_approval",
            reasons="; ".join(plan["reasons"]),
            approval_id=request.id,
            expires=f"{request.expires_at:%Y-%m-%d %H:%M} UTC",
        )
        reply = Reply(
            text=text,
            decision=_view(plan, "approve"),
            approval_id=request.id,
            kind="waiting",
            notes=self._notes(plan),
        )
        return self._finish(state, reply, plan)

    def clarify(self, state: ChatState) -> dict[str, Any]:
        """Ask back: a missing argument, a choice between two close tools, or a low-confidence guess."""
        plan = state["plan"] or {}
        tool, args = plan.get("tool"), plan.get("args", {})
        view = _view(plan, "clarify")
        if tool and plan.get("missing"):
            text = r.ask_missing(self.prompts, self.registry, tool, plan["missing"][0])
            pending: Pending = {
                "kind": "missing",
                "tool": tool,
                "args": args,
                "missing": plan["missing"],
                "confidence": plan["confidence"],
            }
            return self._finish(
                state, Reply(text=text, decision=view, kind="question"), None, pending=pending
            )
        if tool and plan.get("invalid"):
            text = self.prompts.render("ask_invalid", tool=tool, problem=plan["invalid"])
            return self._finish(state, Reply(text=text, decision=view, kind="question"), None)
        runner_up = next((a for a in plan.get("alternatives", []) if a["tool"] and a["tool"] != tool), None)
        if tool and runner_up and runner_up["probability"] >= 0.2:
            options = [tool, runner_up["tool"]]
            text = self.prompts.render(
                "ask_ambiguous", options=r.or_list([r.describe_tool(self.registry, o) for o in options])
            )
            pending = {
                "kind": "choose",
                "options": options,
                "args": {"__text__": plan.get("text", state["text"])},
                "confidence": plan["confidence"],
            }
            return self._finish(
                state, Reply(text=text, decision=view, kind="question"), None, pending=pending
            )
        if tool and plan.get("confidence", 0) >= 0.3:
            text = self.prompts.render("ask_low_confidence", call=r.call_text(tool, args))
            pending = {"kind": "low_confidence", "tool": tool, "args": args, "confidence": plan["confidence"]}
            reply = Reply(text=text, decision=view, buttons=["yes", "no"], kind="question")
            return self._finish(state, reply, None, pending=pending)
        return self._finish(
            state, Reply(text=self.prompts.render("out_of_scope"), decision=view, kind="info"), None
        )

    def refuse(self, state: ChatState) -> dict[str, Any]:
        """Out of scope, chit-chat, or a tool this role may not use: no tool call."""
        plan = state["plan"] or {}
        if plan.get("tool"):
            text = self.prompts.render("refused_role", reason="; ".join(plan.get("reasons", [])))
        else:
            text = self.prompts.render("out_of_scope")
        return self._finish(state, Reply(text=text, decision=_view(plan, "refuse"), kind="info"), None)

    def shadow(self, state: ChatState) -> dict[str, Any]:
        """Shadow mode: decide and audit, never execute."""
        plan = state["plan"] or {}
        text = self.prompts.render(
            "shadow", action=plan["action"], call=r.call_text(plan["tool"], plan["args"])
        )
        return self._finish(state, Reply(text=text, decision=_view(plan, plan["action"]), kind="info"), plan)

    def help(self, state: ChatState) -> dict[str, Any]:
        """List the tools this user may use."""
        text = r.help_text(self.prompts, self.registry, user=state["user"], role=_role(state))
        return self._finish(state, Reply(text=text, kind="info"), None)

    def cancelled(self, state: ChatState) -> dict[str, Any]:
        """The operator said no to a pending question."""
        return self._finish(state, Reply(text=self.prompts.render("confirm_cancelled"), kind="info"), None)

    # ---- helpers ----------------------------------------------------------------------------------------------
    def _notes(self, plan: dict[str, Any]) -> list[str]:
        return list(plan.get("notes", []))

    def _finish(
        self, state: ChatState, reply: Reply, plan: dict[str, Any] | None, *, pending: Pending | None = None
    ) -> dict[str, Any]:
        turns = list(state.get("turns", []))
        turns.append({"role": "user", "text": state["text"]})
        if plan and plan.get("tool"):
            turns.append({"role": "assistant", "tool": plan["tool"], "args": plan.get("args", {})})
        return {"reply": reply.model_dump(mode="json"), "turns": turns[-MAX_TURNS:], "pending": pending}


def _view(plan: dict[str, Any], action: str) -> DecisionView:
    return DecisionView(
        tool=plan.get("tool"),
        args=plan.get("args", {}),
        confidence=round(float(plan.get("confidence", 0.0)), 4),
        action=plan.get("action", action),
        backend=plan.get("backend", "embedded"),
        reasons=plan.get("reasons", []),
    )


def _role(state: ChatState) -> Role:
    role = state.get("role", "operator")
    return role if role in ("operator", "approver", "admin") else "operator"  # type: ignore[return-value]


def _thread(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("thread_id", "default"))


def _subject(config: RunnableConfig) -> str:
    return f"thread:{_thread(config)}"


def _source(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("source", "chat"))
