"""What every transport shares: the upload result, file hashing, HMAC signing and secret-free descriptions.

Nothing here returns a secret: URLs lose their user-info and query string before they are shown or audited.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.files import file_sha256 as file_sha256

CHUNK = 256 * 1024
SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
FILE_HEADER = "X-Switchboard-File"
SHA256_HEADER = "X-Switchboard-Sha256"
DELIVERY_HEADER = "X-Switchboard-Delivery"
# The IETF draft's name for the same promise (draft-ietf-httpapi-idempotency-key-header): a receiver that
# dedupes on it drops a repeat that follows a crash or a lost answer.
IDEMPOTENCY_HEADER = "Idempotency-Key"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xml": "application/xml",
    "dat": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Uploaded:
    """Where a file landed and what the far side holds, as verified after the upload."""

    remote_path: str
    sha256: str
    size: int
    already_there: bool = (
        False  # the destination held this exact file (same size and sha256): nothing was sent
    )


@dataclass(frozen=True)
class LocalFile:
    """The artifact file to send, with the checksum it must arrive with."""

    path: Path
    name: str
    format: str
    sha256: str
    size: int
    delivery_id: int | None = None

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes in bounded chunks (large exports never sit in memory whole)."""
        with self.path.open("rb") as handle:
            while block := handle.read(CHUNK):
                yield block

    @property
    def content_type(self) -> str:
        """MIME type for the file's format."""
        return CONTENT_TYPES.get(self.format, "application/octet-stream")


def sign(secret: str, chunks: Iterator[bytes] | bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of the body under ``secret``, as sent in X-Switchboard-Signature."""
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)
    if isinstance(chunks, bytes):
        mac.update(chunks)
    else:
        for block in chunks:
            mac.update(block)
    return f"sha256={mac.hexdigest()}"


def part_name(name: str) -> str:
    """A hidden temporary name beside the target, unique per attempt, renamed into place when complete."""
    return f".{name}.part-{uuid.uuid4().hex[:12]}"


def safe_url(url: str) -> str:
    """The URL without user-info, query or fragment, fit for messages and the audit log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def host_port(url: str) -> str:
    """``host:port`` of a URL, for "could not reach" messages."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"
