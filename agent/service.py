"""Switchboard's agent service: one object the CLI chat, the console and the bot all talk to.

It owns the chat graph, the approval service and the thread history, built from injected parts
(``Switchboard.build`` wires the defaults). Turns on one thread are serialised across threads and processes
(console workers, the bot, the CLI), so two turns never race on the thread's checkpoint. Within a process, at
most ``agent.turns_at_once`` turns run at a time; the others queue for a slot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from agent import approval_thread, background_runs, pregel_pool, ticker
from agent.approvals import ApprovalService
from agent.backends.base import Backend, Decision
from agent.background_runs import BackgroundRuns
from agent.checkpoint import open_checkpointer
from agent.config import AgentSettings
from agent.graph import build_graph
from agent.modelops.corrections import Corrections
from agent.modelops.drift_check import DriftCheck
from agent.nodes import ChatDeps
from agent.policy import Policy
from agent.prompts import Prompts, load_prompts
from agent.slots import SlotFiller
from agent.state import Reply, new_turn
from core import tracing
from core.durable import durable_config
from core.errors import Busy, Forbidden, TooLarge
from core.locks import StripedLock
from core.logs import bind
from core.store.advisory import AdvisoryLocks, KeyLocks
from core.store.approvals import ThreadMessage
from core.store.checkpoints import Checkpointer
from core.store.db import utcnow, write_connection
from tools.durable import engine_running
from tools.registry import Registry, build_registry
from tools.runtime import ToolRunner

logger = logging.getLogger(__name__)
_MESSAGES = ThreadMessage.__table__  # type: ignore[attr-defined]
SLOT_WAIT_S = 60.0  # a turn that waits longer for a slot is refused (503) rather than left hanging
MAX_MESSAGE_CHARS = 4_096  # Telegram's own limit; the console's API accepts 4,000
_OWNERS_KEPT = 4096  # a thread's owner never changes, so it is remembered (bounded) instead of read each turn


@dataclass
class Switchboard:
    """The chat and approval services over one database and checkpointer."""

    settings: AgentSettings
    engine: Engine
    runner: ToolRunner
    registry: Registry
    policy: Policy
    prompts: Prompts
    backend: Backend
    approvals: ApprovalService
    graph: Any
    thread_locks: KeyLocks
    turn_slots: threading.BoundedSemaphore
    background: BackgroundRuns
    _owners: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        *,
        settings: AgentSettings,
        engine: Engine,
        checkpointer: BaseCheckpointSaver[Any] | None,
        backend: Backend | None = None,
        registry: Registry | None = None,
        runner: ToolRunner | None = None,
    ) -> Switchboard:
        """Wire the default parts; every one can be replaced (tests inject a scripted backend)."""
        from flows.operations.alerts import AlertManager

        pregel_pool.share()  # the graphs' checkpoint saves reuse this process's threads
        registry = registry or build_registry()
        if runner is None:
            runner = ToolRunner(settings=settings, engine=engine, registry=registry)
            runner.listeners.append(AlertManager(settings=settings, engine=engine).on_run_finished)
        if backend is None:
            from agent.backends.factory import build_backend

            backend = build_backend(settings, engine=engine, registry=registry)
        policy = Policy(settings.policy)
        prompts = load_prompts()
        corrections = Corrections(engine=engine, settings=settings)
        approvals = ApprovalService(
            runner=runner,
            registry=registry,
            policy=policy,
            prompts=prompts,
            checkpointer=checkpointer,
            corrections=corrections,
        )
        background = BackgroundRuns(runner=runner, prompts=prompts)
        deps = ChatDeps(
            backend=backend,
            registry=registry,
            policy=policy,
            runner=runner,
            approvals=approvals,
            prompts=prompts,
            fill_slots=SlotFiller(registry=registry, engine=engine),
            background=background,
            corrections=corrections,
        )
        graph = build_graph(deps=deps, checkpointer=checkpointer)
        thread_locks = _thread_locks(settings, engine)
        slots = threading.BoundedSemaphore(settings.agent.turn_slots())
        return cls(
            settings,
            engine,
            runner,
            registry,
            policy,
            prompts,
            backend,
            approvals,
            graph,
            thread_locks,
            slots,
            background,
        )

    def chat(
        self,
        *,
        thread_id: str,
        user: str,
        role: str,
        text: str,
        source: str = "chat",
        proposal: Decision | None = None,
    ) -> Reply:
        """Handle one operator message in a thread and return the reply (also stored in the history).

        ``proposal`` is the call the interface made of a turn that has no words of its own (an upload): it is
        checked and gated like any decision, and ``text`` (what the history shows) is not read for it.

        Raises:
            Forbidden: the thread belongs to another user.
            Busy: an earlier turn on this thread, or the turns holding every slot, still run after a minute.
            TooLarge: the message is longer than ``MAX_MESSAGE_CHARS``; nothing is stored.
        """
        if len(text) > MAX_MESSAGE_CHARS:
            raise TooLarge(
                f"the message is {len(text):,} characters long, over the limit of {MAX_MESSAGE_CHARS:,}",
                limit=MAX_MESSAGE_CHARS,
            )
        self._claim_thread(thread_id, user)
        asked: dict[str, Any] = {
            "thread_id": thread_id,
            "owner": user,
            "role": "user",
            "text": text,
            "payload": {},
            "created_at": utcnow(),
        }
        config = {"configurable": {"thread_id": thread_id, "source": source}}
        # The thread first, then a slot: a turn waiting for its thread holds no slot, and nothing inside a slot
        # waits for a thread, so the two never wait for each other.
        with (
            tracing.span("agent.turn", thread_id=thread_id, source=source),
            bind(thread_id=thread_id, actor=user),
            self.thread_locks.hold(thread_id),
            self._slot(),
        ):
            # One checkpoint write per turn ("exit"): a turn is short, and anything durable it does (runs,
            # approval requests, audit records) is committed by the tools and the approval service themselves.
            try:
                final = self.graph.invoke(
                    new_turn(user=user, role=role, text=text, proposal=proposal), config, durability="exit"
                )
            except BaseException:
                self._keep([asked])  # the operator's words are kept even when the turn fails
                raise
            reply: Reply = final["reply"]  # the graph's output: its state's values, as the nodes wrote them
            tracing.annotate(run_id=reply.run_id, approval_id=reply.approval_id, outcome=reply.kind)
            answer = {
                **asked,
                "role": "assistant",
                "text": reply.text,
                "payload": reply.model_dump(mode="json"),
                "created_at": utcnow(),
            }
            self._keep([asked, answer])
        return reply

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the process's turn slots (``agent.turns_at_once``); a waiting turn takes the next one free."""
        if not self.turn_slots.acquire(timeout=SLOT_WAIT_S):
            raise Busy("Switchboard is busy with other requests; try again in a moment")
        try:
            yield
        finally:
            self.turn_slots.release()

    def _keep(self, messages: list[dict[str, Any]]) -> None:
        # Core, not the ORM: this runs on every turn, and two ORM objects cost a millisecond more.
        with write_connection(self.engine) as conn:
            conn.execute(_MESSAGES.insert(), messages)

    def _claim_thread(self, thread_id: str, user: str) -> None:
        owner = self._owners.get(thread_id)
        if owner is None:
            with Session(self.engine) as session:
                owner = session.execute(
                    select(col(ThreadMessage.owner)).where(col(ThreadMessage.thread_id) == thread_id).limit(1)
                ).scalar_one_or_none()
            if owner is not None:
                if len(self._owners) >= _OWNERS_KEPT:
                    self._owners.clear()
                self._owners[thread_id] = owner
        if owner is not None and owner != user:
            raise Forbidden(f"thread {thread_id} belongs to another user")

    def history(self, *, thread_id: str, user: str, limit: int = 200) -> list[ThreadMessage]:
        """Messages of a thread the user owns, oldest first."""
        self._claim_thread(thread_id, user)
        with Session(self.engine) as session:
            rows = session.execute(
                select(ThreadMessage)
                .where(col(ThreadMessage.thread_id) == thread_id)
                .order_by(col(ThreadMessage.id).desc())
                .limit(limit)
            ).scalars()
            return list(reversed(list(rows)))

    def threads(self, *, user: str) -> list[dict[str, Any]]:
        """The user's threads, most recent first."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(col(ThreadMessage.thread_id), func.max(ThreadMessage.created_at), func.count())
                .where(col(ThreadMessage.owner) == user)
                .group_by(ThreadMessage.thread_id)
                .order_by(func.max(ThreadMessage.created_at).desc())
            ).all()
        return [{"thread_id": t, "updated_at": u, "messages": n} for t, u, n in rows]


def _thread_locks(settings: AgentSettings, engine: Engine) -> KeyLocks:
    """Turns on one thread run one at a time: across hosts on PostgreSQL, across this host's processes on SQLite."""
    busy = "an earlier message on thread {key} is still being handled; try again in a moment"
    if engine.dialect.name == "postgresql":
        return AdvisoryLocks(engine, namespace="switchboard chat thread", busy=busy)
    # 1,024 stripes: 16 busy threads on 64 stripes would share one most of the time (the birthday problem), and
    # two turns on one stripe run one after the other.
    return StripedLock(settings.var_dir / "locks" / "threads" / "thread.lock", stripes=1024, busy=busy)


@contextmanager
def open_switchboard(
    settings: AgentSettings,
    engine: Engine,
    *,
    durable_as: str | None = None,
    serves: bool = True,
    extra_queues: tuple[str, ...] = (),
    **parts: Any,
) -> Iterator[Switchboard]:
    """Build the service with the configured checkpointer, and close it afterwards.

    Args:
        settings: The configuration.
        engine: The database.
        durable_as: The process's role ("console-0", "bot", ...): writes then run as durable workflows, and the
            work this role's predecessor left unfinished is recovered. None runs them directly (tests).
        serves: With ``durable_as``: the process also takes its share of the background ticks (schedules,
            expiry, reminders). A terminal chat does not.
        extra_queues: Durable queues besides the ticks' and the background runs' that this process has the code
            for (a bot's Telegram updates). A serving process takes work only from the queues named, so a console
            without a bot never takes a Telegram update it cannot run.
        parts: Replacements for the default parts (``Switchboard.build``).
    """
    with tracing.configured(settings.telemetry), open_checkpointer(settings) as saver:
        service = Switchboard.build(settings=settings, engine=engine, checkpointer=saver, **parts)
        if durable_as is None:
            yield service
            return
        queues = (ticker.QUEUE, background_runs.QUEUE, *extra_queues)
        config = durable_config(settings, role=durable_as, serves=serves, queues=queues)
        approval_thread.serve(service.approvals.thread)  # before the engine starts: it recovers at once
        with engine_running(service.runner, config):
            if not serves:
                yield service
                return
            checkpoints = Checkpointer(engine=engine, settings=settings)
            drift = DriftCheck(settings=settings, engine=engine)
            ticker.serve(
                ticker.Ticker(service.runner, service.approvals, checkpoints, drift),
                every_s=settings.tick_seconds,
            )
            background_runs.serve(service.background)
            try:
                yield service
            finally:
                background_runs.stop()
                ticker.stop()
