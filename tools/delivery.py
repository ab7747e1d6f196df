"""Delivery tools: send an exported file to a named destination; send a notification to a person or group.

Both are external: they reach outside Switchboard, so the policy asks for approval, and each has a preview
that shows approvers exactly what would be sent where (without secrets).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core.store.models import MAX_INTEGER
from core.vocabulary import Channel, DestinationName
from flows.delivery.deliver import deliver_artifact, preview_delivery
from flows.delivery.notify import send_notification
from flows.delivery.recipients import check_channels, find_group, resolve_recipients, shown_address
from flows.export.exporter import find_artifact
from tools.arguments import FreeText, OneLine
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec


class DeliverFileArgs(ToolArgs):
    """Which file goes where."""

    file: OneLine = Field(
        min_length=1,
        max_length=500,
        description=(
            "The exported file to send: its artifact name (e.g. 'sales_by_region_2026-11-21.csv'), its "
            "numeric artifact id, or 'latest' for the most recent export."
        ),
    )
    destination: DestinationName = Field(
        description=(
            "Named destination: bank_sftp or partner_sftp (SFTP servers), finance_share (the finance shared "
            "folder) or erp_webhook (the ERP's HTTP endpoint)."
        )
    )

    @field_validator("file")
    @classmethod
    def _id_in_range(cls, value: str) -> str:
        if value.isascii() and value.isdigit() and int(value) > MAX_INTEGER:
            raise ValueError(f"an artifact id is at most {MAX_INTEGER:,}")
        return value


class SendNotificationArgs(ToolArgs):
    """Who gets which message, on which channel."""

    channel: Channel = Field(description="How to send it: telegram, email or webhook.")
    recipient: OneLine = Field(
        min_length=1,
        max_length=500,
        description=(
            "A recipient group (finance, ops or sales) or one address on the channel: an e-mail address, a "
            "Telegram chat id or @username, or a webhook URL."
        ),
    )
    message: FreeText = Field(
        min_length=1, max_length=4000, description="The text to send, as the user phrased it."
    )


def _deliver_file(ctx: ToolContext, args: DeliverFileArgs) -> ToolResult:
    artifact = find_artifact(ctx.engine, args.file)
    report = deliver_artifact(
        engine=ctx.engine,
        settings=ctx.settings,
        artifact=artifact,
        destination=args.destination,
        actor=ctx.actor,
    )
    rows: list[list[Any]] = [
        ["file", report.artifact_name],
        ["destination", f"{report.destination} ({report.description})"],
        ["remote path", report.remote_path],
        ["size (bytes)", report.size],
        ["sha256", report.sha256],
        ["attempts", report.attempts],
        ["status", "already delivered" if report.already_delivered else "delivered"],
    ]
    return ToolResult(
        summary=report.summary,
        table=Table(title="Delivery", columns=["field", "value"], rows=rows),
        artifact_ids=[report.artifact_id],
        data={
            "delivery_id": report.delivery_id,
            "artifact_id": report.artifact_id,
            "destination": report.destination,
            "remote_path": report.remote_path,
            "sha256": report.sha256,
            "attempts": report.attempts,
            "already_delivered": report.already_delivered,
        },
    )


def _preview_deliver_file(ctx: ToolContext, args: DeliverFileArgs) -> Preview:
    artifact = find_artifact(ctx.engine, args.file)
    preview = preview_delivery(
        engine=ctx.engine, settings=ctx.settings, artifact=artifact, destination=args.destination
    )
    return Preview(
        summary=preview.summary,
        file_name=preview.file_name,
        file_size=preview.size,
        details={
            "artifact_id": artifact.id,
            "destination": preview.destination,
            "description": preview.description,
            "target": preview.target,
            "sha256": preview.sha256,
            "already_delivered": preview.already_delivered,
        },
    )


def notification_key(ctx: ToolContext) -> str | None:
    """The outbox key: the first run of the retry chain's idempotency key (e.g. an approval id), else that run.

    A retried run keys on the run it retries (the first of the chain), so retry_run re-sends only to the
    members the failed attempt did not reach.
    """
    if ctx.run_id is None:
        return ctx.idempotency_key
    run = ctx.runs.get(ctx.run_id)
    while run.parent_id is not None:
        run = ctx.runs.get(run.parent_id)
    return run.idempotency_key or f"run:{run.id}"


def _send_notification(ctx: ToolContext, args: SendNotificationArgs) -> ToolResult:
    report = send_notification(
        engine=ctx.engine,
        settings=ctx.settings,
        channel=args.channel,
        recipient=args.recipient,
        message=args.message,
        idempotency_key=notification_key(ctx),
        actor=ctx.actor,
    )
    rows: list[list[Any]] = [
        [o.channel, shown_address(o.address), o.status.replace("_", " "), o.attempts] for o in report.outcomes
    ]
    return ToolResult(
        summary=report.summary,
        table=Table(title="Notification", columns=["channel", "recipient", "status", "attempts"], rows=rows),
        data={
            "sent": report.sent,
            "already_sent": report.already_sent,
            "idempotency_key": report.idempotency_key,
        },
    )


def _preview_send_notification(ctx: ToolContext, args: SendNotificationArgs) -> Preview:
    members = resolve_recipients(settings=ctx.settings, channel=args.channel, recipient=args.recipient)
    check_channels(ctx.settings, members)
    shown = [f"{m.channel}:{shown_address(m.address)}" for m in members]
    group = find_group(ctx.settings, args.recipient)
    to = f"group {group[0]} ({', '.join(shown)})" if group else ", ".join(shown)
    first = (args.message.strip().splitlines() or [""])[0]
    snippet = first if len(first) <= 80 else first[:79] + "…"
    return Preview(
        summary=f"Send by {args.channel} to {to}: “{snippet}”",
        recipients=shown,
        details={"channel": args.channel, "recipient": args.recipient, "characters": len(args.message)},
    )


def _pin_artifact(ctx: ToolContext, args: DeliverFileArgs) -> DeliverFileArgs:
    # An approver approves the file they were shown; "latest" must not drift to a newer export before it runs.
    artifact = find_artifact(ctx.engine, args.file)
    return args.model_copy(update={"file": str(artifact.id)})


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="deliver_file",
        description=(
            "Send an exported file (an artifact) to a named destination: an SFTP server, the finance share "
            "or the ERP webhook. Uploads are atomic and checksum-verified; a file already delivered to that "
            "destination is not sent again."
        ),
        args_model=DeliverFileArgs,
        risk="external",
        func=_deliver_file,
        preview=_preview_deliver_file,
        pin=_pin_artifact,
    ),
    ToolSpec(
        name="send_notification",
        description=(
            "Send a short message by Telegram, e-mail or webhook to a recipient group (finance, ops, sales) "
            "or to a single address. Repeating the same request does not send it twice."
        ),
        args_model=SendNotificationArgs,
        risk="external",
        func=_send_notification,
        preview=_preview_send_notification,
    ),
)
