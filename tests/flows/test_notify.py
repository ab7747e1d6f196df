"""Notifications over real SMTP, a fake Telegram Bot API and a webhook receiver on loopback, via an outbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import BadInput, ConfigError, Conflict, DeliveryFailed, NotFound
from core.store.audit import AuditLog, AuditRecord
from core.store.db import utcnow, write_session
from core.store.models import Notification
from core.store.outbox import LEASE
from flows.config import Recipient, SmtpConfig
from flows.delivery.notify import NOTIFY_WEBHOOK_SECRET, send_notification
from flows.delivery.recipients import resolve_recipients
from switchboard.settings import Settings
from tests.utils.servers.http import HttpReceiver
from tests.utils.servers.ports import free_port
from tests.utils.servers.smtp import SmtpServer
from tests.utils.servers.telegram_api import TelegramApi

HOOK_SECRET = "notify-hook-secret-81b2"


def configure(
    settings: Settings,
    *,
    smtp_port: int | None = None,
    telegram: TelegramApi | None = None,
    groups: dict[str, list[Recipient]] | None = None,
) -> Settings:
    update: dict[str, Any] = {"secrets": {NOTIFY_WEBHOOK_SECRET: SecretStr(HOOK_SECRET)}}
    if smtp_port is not None:
        update["smtp"] = SmtpConfig(
            host="127.0.0.1", port=smtp_port, sender="switchboard@example.com", timeout_s=5
        )
    if telegram is not None:
        update["telegram_token"] = SecretStr(telegram.token)
        update["telegram_api_url"] = telegram.base_url
    if groups is not None:
        update["recipient_groups"] = {**settings.recipient_groups, **groups}
    return settings.model_copy(update=update)


FINANCE = [
    Recipient(channel="email", address="cfo@example.com"),
    Recipient(channel="email", address="ledger@example.com"),
    Recipient(channel="telegram", address="4242"),
]


def outbox(engine: Engine) -> list[tuple[str, str, str, int]]:
    with Session(engine) as session:
        found = session.exec(select(Notification).order_by(Notification.id)).all()
    return [(n.channel, n.recipient, n.status, n.attempts) for n in found]


def audit(engine: Engine, event: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        records = session.exec(
            select(AuditRecord).where(AuditRecord.event == event).order_by(AuditRecord.seq)
        )
        return [json.loads(r.data) for r in records]


def assert_no_secrets(engine: Engine, *secrets: str) -> None:
    with Session(engine) as session:
        for record in session.exec(select(AuditRecord)).all():
            for secret in secrets:
                assert secret not in record.data, f"secret leaked into audit record {record.seq}"
    assert AuditLog(engine).verify().ok


# -- e-mail -----------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_email_to_the_finance_group_reaches_its_email_members(
    engine: Engine, settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = configure(settings, smtp_port=smtp_server.port, groups={"finance": FINANCE})

    report = send_notification(
        engine=engine,
        settings=settings,
        channel="email",
        recipient="finance",
        message="Nightly export delivered\nAll 4 regions included.",
        idempotency_key="k1",
    )

    mails = smtp_server.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in mails) == ["cfo@example.com", "ledger@example.com"]
    assert all(len(m.rcpt_tos) == 1 and m.mail_from == "switchboard@example.com" for m in mails)
    assert {m.subject for m in mails} == {"Switchboard: Nightly export delivered"}
    assert mails[0].text.strip() == "Nightly export delivered\nAll 4 regions included."
    assert report.sent == ["email:cfo@example.com", "email:ledger@example.com"]
    assert (
        report.summary == "Notification for finance: sent to email:cfo@example.com, email:ledger@example.com."
    )
    assert outbox(engine) == [
        ("email", "cfo@example.com", "sent", 1),
        ("email", "ledger@example.com", "sent", 1),
    ]
    sent = audit(engine, "notification.sent")
    assert [(e["recipient"], e["requested"], e["attempts"]) for e in sent] == [
        ("cfo@example.com", "finance", 1),
        ("ledger@example.com", "finance", 1),
    ]


@pytest.mark.integration
def test_same_idempotency_key_sends_once(
    any_engine: Engine, settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = configure(settings, smtp_port=smtp_server.port)
    kwargs: dict[str, Any] = {
        "engine": any_engine,
        "settings": settings,
        "channel": "email",
        "recipient": "ops",
        "message": "Disk almost full",
    }

    first = send_notification(idempotency_key="approval:17", **kwargs)
    second = send_notification(idempotency_key="approval:17", **kwargs)

    assert len(smtp_server.wait_for(1)) == 1
    assert first.sent == ["email:ops@example.com"] and second.sent == []
    assert second.already_sent == ["email:ops@example.com"]
    assert len(smtp_server.messages) == 1
    send_notification(idempotency_key="approval:18", **kwargs)
    assert len(smtp_server.wait_for(2)) == 2
    assert [row[2] for row in outbox(any_engine)] == ["sent", "sent"]


@pytest.mark.integration
def test_smtp_try_again_reply_is_retried(engine: Engine, settings: Settings, smtp_server: SmtpServer) -> None:
    settings = configure(settings, smtp_port=smtp_server.port)
    smtp_server.fail_next("451 4.3.0 Try again later")
    sleeps: list[float] = []
    report = send_notification(
        engine=engine,
        settings=settings,
        channel="email",
        recipient="ops@example.com",
        message="hello",
        idempotency_key="retry-1",
        sleep=sleeps.append,
    )
    assert report.outcomes[0].attempts == 2 and sleeps == [0.5]
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.integration
def test_a_failed_member_is_recorded_and_only_it_is_retried_with_the_same_key(
    engine: Engine, settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = configure(settings, smtp_port=smtp_server.port, groups={"finance": FINANCE})
    smtp_server.fail_next("554 5.7.1 Message rejected")
    sleeps: list[float] = []
    kwargs: dict[str, Any] = {
        "engine": engine,
        "settings": settings,
        "channel": "email",
        "recipient": "finance",
        "message": "Invoice run finished",
        "idempotency_key": "run:9",
        "sleep": sleeps.append,
    }

    with pytest.raises(DeliveryFailed) as failed:
        send_notification(**kwargs)

    assert failed.value.message == (
        "notification to finance failed for email:cfo@example.com: the mail server at "
        f"127.0.0.1:{smtp_server.port} answered 554 5.7.1 Message rejected"
    )
    assert failed.value.details["sent"] == ["email:ledger@example.com"]
    assert sleeps == []
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["ledger@example.com"]]
    assert outbox(engine) == [
        ("email", "cfo@example.com", "failed", 1),
        ("email", "ledger@example.com", "sent", 1),
    ]
    [event] = audit(engine, "notification.failed")
    assert event["recipient"] == "cfo@example.com" and "554" in event["error"]

    again = send_notification(**kwargs)
    assert again.sent == ["email:cfo@example.com"] and again.already_sent == ["email:ledger@example.com"]
    assert [m.rcpt_tos for m in smtp_server.wait_for(2)] == [["ledger@example.com"], ["cfo@example.com"]]


@pytest.mark.integration
def test_unreachable_smtp_server_fails_after_retries(engine: Engine, settings: Settings) -> None:
    port = free_port()
    settings = configure(settings, smtp_port=port)
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as failed:
        send_notification(
            engine=engine,
            settings=settings,
            channel="email",
            recipient="ops",
            message="anyone there?",
            idempotency_key=None,
            sleep=sleeps.append,
        )
    assert failed.value.message == (
        "notification to ops failed for email:ops@example.com: could not reach the mail server at "
        f"127.0.0.1:{port}: connection refused"
    )
    assert sleeps == [0.5, 1.0, 2.0]
    assert outbox(engine) == [("email", "ops@example.com", "failed", 4)]


# -- Telegram ---------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_telegram_message_goes_through_the_bot_api(
    engine: Engine, settings: Settings, telegram_api: TelegramApi
) -> None:
    settings = configure(settings, telegram=telegram_api, groups={"finance": FINANCE})
    report = send_notification(
        engine=engine,
        settings=settings,
        channel="telegram",
        recipient="finance",
        message="Export delivered",
        idempotency_key="t1",
    )
    assert telegram_api.sent_params("sendMessage") == [{"chat_id": 4242, "text": "Export delivered"}]
    assert report.sent == ["telegram:4242"]
    assert_no_secrets(engine, telegram_api.token, telegram_api.token.split(":")[1])


@pytest.mark.integration
def test_telegram_429_waits_retry_after(
    engine: Engine, settings: Settings, telegram_api: TelegramApi
) -> None:
    settings = configure(settings, telegram=telegram_api)
    telegram_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    sleeps: list[float] = []
    report = send_notification(
        engine=engine,
        settings=settings,
        channel="telegram",
        recipient="@ops_lead",
        message="Slow down",
        idempotency_key="t2",
        sleep=sleeps.append,
    )
    assert sleeps == [7.0]
    assert report.outcomes[0].attempts == 2
    assert telegram_api.sent_params("sendMessage") == [{"chat_id": "@ops_lead", "text": "Slow down"}]


@pytest.mark.integration
def test_telegram_blocked_chat_is_permanent(
    engine: Engine, settings: Settings, telegram_api: TelegramApi
) -> None:
    settings = configure(settings, telegram=telegram_api)
    telegram_api.block_chat(777)
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed, match="refused the message to chat 777: Forbidden: bot was blocked"):
        send_notification(
            engine=engine,
            settings=settings,
            channel="telegram",
            recipient="777",
            message="hi",
            idempotency_key="t3",
            sleep=sleeps.append,
        )
    assert sleeps == []
    assert telegram_api.token not in json.dumps(audit(engine, "notification.failed"))


def test_telegram_without_a_token_is_a_config_error(engine: Engine, settings: Settings) -> None:
    with pytest.raises(
        ConfigError, match="telegram notifications need a bot token; set SWITCHBOARD_TELEGRAM_TOKEN"
    ):
        send_notification(
            engine=engine,
            settings=settings,
            channel="telegram",
            recipient="12345",
            message="hi",
            idempotency_key=None,
        )
    assert outbox(engine) == []


# -- webhook ----------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_webhook_notification_is_signed_and_its_url_query_never_audited(
    engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    settings = configure(settings)
    url = f"{http_receiver.url}/hooks/ops?token=abc123"
    send_notification(
        engine=engine,
        settings=settings,
        channel="webhook",
        recipient=url,
        message="Run 12 failed",
        idempotency_key="w1",
    )
    [request] = http_receiver.requests
    assert request.path == "/hooks/ops" and request.query == {"token": ["abc123"]}
    assert request.json() == {"text": "Run 12 failed", "recipient": f"{http_receiver.url}/hooks/ops"}
    expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.header("X-Switchboard-Signature") == expected
    [event] = audit(engine, "notification.sent")
    assert event["recipient"] == f"{http_receiver.url}/hooks/ops"
    assert_no_secrets(engine, "abc123", HOOK_SECRET)


@pytest.mark.integration
def test_webhook_group_members_and_retries(
    engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    members = [
        Recipient(channel="webhook", address=f"{http_receiver.url}/a"),
        Recipient(channel="email", address="ops@example.com"),
    ]
    settings = configure(settings, groups={"ops": members})
    http_receiver.respond_next(503, 200)
    sleeps: list[float] = []
    report = send_notification(
        engine=engine,
        settings=settings,
        channel="webhook",
        recipient="ops",
        message="ping",
        idempotency_key="w2",
        sleep=sleeps.append,
    )
    assert report.sent == [f"webhook:{http_receiver.url}/a"] and sleeps == [0.5]
    assert [r.json()["recipient"] for r in http_receiver.requests] == ["ops", "ops"]


@pytest.mark.integration
def test_a_notification_another_process_is_sending_is_refused_until_its_lease_runs_out(
    any_engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    settings = configure(settings)
    url = f"{http_receiver.url}/hooks/ops?token=abc123"
    elsewhere = "process:other-host:4242:1"
    with write_session(any_engine) as session:
        session.add(
            Notification(
                idempotency_key=f"w3|webhook:{url}",
                channel="webhook",
                recipient=url,
                message="Run 12 failed",
                status="sending",
                claimed_by=elsewhere,
                claimed_at=utcnow() - timedelta(minutes=5),
            )
        )
    kwargs: dict[str, Any] = {
        "engine": any_engine,
        "settings": settings,
        "channel": "webhook",
        "recipient": url,
        "message": "Run 12 failed",
        "idempotency_key": "w3",
    }

    message = f"the notification to {http_receiver.url}/hooks/ops is being sent right now"
    with pytest.raises(Conflict, match=f"^{re.escape(message)}$"):
        send_notification(**kwargs)
    assert http_receiver.requests == []

    with write_session(any_engine) as session:  # that process died: its claim is now older than the lease
        [row] = session.exec(select(Notification)).all()
        row.claimed_at = utcnow() - LEASE - timedelta(minutes=1)
    report = send_notification(**kwargs)

    assert report.sent == [f"webhook:{http_receiver.url}/hooks/ops"] and len(http_receiver.requests) == 1
    assert outbox(any_engine) == [("webhook", url, "sent", 1)]


# -- recipients -------------------------------------------------------------------------------------------


def test_recipient_resolution(settings: Settings) -> None:
    settings = configure(settings, groups={"finance": FINANCE})
    assert resolve_recipients(settings=settings, channel="email", recipient=" Finance ") == FINANCE[:2]
    assert resolve_recipients(settings=settings, channel="telegram", recipient="@ops_lead") == [
        Recipient(channel="telegram", address="@ops_lead")
    ]
    assert resolve_recipients(settings=settings, channel="telegram", recipient="-100123") == [
        Recipient(channel="telegram", address="-100123")
    ]
    with pytest.raises(
        NotFound, match=r"^recipient group sales has no telegram members \(its members use: email\)$"
    ):
        resolve_recipients(settings=settings, channel="telegram", recipient="sales")
    with pytest.raises(
        BadInput,
        match=r"^unknown recipient 'bob': not a recipient group \(finance, ops, sales\) "
        r"and not an e-mail address",
    ):
        resolve_recipients(settings=settings, channel="email", recipient="bob")
    with pytest.raises(BadInput, match="not a numeric chat id or an @username"):
        resolve_recipients(settings=settings, channel="telegram", recipient="ops@example.com")
    with pytest.raises(BadInput, match="not an http"):
        resolve_recipients(settings=settings, channel="webhook", recipient="ftp://example.com/x")


def test_empty_message_is_refused(engine: Engine, settings: Settings) -> None:
    with pytest.raises(BadInput, match="the notification message is empty"):
        send_notification(
            engine=engine,
            settings=settings,
            channel="email",
            recipient="ops",
            message="  ",
            idempotency_key=None,
        )
