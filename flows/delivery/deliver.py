"""Deliver artifacts to named destinations (SFTP, share folder, HTTP webhook), once per (artifact, place).

The Delivery table's unique (artifact_id, destination) row is the idempotency record: a delivered row makes a
repeat a no-op that never touches the destination; a failed (or interrupted) row is retried. The steps are the
outbox protocol's (``core.store.outbox``): claim the row, upload outside any database transaction with retries,
and commit the outcome together with its audit record.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import tracing
from core.errors import Conflict, DeliveryFailed, NotFound
from core.faults import crash_point
from core.store import outbox
from core.store.audit import AuditEvent
from core.store.db import read_session, utcnow
from core.store.models import Artifact, Delivery
from flows.config import Destination, FlowSettings
from flows.delivery import transports
from flows.delivery.retry import GaveUp, Sleep, with_retries

logger = logging.getLogger(__name__)

DELIVERED = "delivered"


@dataclass(frozen=True)
class DeliveryReport:
    """Outcome of ``deliver_artifact``."""

    delivery_id: int
    artifact_id: int
    artifact_name: str
    destination: str
    description: str
    remote_path: str | None
    sha256: str | None
    size: int
    attempts: int
    already_delivered: bool
    delivered_at: datetime | None

    @property
    def summary(self) -> str:
        """One sentence for the operator."""
        if self.already_delivered:
            when = f" on {self.delivered_at:%Y-%m-%d %H:%M} UTC" if self.delivered_at else ""
            return (
                f"{self.artifact_name} was already delivered to {self.destination}{when}; nothing was sent."
            )
        tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
        return (
            f"Delivered {self.artifact_name} ({self.size:,} bytes) to {self.destination} as "
            f"{self.remote_path}; sha256 verified, {tries}."
        )


@dataclass(frozen=True)
class DeliveryPreview:
    """What a delivery would do, for approvers: no secrets, nothing sent."""

    file_name: str
    size: int
    sha256: str
    destination: str
    description: str
    target: str
    already_delivered: bool

    @property
    def summary(self) -> str:
        """One sentence for the approval card."""
        note = " (already delivered: it will not be sent again)" if self.already_delivered else ""
        return f"Send {self.file_name} ({self.size:,} bytes) to {self.destination}: {self.description}{note}."


def get_destination(settings: FlowSettings, name: str) -> Destination:
    """Return the configured destination ``name``.

    Raises:
        NotFound: listing the configured destinations.
    """
    dest = settings.destinations.get(name)
    if dest is None:
        known = ", ".join(sorted(settings.destinations)) or "none"
        raise NotFound(f"unknown destination {name!r}; configured destinations: {known}", destination=name)
    return dest


def _local_file(
    settings: FlowSettings, artifact: Artifact, delivery_id: int | None = None
) -> transports.LocalFile:
    """The artifact's file, checked against the size and sha256 recorded at export."""
    path = Path(artifact.path)
    if not path.is_absolute() and not path.exists():
        path = transports.project_base(settings) / path
    if not path.is_file():
        raise NotFound(
            f"the file of artifact {artifact.name} (id {artifact.id}) is missing: {path}", path=str(path)
        )
    digest, size = transports.file_sha256(path)
    if digest != artifact.sha256:
        raise Conflict(
            f"the file of artifact {artifact.name} changed since it was exported (sha256 {digest[:12]}…, "
            f"recorded {artifact.sha256[:12]}…); export it again",
            artifact=artifact.name,
        )
    return transports.LocalFile(
        path=path,
        name=Path(artifact.name).name,
        format=artifact.format,
        sha256=digest,
        size=size,
        delivery_id=delivery_id,
    )


def preview_delivery(
    *, engine: Engine, settings: FlowSettings, artifact: Artifact, destination: str
) -> DeliveryPreview:
    """Describe a delivery without performing it (file name, size, where it goes, whether it already went)."""
    dest = get_destination(settings, destination)
    local = _local_file(settings, artifact)
    with read_session(engine) as session:
        row = _row(session, artifact, destination)
    return DeliveryPreview(
        file_name=local.name,
        size=local.size,
        sha256=local.sha256,
        destination=destination,
        description=transports.describe(dest, settings=settings),
        target=transports.target_of(dest, local.name, settings=settings),
        already_delivered=row is not None and row.status == DELIVERED,
    )


def _row(session: Session, artifact: Artifact, destination: str) -> Delivery | None:
    query = select(Delivery).where(Delivery.artifact_id == artifact.id, Delivery.destination == destination)
    return session.exec(query).first()


def _claim(engine: Engine, artifact: Artifact, destination: str) -> tuple[Delivery, bool]:
    """The pair's row, claimed ("sending", created if new) unless it was delivered already.

    Raises:
        Conflict: another process or thread is delivering it right now.
    """
    artifact_id = artifact.id
    assert artifact_id is not None
    return outbox.claim(
        engine,
        Delivery,
        {"artifact_id": artifact_id, "destination": destination},
        states=outbox.RETRIED,
        new=lambda: Delivery(artifact_id=artifact_id, destination=destination),
        busy=f"could not record the delivery of {artifact.name} to {destination}; try again",
        in_flight=(
            f"{artifact.name} is being delivered to {destination} right now; wait for that delivery to finish"
        ),
    )


@tracing.traced("flows.deliver", stage="deliver", params=("destination",))
def deliver_artifact(
    *,
    engine: Engine,
    settings: FlowSettings,
    artifact: Artifact,
    destination: str,
    sleep: Sleep = time.sleep,
    actor: str = "system",
) -> DeliveryReport:
    """Deliver ``artifact`` to the named destination, at most once.

    Args:
        engine: Database engine.
        settings: Destinations, secrets and the retry policy.
        artifact: The artifact to send (its file is checked against the recorded sha256 first).
        destination: A configured destination name.
        sleep: Waits between attempts (injected by tests).
        actor: Who asked, for the audit record.

    Returns:
        The report; ``already_delivered`` is True when an earlier delivery made this a no-op.

    Raises:
        NotFound: unknown destination, or the artifact file is missing.
        Conflict: the artifact file changed since its export, or another process or thread is delivering it to
            this destination right now.
        ConfigError: a secret, key or known_hosts file the destination names is missing.
        DeliveryFailed: every attempt failed (or a permanent error stopped them); the row is marked failed.
    """
    dest = get_destination(settings, destination)
    tracing.annotate(target_kind=dest.kind)
    if artifact.id is None:
        raise NotFound(f"artifact {artifact.name} has not been stored", artifact=artifact.name)
    description = transports.describe(dest, settings=settings)
    with read_session(engine) as session:
        earlier = _row(session, artifact, destination)
    if earlier is not None and earlier.status == DELIVERED:
        return _report(earlier, artifact, description, already=True)
    transports.check_ready(destination, dest, settings=settings)
    row, claimed = _claim(engine, artifact, destination)
    assert row.id is not None
    if not claimed:
        return _report(row, artifact, description, already=True)
    finish = _Finisher(engine, row.id, artifact, destination, actor)
    try:
        with outbox.recording(finish.failed):
            local = _local_file(settings, artifact, row.id)
            done = with_retries(
                lambda _attempt: transports.upload(destination, dest, settings=settings, local=local),
                policy=settings.retry,
                sleep=sleep,
                what=f"delivery of {artifact.name} to {destination}",
            )
    except GaveUp as exc:
        tries = "1 attempt" if exc.attempts == 1 else f"{exc.attempts} attempts"
        raise DeliveryFailed(
            f"{exc.message} ({tries}{', not retried' if exc.permanent else ''})",
            destination=destination,
            artifact=artifact.name,
            attempts=exc.attempts,
            delivery_id=row.id,
        ) from None
    crash_point(settings, "delivery.uploaded")
    finished = finish.delivered(done.value, done.attempts)
    logger.info("delivered %s to %s as %s", artifact.name, destination, done.value.remote_path)
    already = done.value.already_there
    return _report(finished, artifact, description, already=already, attempts=done.attempts)


@dataclass(frozen=True)
class _Finisher:
    """Records a delivery's outcome on its row and in the audit log, in one transaction."""

    engine: Engine
    row_id: int
    artifact: Artifact
    destination: str
    actor: str

    def _record(self, event: str, update: dict[str, Any], data: dict[str, Any]) -> Delivery:
        base = {"artifact": self.artifact.name, "artifact_id": self.artifact.id}
        base |= {"destination": self.destination, "delivery_id": self.row_id}
        audit = AuditEvent(event, self.actor, subject=f"artifact:{self.artifact.id}", data=base | data)
        attempts = int(data["attempts"])
        return outbox.finish(self.engine, Delivery, self.row_id, attempts=attempts, events=[audit], **update)

    def delivered(self, uploaded: transports.Uploaded, attempts: int) -> Delivery:
        """Mark the row delivered; audit delivery.succeeded."""
        update = {"status": DELIVERED, "error": None, "delivered_at": utcnow()}
        update |= {"remote_path": uploaded.remote_path, "sha256": uploaded.sha256}
        data = {"remote_path": uploaded.remote_path, "sha256": uploaded.sha256, "size": uploaded.size}
        if uploaded.already_there:  # found at the destination, not sent: an interrupted attempt had sent it
            data["already_there"] = True
        return self._record("delivery.succeeded", update, data | {"attempts": attempts})

    def failed(self, exc: GaveUp) -> None:
        """Mark the row failed; audit delivery.failed."""
        data = {"error": exc.message, "attempts": exc.attempts, "permanent": exc.permanent}
        self._record("delivery.failed", {"status": outbox.FAILED, "error": exc.message}, data)


def _report(
    row: Delivery, artifact: Artifact, description: str, *, already: bool, attempts: int | None = None
) -> DeliveryReport:
    assert row.id is not None and artifact.id is not None
    tracing.annotate(outcome="already_delivered" if already else "delivered", attempts=attempts)
    return DeliveryReport(
        delivery_id=row.id,
        artifact_id=artifact.id,
        artifact_name=artifact.name,
        destination=row.destination,
        description=description,
        remote_path=row.remote_path,
        sha256=row.sha256,
        size=artifact.size,
        attempts=row.attempts if attempts is None else attempts,
        already_delivered=already,
        delivered_at=row.delivered_at,
    )
