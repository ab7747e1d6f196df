"""The ingest webhook: another system posts a JSON list of records in a signed request.

The signature (``X-Switchboard-Signature: v1=<hex>`` with ``X-Switchboard-Timestamp``, keyed with
``settings.ingest_webhook_secret``; ``console.webhook_signature`` says what it covers) is the credential, so the
route needs no user. It is checked in constant time before the body is parsed; a request whose timestamp is
outside the window, or whose signature was already accepted (a replay), is refused. Posting the same records
again in a freshly signed request is a no-op (the ingest flow recognises their checksum).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from console.deps import State
from console.errors import Unavailable
from console.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, check_request
from core.errors import BadInput, Conflict, SwitchboardError
from core.store.nonces import claim_signature
from core.vocabulary import Dataset
from flows.ingest.pipeline import IngestReport, ingest_records

router = APIRouter(tags=["ingest"])
_BODY_SCHEMA: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "description": 'The records, one JSON object per row (or {"records": [...]}).',
                "oneOf": [
                    {"type": "array", "items": {"type": "object"}},
                    {
                        "type": "object",
                        "properties": {"records": {"type": "array", "items": {"type": "object"}}},
                        "required": ["records"],
                    },
                ],
            }
        }
    },
}


def _records(raw: bytes) -> list[Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("the body is not valid JSON") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise BadInput('the body must be a JSON list of records, or {"records": [...]}')
    return data


@router.post(
    "/api/ingest/{dataset}",
    response_model=IngestReport,
    openapi_extra={"requestBody": _BODY_SCHEMA},
    responses={
        401: {"description": "Missing or wrong signature, or a timestamp outside the window."},
        409: {"description": "A replay: this signed request was already received."},
        503: {"description": "Webhook not configured."},
    },
)
async def ingest_webhook(
    dataset: Dataset,
    request: Request,
    state: State,
    mode: Literal["append", "replace"] = "append",
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER, description="v1=<hex HMAC of timestamp, method, path, query and body>"
        ),
    ] = None,
    timestamp: Annotated[
        str | None, Header(alias=TIMESTAMP_HEADER, description="When the request was signed: Unix seconds.")
    ] = None,
    source: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")] = "webhook",
) -> IngestReport:
    """Load posted records into customers, products or orders (invalid rows are quarantined)."""
    secret = state.settings.ingest_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise Unavailable("the ingest webhook is off: set SWITCHBOARD_INGEST_WEBHOOK_SECRET to turn it on")
    state.limit("webhook:ingest")
    raw = await request.body()
    try:
        signed, stamp = check_request(
            secret.get_secret_value(),
            signature=signature,
            timestamp=timestamp,
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            body=raw,
            now=time.time(),
            window_s=state.settings.ingest_webhook_window_s,
        )
    except SwitchboardError:
        state.metrics.ingests.labels(dataset, "bad_signature").inc()
        raise
    # Kept until the timestamp leaves the window; after that the timestamp check alone refuses a replay.
    expires = datetime.fromtimestamp(stamp + state.settings.ingest_webhook_window_s, UTC)
    claimed = await run_in_threadpool(
        claim_signature, state.sb.engine, signature=signed, expires_at=expires, now=datetime.now(UTC)
    )
    if not claimed:
        state.metrics.ingests.labels(dataset, "replayed").inc()
        raise Conflict(
            "this signed request was already received, so the replay is refused; sign each request anew, "
            f"with the current {TIMESTAMP_HEADER}"
        )
    records = _records(raw)
    try:
        report = await run_in_threadpool(
            lambda: ingest_records(
                engine=state.sb.engine,
                records=records,
                dataset=dataset,
                mode=mode,
                source=source,
                actor="webhook",
            )
        )
    except SwitchboardError as exc:
        state.metrics.ingests.labels(dataset, exc.code).inc()
        raise
    state.metrics.ingests.labels(dataset, "ok").inc()
    return report
