"""deliver_file and send_notification end to end through the ToolRunner: runs, previews, idempotency keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import BadInput, DeliveryFailed, NotFound
from core.store.audit import AuditRecord
from core.store.models import Delivery, Notification
from core.store.runs import RunStatus
from flows.config import Recipient, SftpDestination, SmtpConfig
from flows.export.exporter import export_dataset
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.utils.factories import seed_basic
from tests.utils.servers.sftp import SftpServer
from tests.utils.servers.smtp import SmtpServer
from tools import delivery
from tools.base import ToolContext
from tools.registry import Registry
from tools.runtime import ToolRunner

PASSWORD = "tool-test-sftp-pw-93"


def runner_for(settings: Settings, engine: Engine) -> ToolRunner:
    return ToolRunner(settings=settings, engine=engine, registry=Registry(list(delivery.TOOLS)))


def export(engine: Engine, settings: Settings) -> int:
    seed_basic(engine)
    result = export_dataset(
        engine=engine,
        artifacts_dir=settings.artifacts,
        dataset="customers",
        fmt="csv",
        period=None,
        today=REFERENCE_DATE,
    )
    assert result.artifact.id is not None
    return result.artifact.id


def with_smtp(settings: Settings, server: SmtpServer) -> Settings:
    smtp = SmtpConfig(host=server.host, port=server.port, sender="switchboard@example.com", timeout_s=5)
    return settings.model_copy(update={"smtp": smtp})


def test_deliver_latest_to_the_finance_share(engine: Engine, settings: Settings) -> None:
    artifact_id = export(engine, settings)
    runner = runner_for(settings, engine)

    execution = runner.call(
        "deliver_file", {"file": "latest", "destination": "finance_share"}, actor="tester"
    )

    result = execution.result
    target = settings.var_dir / "share" / "finance" / "customers_2026-11-22.csv"
    assert target.is_file()
    assert result.artifact_ids == [artifact_id]
    assert result.summary.startswith(
        f"Delivered customers_2026-11-22.csv ({target.stat().st_size:,} bytes) to finance_share"
    )
    assert result.data["remote_path"] == str(target) and result.data["already_delivered"] is False
    assert execution.run is not None and execution.run.status == RunStatus.SUCCEEDED

    again = runner.call(
        "deliver_file", {"file": str(artifact_id), "destination": "finance_share"}, actor="tester"
    )
    assert again.result.data["already_delivered"] is True
    assert again.result.summary.startswith(
        "customers_2026-11-22.csv was already delivered to finance_share on "
    )
    with Session(engine) as session:
        assert len(session.exec(select(Delivery)).all()) == 1


def test_deliver_file_errors_are_clear(engine: Engine, settings: Settings) -> None:
    runner = runner_for(settings, engine)
    with pytest.raises(NotFound, match="there are no artifacts yet"):
        runner.call("deliver_file", {"file": "latest", "destination": "finance_share"}, actor="tester")
    with pytest.raises(
        BadInput,
        match=r"^deliver_file: 'destination' should be 'bank_sftp', 'partner_sftp', 'finance_share' or "
        r"'erp_webhook'$",
    ):
        runner.call("deliver_file", {"file": "latest", "destination": "s3"}, actor="tester")


@pytest.mark.integration
def test_deliver_file_preview_and_failed_run(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    artifact_id = export(engine, settings)
    server = SftpServer(root=tmp_path / "root", keys_dir=tmp_path / "keys", password=PASSWORD)
    dest = SftpDestination(
        host=server.host,
        port=server.port,
        username=server.username,
        remote_dir="in",
        password_secret="bank_sftp_password",
        known_hosts=server.known_hosts_path,
    )
    settings = settings.model_copy(
        update={
            "destinations": {**settings.destinations, "bank_sftp": dest},
            "secrets": {"bank_sftp_password": SecretStr(PASSWORD)},
            "retry": settings.retry.model_copy(update={"attempts": 2, "base_delay_s": 0.01}),
        }
    )
    runner = runner_for(settings, engine)
    args = delivery.DeliverFileArgs(file="customers_2026-11-22.csv", destination="bank_sftp")

    preview = delivery.TOOLS[0].preview(runner.context(actor="approver"), args)  # type: ignore[misc]
    assert preview.file_name == "customers_2026-11-22.csv" and preview.file_size and preview.file_size > 0
    assert preview.details["description"] == f"SFTP switchboard@127.0.0.1:{server.port} in"
    assert preview.details["artifact_id"] == artifact_id and preview.details["already_delivered"] is False
    assert PASSWORD not in preview.model_dump_json()

    # The server was never started: the run fails with the clear message, and nothing leaks.
    with pytest.raises(DeliveryFailed, match=rf"could not reach bank_sftp at 127\.0\.0\.1:{server.port}"):
        runner.call("deliver_file", args, actor="tester")
    with server:
        execution = runner.call("deliver_file", args, actor="tester")
        assert (server.root / "in" / "customers_2026-11-22.csv").is_file()
    assert execution.result.data["attempts"] == 1
    with Session(engine) as session:
        assert all(PASSWORD not in r.data for r in session.exec(select(AuditRecord)).all())


@pytest.mark.integration
def test_send_notification_keys_on_the_run_or_the_callers_key(
    engine: Engine, settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = with_smtp(settings, smtp_server)
    runner = runner_for(settings, engine)
    args: dict[str, Any] = {"channel": "email", "recipient": "finance", "message": "Export is on the share."}

    first = runner.call("send_notification", args, actor="tester")
    assert first.run is not None
    assert first.result.data == {
        "sent": ["email:finance@example.com"],
        "already_sent": [],
        "idempotency_key": f"run:{first.run.id}",
    }
    assert first.result.table is not None and first.result.table.rows == [
        ["email", "finance@example.com", "sent", 1]
    ]

    runner.call("send_notification", args, actor="tester", idempotency_key="approval:5")
    replay = runner.call("send_notification", args, actor="tester", idempotency_key="approval:5")
    assert replay.replayed
    assert len(smtp_server.wait_for(2)) == 2
    with Session(engine) as session:
        keys = sorted(n.idempotency_key for n in session.exec(select(Notification)).all())
    assert keys == ["approval:5|email:finance@example.com", f"run:{first.run.id}|email:finance@example.com"]


@pytest.mark.integration
def test_retry_run_resends_only_to_members_not_reached(
    engine: Engine, settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = with_smtp(settings, smtp_server)
    members = [
        Recipient(channel="email", address="a@example.com"),
        Recipient(channel="email", address="b@example.com"),
    ]
    settings = settings.model_copy(update={"recipient_groups": {"finance": members}})
    runner = runner_for(settings, engine)
    smtp_server.fail_next("550 5.1.1 mailbox unavailable")
    with pytest.raises(DeliveryFailed, match="a@example.com: the mail server .* answered 550"):
        runner.call(
            "send_notification", {"channel": "email", "recipient": "finance", "message": "hi"}, actor="tester"
        )
    failed = runner.runs.latest(name="send_notification")
    assert failed is not None and failed.id is not None and failed.status == RunStatus.FAILED

    retried = runner.retry(failed.id, actor="tester")

    assert retried.result.data["sent"] == ["email:a@example.com"]
    assert retried.result.data["already_sent"] == ["email:b@example.com"]
    assert [m.rcpt_tos for m in smtp_server.wait_for(2)] == [["b@example.com"], ["a@example.com"]]


def test_send_notification_preview_lists_the_resolved_recipients(engine: Engine, settings: Settings) -> None:
    runner = runner_for(settings, engine)
    ctx: ToolContext = runner.context(actor="approver")
    args = delivery.SendNotificationArgs(
        channel="email", recipient="ops", message="Nightly run failed\nsee run 4"
    )
    preview = delivery.TOOLS[1].preview(ctx, args)  # type: ignore[misc]
    assert preview.recipients == ["email:ops@example.com"]
    assert preview.summary == "Send by email to group ops (email:ops@example.com): “Nightly run failed”"


def test_send_notification_validation(engine: Engine, settings: Settings) -> None:
    runner = runner_for(settings, engine)
    with pytest.raises(
        BadInput, match=r"^send_notification: 'message' String should have at most 4000 characters$"
    ):
        runner.call(
            "send_notification",
            {"channel": "email", "recipient": "ops", "message": "x" * 4001},
            actor="tester",
        )
    with pytest.raises(
        BadInput, match=r"^send_notification: 'channel' should be 'telegram', 'email' or 'webhook'$"
    ):
        runner.call(
            "send_notification", {"channel": "sms", "recipient": "ops", "message": "x"}, actor="tester"
        )
    with pytest.raises(BadInput, match="unknown recipient 'nobody'"):
        runner.call(
            "send_notification", {"channel": "email", "recipient": "nobody", "message": "x"}, actor="tester"
        )
