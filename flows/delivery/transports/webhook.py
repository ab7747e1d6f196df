"""Delivery to an HTTP webhook: the file body POSTed with an HMAC-SHA256 signature and its sha256.

A 2xx answer is success. If the receiver answers JSON with a ``sha256`` field it must match what was sent;
408, 425, 429 and 5xx answers and connection failures are retried; other 4xx answers are permanent.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from flows.config import WebhookDestination
from flows.delivery.retry import PermanentError, TransientError
from flows.delivery.transports.base import (
    DELIVERY_HEADER,
    FILE_HEADER,
    IDEMPOTENCY_HEADER,
    SHA256_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    LocalFile,
    Uploaded,
    host_port,
    safe_url,
    sign,
)

RETRYABLE_STATUS = frozenset({408, 425, 429})


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a numeric Retry-After header, if the server sent one."""
    value = response.headers.get("retry-after", "")
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def classify_status(response: httpx.Response, *, what: str) -> None:
    """Raise TransientError or PermanentError for a non-2xx answer; return for 2xx.

    Args:
        response: The answer.
        what: How to name the far side in messages (destination name and safe URL).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    if status in RETRYABLE_STATUS or status >= 500:
        raise TransientError(f"{what} answered {reason}", retry_after=retry_after(response))
    raise PermanentError(f"{what} refused the request: {reason}")


def transport_error(exc: httpx.HTTPError, *, name: str, url: str) -> TransientError:
    """A user-safe TransientError for a connection-level failure (no URL query, no traceback)."""
    where = f"{name} at {host_port(url)}"
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"could not reach {where}: timed out")
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        detail = "connection refused" if "refused" in text else "connection failed"
        return TransientError(f"could not reach {where}: {detail}")
    return TransientError(f"lost the connection to {where}: {type(exc).__name__}")


def upload_webhook(*, name: str, dest: WebhookDestination, secret: str | None, local: LocalFile) -> Uploaded:
    """POST one file to the webhook; one attempt.

    Raises:
        TransientError: connection failure, timeout, 408/425/429/5xx, or a checksum the receiver disputes.
        PermanentError: any other 4xx.
    """
    headers = {
        "Content-Type": local.content_type,
        "Content-Length": str(local.size),
        TIMESTAMP_HEADER: str(int(time.time())),
        FILE_HEADER: local.name,
        SHA256_HEADER: local.sha256,
    }
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, local.chunks())
    if local.delivery_id is not None:
        # Lets a receiver drop a duplicate if a retry follows a lost answer to a request that did arrive.
        headers[DELIVERY_HEADER] = str(local.delivery_id)
        headers[IDEMPOTENCY_HEADER] = f"switchboard-delivery-{local.delivery_id}"
    shown = safe_url(dest.url)
    try:
        with httpx.Client(timeout=dest.timeout_s, follow_redirects=False, trust_env=False) as client:
            response = client.post(dest.url, content=local.chunks(), headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(exc, name=name, url=dest.url) from None
    classify_status(response, what=f"{name} ({shown})")
    reported = _reported_sha256(response)
    if reported is not None and reported.lower() != local.sha256:
        raise TransientError(
            f"{name} ({shown}) received {local.name} with sha256 {reported[:12]}…, "
            f"expected {local.sha256[:12]}…"
        )
    return Uploaded(remote_path=shown, sha256=local.sha256, size=local.size)


def _reported_sha256(response: httpx.Response) -> str | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body: Any = response.json()
    except ValueError:
        return None
    value = body.get("sha256") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None
