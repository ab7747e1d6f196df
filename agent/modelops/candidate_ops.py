"""Promotion, rollback and shadow: the three changes to which router is live, each one command and audited.

Each writes its audit record first (no record, no change) and then replaces ``LIVE.json`` atomically. Nothing is
ever deleted: a promotion pushes the router it replaces onto the pointer's history, and when that router is the
base router (the shipped copy or the cache, which ``switchboard router train`` rewrites) it is first copied byte
for byte under ``var/routers/<fingerprint>``, so a rollback restores exactly it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from agent.backends.factory import CALIBRATION_FILE, SHIPPED_DIR, live_router, load_router
from agent.config import AgentSettings
from agent.modelops.candidate_models import LivePointer
from agent.modelops.candidate_store import is_kept, keep_copy, read_manifest, read_pointer, write_pointer
from core.errors import Conflict, NotFound
from core.store.audit import AuditLog
from core.store.db import utcnow

PROMOTED_EVENT = "router.promoted"
ROLLED_BACK_EVENT = "router.rolled_back"
SHADOW_SET_EVENT = "router.shadow_set"


def _audit(engine: Engine, event: str, *, actor: str, fingerprint: str | None, data: dict[str, Any]) -> None:
    AuditLog(engine).append(event, actor=actor, subject=f"router:{fingerprint or 'none'}", data=data)


def promote(*, settings: AgentSettings, engine: Engine, fingerprint: str, actor: str) -> LivePointer:
    """Make a candidate that passed the gate against the current live router the live router.

    Raises:
        NotFound: No such candidate.
        Conflict: It never passed the gate, was gated against another live router, or is live already.
    """
    manifest = read_manifest(settings.var_dir, fingerprint)
    current = live_router(settings)
    if current.fingerprint == fingerprint:
        raise Conflict(f"router {fingerprint} is already live")
    gate = manifest.gate
    if gate is None:
        raise Conflict(
            f"candidate {fingerprint} has not been through the gate; run 'switchboard router train --candidate'"
        )
    if not gate.passed:
        raise Conflict(f"candidate {fingerprint} was refused by the gate on {', '.join(gate.refused_by)}")
    if gate.live_fingerprint != current.fingerprint:
        raise Conflict(
            f"candidate {fingerprint} was gated against router {gate.live_fingerprint}, but {current.fingerprint} "
            "is live now; train it again with 'switchboard router train --candidate' to gate it against that"
        )
    if not current.pinned:
        load_router(settings)  # the base router is trained into the cache on first use
        calibration = CALIBRATION_FILE if current.folder == SHIPPED_DIR else None
        keep_copy(
            settings.var_dir, fingerprint=current.fingerprint, source=current.folder, calibration=calibration
        )
    old = read_pointer(settings.var_dir)
    pointer = LivePointer(
        live=fingerprint,
        history=[*(old.history if old else []), current.fingerprint],
        shadow=None if old is None or old.shadow == fingerprint else old.shadow,
        updated_at=utcnow(),
        updated_by=actor,
    )
    _audit(
        engine,
        PROMOTED_EVENT,
        actor=actor,
        fingerprint=fingerprint,
        data={
            "fingerprint": fingerprint,
            "previous": current.fingerprint,
            "gate": gate.model_dump(mode="json"),
        },
    )
    write_pointer(settings.var_dir, pointer)
    return pointer


def rollback(*, settings: AgentSettings, engine: Engine, actor: str) -> LivePointer:
    """Go back to the router that was live before the current one.

    Raises:
        Conflict: Nothing was promoted, so there is nothing to go back to.
        NotFound: The earlier router is no longer kept.
    """
    old = read_pointer(settings.var_dir)
    if old is None or old.previous is None:
        raise Conflict("no earlier router to roll back to: no candidate was ever promoted")
    target = old.previous
    if not is_kept(settings.var_dir, target):
        raise NotFound(f"the earlier router {target} is no longer kept under {settings.var_dir / 'routers'}")
    current = live_router(settings).fingerprint
    pointer = LivePointer(
        live=target,
        history=old.history[:-1],
        shadow=None if old.shadow == target else old.shadow,
        updated_at=utcnow(),
        updated_by=actor,
    )
    _audit(
        engine,
        ROLLED_BACK_EVENT,
        actor=actor,
        fingerprint=target,
        data={"fingerprint": target, "from": current},
    )
    write_pointer(settings.var_dir, pointer)
    return pointer


def set_shadow(
    *, settings: AgentSettings, engine: Engine, fingerprint: str | None, actor: str
) -> LivePointer:
    """Shadow a candidate on live traffic (``None``: stop shadowing).

    Raises:
        NotFound: No such candidate.
        Conflict: It is the live router.
    """
    if fingerprint is not None:
        read_manifest(settings.var_dir, fingerprint)
        if live_router(settings).fingerprint == fingerprint:
            raise Conflict(f"router {fingerprint} is the live router; shadow a candidate instead")
    old = read_pointer(settings.var_dir)
    pointer = LivePointer(
        live=old.live if old else None,
        history=old.history if old else [],
        shadow=fingerprint,
        updated_at=utcnow(),
        updated_by=actor,
    )
    _audit(
        engine,
        SHADOW_SET_EVENT,
        actor=actor,
        fingerprint=fingerprint,
        data={"shadow": fingerprint, "previous": old.shadow if old else None},
    )
    write_pointer(settings.var_dir, pointer)
    return pointer
