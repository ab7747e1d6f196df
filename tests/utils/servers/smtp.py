"""A real SMTP server on loopback (aiosmtpd) that captures every envelope.

aiosmtpd's ``Controller`` runs its own loop in a thread. Its readiness check
fails with ``port=0``, so a free port is picked first. Tests can make the next
deliveries fail with an SMTP reply such as ``451`` to exercise retries.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self, cast

from aiosmtpd.controller import Controller

from tests.utils.servers.ports import LOOPBACK, Recorder, free_port


@dataclass(frozen=True)
class CapturedMail:
    """One accepted message: the SMTP envelope plus the parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        """The content parsed with the modern ``email`` policy."""
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def subject(self) -> str:
        """The decoded Subject header ('' when absent)."""
        return str(self.message.get("Subject", ""))

    @property
    def text(self) -> str:
        """The text/plain body, falling back to text/html ('' when neither exists)."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        return "" if body is None else str(cast(EmailMessage, body).get_content()).replace("\r\n", "\n")

    @property
    def attachments(self) -> list[tuple[str, bytes]]:
        """Attachments as ``(filename, payload)`` pairs."""
        out: list[tuple[str, bytes]] = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True)
            out.append((part.get_filename() or "", payload if isinstance(payload, bytes) else b""))
        return out


class _CaptureHandler:
    """aiosmtpd handler hooks: record on DATA, or answer a scripted failure."""

    def __init__(self, owner: SmtpServer) -> None:
        self._owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Accept and record the message unless a failure is scripted."""
        failure = self._owner._next_failure()
        if failure is not None:
            return failure
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else str(content).encode()
        self._owner._mails.append(CapturedMail(str(envelope.mail_from), list(envelope.rcpt_tos), raw))
        return "250 Message accepted for delivery"


class SmtpServer:
    """Plain SMTP (no TLS, no AUTH) on loopback, capturing envelopes."""

    def __init__(self, *, host: str = LOOPBACK, port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._mails: Recorder[CapturedMail] = Recorder()
        self._failures: deque[str] = deque()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[CapturedMail]:
        """Every accepted message so far, oldest first."""
        return self._mails.snapshot()

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._controller is not None

    def fail_next(self, reply: str = "451 4.3.0 Try again later", *, times: int = 1) -> None:
        """Answer the next ``times`` DATA commands with ``reply`` instead of accepting."""
        with self._lock:
            self._failures.extend([reply] * times)

    def _next_failure(self) -> str | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def wait_for(self, count: int = 1, *, timeout: float = 5.0) -> list[CapturedMail]:
        """Wait until ``count`` messages were accepted; raises ``TimeoutError`` otherwise."""
        return self._mails.wait_for(count, timeout=timeout)

    def clear(self) -> None:
        """Forget captured messages and scripted failures."""
        self._mails.clear()
        with self._lock:
            self._failures.clear()

    def start(self) -> Self:
        """Start the controller thread; returns once it answers."""
        if self._controller is not None:
            return self
        controller = Controller(
            _CaptureHandler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=5.0,
            enable_SMTPUTF8=True,
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop the controller; safe to call twice."""
        controller = self._controller
        if controller is None:
            return
        self._controller = None
        controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
