"""Domain errors: one module, each with a stable code and a message that is safe to show a user.

Edges translate these (problem+json in the console, a short reply in the bot, a typer exit in the CLI) by their
code and fault; nothing below the edges catches them to print a traceback.
"""

from __future__ import annotations

from typing import Any, Literal

from core.text import MESSAGE_LIMIT, clip, clip_data


class SwitchboardError(Exception):
    """Base of every error a user may see.

    Attributes:
        code: Stable, machine-readable code (used by the API and the audit log).
        message: Human-readable message naming what was wrong; never contains secrets. At most
            ``core.text.MESSAGE_LIMIT`` characters: a longer one is clipped here, whatever it quotes.
        details: Structured context (file, line, field, ...), JSON-serialisable; each string in it is clipped to
            ``core.text.QUOTE_LIMIT`` characters and each list to ``core.text.ITEMS_LIMIT`` items.
        fault: Whose move it is: "caller" (change the request and try again) or "server" (the request was fine;
            something on our side or downstream failed).
    """

    code = "error"
    fault: Literal["caller", "server"] = "caller"

    def __init__(self, message: str, **details: Any) -> None:
        # Clipped here, once, because errors quote their input (a file's header, an argument) and travel
        # everywhere: into replies, thread messages, run errors, audit records and problem+json bodies.
        message = clip(message, MESSAGE_LIMIT)
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = clip_data(details)

    def to_dict(self) -> dict[str, Any]:
        """Return the error as a JSON-serialisable mapping."""
        return {
            "code": self.code,
            "message": self.message,
            **({"details": self.details} if self.details else {}),
        }


class BadInput(SwitchboardError):
    """The input (file, row, argument) is malformed; names the file, line and field where known."""

    code = "bad_input"


class NotFound(SwitchboardError):
    """A named thing (dataset, destination, flow, run, artifact, customer) does not exist."""

    code = "not_found"


class Forbidden(SwitchboardError):
    """The actor may not do this (role, four-eyes, path outside the inbox)."""

    code = "forbidden"


class Conflict(SwitchboardError):
    """The request conflicts with current state (already decided, expired, duplicate)."""

    code = "conflict"


class Busy(SwitchboardError):
    """Another request on the same thing (a chat thread) held it for too long; nothing was done."""

    code = "busy"
    fault = "server"


class TooLarge(SwitchboardError):
    """An input exceeds a configured size limit."""

    code = "too_large"


class DeliveryFailed(SwitchboardError):
    """A delivery or notification could not reach its destination after retries."""

    code = "delivery_failed"
    fault = "server"


class ConfigError(SwitchboardError):
    """The configuration is invalid or refers to something that does not exist."""

    code = "config_error"
    fault = "server"


class AuditUnavailable(SwitchboardError):
    """The audit record could not be written, so the action did not run."""

    code = "audit_unavailable"
    fault = "server"


class AuditTampered(SwitchboardError):
    """The audit log no longer extends its last signed checkpoint, so no new checkpoint is signed."""

    code = "audit_tampered"
    fault = "server"


def as_data(error: SwitchboardError) -> dict[str, Any]:
    """The error as data that crosses a process or a checkpoint; ``rebuild`` turns it back."""
    return {"type": type(error).__name__, "message": error.message, "details": error.details}


def rebuild(data: dict[str, Any]) -> SwitchboardError:
    """The error ``as_data`` described, as its own class when that is loaded (else the base class)."""
    found: dict[str, type[SwitchboardError]] = {}
    pending: list[type[SwitchboardError]] = [SwitchboardError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    cls = found.get(str(data.get("type")), SwitchboardError)
    return cls(str(data.get("message", "")), **dict(data.get("details") or {}))
