"""Delivery transports (SFTP, share directory, HTTP webhook) behind one ``upload`` call.

Each transport makes exactly one attempt and raises ``TransientError`` or ``PermanentError`` with a user-safe
message; flows.delivery.deliver owns retries, idempotency and the audit trail.
"""

from __future__ import annotations

from pathlib import Path

from core import tracing
from core.errors import ConfigError
from flows.config import Destination, FlowSettings, SftpDestination, ShareDestination, WebhookDestination
from flows.delivery.transports.base import LocalFile, Uploaded, file_sha256, safe_url, sign
from flows.delivery.transports.sftp import remote_target, upload_sftp
from flows.delivery.transports.share import share_folder, upload_share
from flows.delivery.transports.webhook import upload_webhook

__all__ = [
    "LocalFile",
    "Uploaded",
    "check_ready",
    "describe",
    "file_sha256",
    "project_base",
    "safe_url",
    "sign",
    "target_of",
    "upload",
]


def project_base(settings: FlowSettings) -> Path:
    """The folder that holds var/; relative share paths in config resolve against it."""
    return settings.var_dir.parent


def describe(dest: Destination, *, settings: FlowSettings) -> str:
    """Where a destination points, in words, without secrets (for previews, messages and the audit log)."""
    if isinstance(dest, SftpDestination):
        folder = dest.remote_dir if dest.remote_dir not in ("", ".") else "~"
        return f"SFTP {dest.username}@{dest.host}:{dest.port} {folder}"
    if isinstance(dest, ShareDestination):
        return f"share folder {share_folder(dest, base=project_base(settings))}"
    return f"webhook POST {safe_url(dest.url)}"


def target_of(dest: Destination, file_name: str, *, settings: FlowSettings) -> str:
    """Where ``file_name`` will land (remote path, local path or URL), without secrets."""
    if isinstance(dest, SftpDestination):
        return remote_target(dest, file_name)
    if isinstance(dest, ShareDestination):
        return str(share_folder(dest, base=project_base(settings)) / file_name)
    return safe_url(dest.url)


def _secret(settings: FlowSettings, name: str | None, *, destination: str, field: str) -> str | None:
    if not name:
        return None
    value = settings.secret(name)
    if value is None:
        raise ConfigError(
            f"destination {destination} needs the secret {name!r} ({field}); set "
            f"SWITCHBOARD_SECRET_{name.upper()} or put a file with that name in the secrets folder",
            destination=destination,
            setting=f"destinations.{destination}.{field}",
        )
    return value


def check_ready(name: str, dest: Destination, *, settings: FlowSettings) -> None:
    """Fail fast, before any attempt, on configuration that no retry can fix.

    Raises:
        ConfigError: a named secret is unset, or a key or known_hosts file is missing.
    """
    if isinstance(dest, SftpDestination):
        _secret(settings, dest.password_secret, destination=name, field="password_secret")
        if dest.password_secret is None and dest.key_file is None:
            raise ConfigError(
                f"destination {name} has neither password_secret nor key_file; configure one of them",
                destination=name,
            )
        for field, path in (("key_file", dest.key_file), ("known_hosts", dest.known_hosts)):
            if path is not None and not Path(path).is_file():
                raise ConfigError(
                    f"destination {name}: {field} {path} does not exist",
                    destination=name,
                    setting=f"destinations.{name}.{field}",
                )
    elif isinstance(dest, WebhookDestination):
        _secret(settings, dest.secret_name, destination=name, field="secret_name")


def upload(name: str, dest: Destination, *, settings: FlowSettings, local: LocalFile) -> Uploaded:
    """Send one file to one destination; one attempt (see the module docstring for errors)."""
    with tracing.span("delivery.send", kind="client", destination=name, target_kind=dest.kind) as span:
        uploaded = _upload(name, dest, settings=settings, local=local)
        span.set(outcome="already_there" if uploaded.already_there else "sent")
        return uploaded


def _upload(name: str, dest: Destination, *, settings: FlowSettings, local: LocalFile) -> Uploaded:
    if isinstance(dest, SftpDestination):
        password = _secret(settings, dest.password_secret, destination=name, field="password_secret")
        return upload_sftp(name=name, dest=dest, password=password, local=local)
    if isinstance(dest, ShareDestination):
        return upload_share(name=name, dest=dest, base=project_base(settings), local=local)
    secret = _secret(settings, dest.secret_name, destination=name, field="secret_name")
    return upload_webhook(name=name, dest=dest, secret=secret, local=local)
