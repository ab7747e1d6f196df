r"""Signed webhook requests: what the signature covers, how a sender makes it, and how the console checks it.

The sender puts the current time in ``X-Switchboard-Timestamp`` (whole seconds since 1970, UTC) and in
``X-Switchboard-Signature`` sends ``v1=`` and the hex HMAC-SHA256, keyed with the shared secret, of::

    "{timestamp}\n{METHOD}\n{path}\n{query}\n" + body

``path`` is the request path as sent (``/api/ingest/orders``), ``query`` the query string exactly as sent without
its ``?`` (empty when there is none), and ``body`` the raw bytes. So a signed request cannot be re-sent with
another method, path or query (``?mode=replace``), and the console refuses a timestamp more than
``ingest_webhook_window_s`` (300 s by default) from its clock. Inside that window, ``core.store.nonces`` refuses
an exact replay: each signature is accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from console.errors import Unauthorized

SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SCHEME = "v1"
_SECONDS = re.compile(r"^[0-9]{1,12}$")
HOW = "v1=<HMAC-SHA256 of timestamp, method, path, query and body; see console/README.md>"


def signed_bytes(*, timestamp: int | str, method: str, path: str, query: str, body: bytes) -> bytes:
    """The bytes the signature covers."""
    return f"{timestamp}\n{method.upper()}\n{path}\n{query}\n".encode() + body


def sign_request(
    secret: str, *, timestamp: int | str, method: str, path: str, query: str = "", body: bytes = b""
) -> str:
    """The ``X-Switchboard-Signature`` value for one request: ``v1=<hex>``."""
    message = signed_bytes(timestamp=timestamp, method=method, path=path, query=query, body=body)
    return f"{SCHEME}=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def check_request(
    secret: str,
    *,
    signature: str | None,
    timestamp: str | None,
    method: str,
    path: str,
    query: str,
    body: bytes,
    now: float,
    window_s: int,
) -> tuple[str, int]:
    """Check a request's signature and timestamp; return the signature (to claim once) and the timestamp.

    Raises:
        Unauthorized: a header is missing or malformed, the signature is wrong, or the timestamp is outside the
            window. The signature is checked before the timestamp, so only a holder of the secret learns of
            clock skew.
    """
    if not signature or not timestamp:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header (expected {HOW})")
    stamp = timestamp.strip()
    if not _SECONDS.match(stamp):
        raise Unauthorized(f"{TIMESTAMP_HEADER} must be whole seconds since 1970-01-01 UTC")
    given = signature.strip()
    if given.startswith("sha256="):
        raise Unauthorized(
            f"{SIGNATURE_HEADER} sha256=<HMAC of the body> is no longer accepted: it let a request be replayed "
            f"or sent to another path or query (expected {HOW})"
        )
    expected = sign_request(secret, timestamp=stamp, method=method, path=path, query=query, body=body)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise Unauthorized(f"wrong {SIGNATURE_HEADER} (expected {HOW})")
    skew = round(now - int(stamp))
    if abs(skew) > window_s:
        when = f"{skew} s old" if skew > 0 else f"{-skew} s in the future"
        raise Unauthorized(
            f"{TIMESTAMP_HEADER} is {when}, outside the {window_s} s window: sign each request when you send it"
        )
    return expected, int(stamp)
