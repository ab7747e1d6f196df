"""Send notifications (Telegram, e-mail, webhook) to addresses or recipient groups, through an outbox.

Every (idempotency key, member) pair is one Notification row: a row already sent is never sent again, so a
repeat with the same key is a no-op, and a failed row is retried by the next request with that key. The steps
are the outbox protocol's (``core.store.outbox``). A failed notification is recorded and raised; it never rolls
back or repeats anything else.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import Engine

from core import tracing
from core.errors import BadInput, DeliveryFailed
from core.store import outbox
from core.store.audit import AuditEvent
from core.store.db import utcnow
from core.store.models import Notification
from core.vocabulary import Channel
from flows.config import FlowSettings, Recipient
from flows.delivery.recipients import check_channels, resolve_recipients, shown_address
from flows.delivery.retry import GaveUp, Sleep, with_retries
from flows.delivery.transports.channels import TelegramPost, send_email, send_telegram, send_webhook

logger = logging.getLogger(__name__)

NOTIFY_WEBHOOK_SECRET = "notify_webhook_secret"
"""Name of the secret that signs webhook notifications (``SWITCHBOARD_SECRET_NOTIFY_WEBHOOK_SECRET``)."""
SENT = "sent"


@dataclass(frozen=True)
class MemberOutcome:
    """What happened for one recipient."""

    channel: str
    address: str
    status: Literal["sent", "already_sent", "failed"]
    attempts: int = 0
    error: str | None = None

    @property
    def label(self) -> str:
        """``channel:address`` with any webhook URL reduced to its safe form."""
        return f"{self.channel}:{shown_address(self.address)}"


@dataclass(frozen=True)
class NotifyReport:
    """Outcome of ``send_notification``."""

    channel: str | None
    recipient: str
    idempotency_key: str
    outcomes: tuple[MemberOutcome, ...]

    def _with(self, status: str) -> list[str]:
        return [o.label for o in self.outcomes if o.status == status]

    @property
    def sent(self) -> list[str]:
        """Members sent to by this call."""
        return self._with("sent")

    @property
    def already_sent(self) -> list[str]:
        """Members an earlier call with the same key already reached."""
        return self._with("already_sent")

    @property
    def failed(self) -> list[str]:
        """Members that could not be reached."""
        return self._with("failed")

    @property
    def summary(self) -> str:
        """One sentence for the operator."""
        parts = []
        if self.sent:
            parts.append(f"sent to {', '.join(self.sent)}")
        if self.already_sent:
            parts.append(f"already sent to {', '.join(self.already_sent)} (not repeated)")
        if self.failed:
            parts.append(f"failed for {', '.join(self.failed)}")
        return f"Notification for {self.recipient}: {'; '.join(parts) or 'nothing to send'}."


def _send(job: _Job, member: Recipient) -> MemberOutcome:
    with tracing.span("notify.send", kind="client", channel=member.channel) as span:
        outcome = job.deliver(member)
        span.set(outcome=outcome.status, attempts=outcome.attempts)
        return outcome


def _row_key(key: str, member: Recipient) -> str:
    return f"{key}|{member.channel}:{member.address}"


def _claim(engine: Engine, key: str, member: Recipient, message: str) -> Notification | None:
    """The member's outbox row, claimed ("sending", created if new), or None when it was already sent.

    Raises:
        Conflict: another process or thread is sending it right now.
    """
    row, claimed = outbox.claim(
        engine,
        Notification,
        {"idempotency_key": key},
        states=outbox.RETRIED,
        new=lambda: Notification(
            idempotency_key=key, channel=member.channel, recipient=member.address, message=message
        ),
        busy=f"could not record the notification to {member.address}; try again",
        in_flight=f"the notification to {shown_address(member.address)} is being sent right now",
    )
    return row if claimed else None


@dataclass(frozen=True)
class _Job:
    """One send_notification call: what to send, to whom it was addressed, and how."""

    engine: Engine
    settings: FlowSettings
    key: str
    recipient: str
    message: str
    sleep: Sleep
    post: TelegramPost | None
    actor: str

    def send_once(self, member: Recipient, row_id: int) -> None:
        """One attempt on the member's channel."""
        settings = self.settings
        if member.channel == "telegram":
            assert settings.telegram_token is not None
            token = settings.telegram_token.get_secret_value()
            send_telegram(
                api_url=settings.telegram_api_url,
                token=token,
                chat=member.address,
                text=self.message,
                post=self.post,
            )
        elif member.channel == "email":
            digest = hashlib.sha256(_row_key(self.key, member).encode()).hexdigest()[:32]
            send_email(
                smtp=settings.smtp,
                password=settings.secret(settings.smtp.password_secret),
                to=member.address,
                message=self.message,
                message_id=f"<{digest}@switchboard>",
            )
        else:
            send_webhook(
                url=member.address,
                payload={"text": self.message, "recipient": shown_address(self.recipient)},
                secret=settings.secret(NOTIFY_WEBHOOK_SECRET),
                message_id=str(row_id),
            )

    def finish(self, row_id: int, member: Recipient, *, attempts: int, error: str | None) -> None:
        """Record the member's outcome on its outbox row and in the audit log, in one transaction."""
        data = {
            "channel": member.channel,
            "recipient": shown_address(member.address),
            "requested": shown_address(self.recipient),
            "idempotency_key": self.key,
            "attempts": attempts,
            "message": self.message[:500],
            "notification_id": row_id,
        }
        if error:
            data["error"] = error
        event = "notification.failed" if error else "notification.sent"
        outbox.finish(
            self.engine,
            Notification,
            row_id,
            attempts=attempts,
            events=[AuditEvent(event, self.actor, subject=f"notification:{row_id}", data=data)],
            status=outbox.FAILED if error else SENT,
            error=error,
            sent_at=None if error else utcnow(),
        )

    def deliver(self, member: Recipient) -> MemberOutcome:
        """Send to one member unless its outbox row says it was already sent."""
        row_key = _row_key(self.key, member)
        row = _claim(self.engine, row_key, member, self.message)
        if row is None:
            return MemberOutcome(member.channel, member.address, "already_sent")
        assert row.id is not None
        row_id = row.id
        try:
            with outbox.recording(
                lambda exc: self.finish(row_id, member, attempts=exc.attempts, error=exc.message)
            ):
                done = with_retries(
                    lambda _attempt: self.send_once(member, row_id),
                    policy=self.settings.retry,
                    sleep=self.sleep,
                    what=f"{member.channel} notification {row_id}",
                )
        except GaveUp as exc:
            return MemberOutcome(member.channel, member.address, "failed", exc.attempts, exc.message)
        self.finish(row_id, member, attempts=done.attempts, error=None)
        return MemberOutcome(member.channel, member.address, "sent", done.attempts)


@tracing.traced("flows.notify", stage="notify")
def send_notification(
    *,
    engine: Engine,
    settings: FlowSettings,
    channel: Channel | None,
    recipient: str,
    message: str,
    idempotency_key: str | None,
    sleep: Sleep = time.sleep,
    telegram_post: TelegramPost | None = None,
    actor: str = "system",
) -> NotifyReport:
    """Send ``message`` to a recipient group or address, once per idempotency key and member.

    Args:
        engine: Database engine (the outbox and the audit log).
        settings: Channels, groups, secrets and the retry policy.
        channel: telegram, email or webhook; None sends group members on their own channels.
        recipient: A group name (finance, ops, sales) or an address valid for ``channel``.
        message: The text (the first line becomes the e-mail subject).
        idempotency_key: Makes a repeat a no-op; None sends unconditionally.
        sleep: Waits between attempts (injected by tests).
        telegram_post: Replaces the HTTP POST to the Bot API: (url, payload, timeout) -> httpx.Response.
        actor: Who asked, for the audit record.

    Returns:
        What was sent, and what an earlier call with the same key had already sent.

    Raises:
        BadInput: ``message`` is empty, or ``recipient`` is neither a group nor a valid address.
        NotFound: the group has no member on ``channel``.
        ConfigError: the channel is not configured (no bot token, missing SMTP secret).
        DeliveryFailed: a member could not be reached after retries (the others were still sent).
    """
    if not message.strip():
        raise BadInput("the notification message is empty", field="message")
    members = resolve_recipients(settings=settings, channel=channel, recipient=recipient)
    check_channels(settings, members)
    key = idempotency_key or f"once:{uuid.uuid4().hex}"
    job = _Job(engine, settings, key, recipient.strip(), message, sleep, telegram_post, actor)
    outcomes = tuple(_send(job, member) for member in members)
    report = NotifyReport(channel=channel, recipient=job.recipient, idempotency_key=key, outcomes=outcomes)
    failures = [o for o in outcomes if o.status == "failed"]
    if failures:
        detail = "; ".join(f"{o.label}: {o.error}" for o in failures)
        raise DeliveryFailed(
            f"notification to {job.recipient} failed for {detail}",
            recipient=job.recipient,
            failed=report.failed,
            sent=report.sent,
            already_sent=report.already_sent,
        )
    return report
