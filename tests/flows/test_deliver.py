"""Delivery to real SFTP, share and webhook destinations on loopback: atomic, verified, retried, once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import ConfigError, Conflict, DeliveryFailed, NotFound
from core.store import outbox
from core.store.audit import AuditLog, AuditRecord
from core.store.db import utcnow, write_session
from core.store.models import Artifact, Delivery
from flows.config import RetryPolicy, SftpDestination, ShareDestination, WebhookDestination
from flows.delivery import transports
from flows.delivery.deliver import deliver_artifact, get_destination, preview_delivery
from flows.delivery.retry import GaveUp, PermanentError, TransientError, backoff_delay, with_retries
from switchboard.settings import Settings
from tests.utils.servers.http import HttpReceiver, ScriptedResponse
from tests.utils.servers.ports import free_port
from tests.utils.servers.sftp import SftpServer

PASSWORD_SECRET = "bank_sftp_password"
WEBHOOK_SECRET = "hook-secret-5f2c9e"
SFTP_PASSWORD = "s3cret-Pa55-for-tests"
BODY = b"region,orders,revenue\nemea,2,150.0\napac,1,90.0\n"


def make_artifact(
    engine: Engine,
    settings: Settings,
    *,
    name: str = "sales_by_region_2026-11-21.csv",
    content: bytes = BODY,
    fmt: str = "csv",
) -> Artifact:
    """Write a file under the artifacts folder and record it, as export does."""
    folder = settings.artifacts
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    artifact = Artifact(
        name=name,
        path=str(path),
        format=fmt,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        dataset="sales_by_region",
    )
    with write_session(engine) as session:
        session.add(artifact)
        session.flush()
        session.refresh(artifact)
        session.expunge(artifact)
    return artifact


def configure(settings: Settings, *, password: str = SFTP_PASSWORD, **destinations: Any) -> Settings:
    """Settings with extra destinations and the test secrets."""
    return settings.model_copy(
        update={
            "destinations": {**settings.destinations, **destinations},
            "secrets": {
                PASSWORD_SECRET: SecretStr(password),
                "erp_webhook_secret": SecretStr(WEBHOOK_SECRET),
            },
        }
    )


@pytest.fixture
def sftp(tmp_path: Path) -> Any:
    server = SftpServer(root=tmp_path / "sftp-root", keys_dir=tmp_path / "sftp-keys", password=SFTP_PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def sftp_dest(server: SftpServer, **overrides: Any) -> SftpDestination:
    fields: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "remote_dir": "incoming",
        "password_secret": PASSWORD_SECRET,
        "known_hosts": server.known_hosts_path,
        "timeout_s": 5.0,
    }
    return SftpDestination(**(fields | overrides))


def rows(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)))


def audit(engine: Engine, event: str | None = None) -> list[dict[str, Any]]:
    with Session(engine) as session:
        records = session.exec(select(AuditRecord).order_by(AuditRecord.seq)).all()
    return [json.loads(r.data) for r in records if event is None or r.event == event]


def assert_no_secrets(engine: Engine) -> None:
    with Session(engine) as session:
        for record in session.exec(select(AuditRecord)).all():
            for secret in (SFTP_PASSWORD, WEBHOOK_SECRET):
                assert secret not in record.data
    assert AuditLog(engine).verify().ok


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part-" in p.name)


# -- SFTP -------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_sftp_password_upload_lands_under_the_chroot_and_redelivery_is_a_no_op(
    engine: Engine, settings: Settings, sftp: SftpServer
) -> None:
    settings = configure(settings, bank_sftp=sftp_dest(sftp))
    artifact = make_artifact(engine, settings)
    sleeps: list[float] = []

    report = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="bank_sftp", sleep=sleeps.append
    )

    landed = sftp.root / "incoming" / artifact.name
    assert landed.read_bytes() == BODY
    assert leftovers(sftp.root / "incoming") == []
    assert (report.remote_path, report.sha256, report.attempts, report.already_delivered) == (
        f"incoming/{artifact.name}",
        artifact.sha256,
        1,
        False,
    )
    assert sleeps == []
    [row] = rows(engine)
    assert (row.status, row.attempts, row.remote_path, row.sha256) == (
        "delivered",
        1,
        f"incoming/{artifact.name}",
        artifact.sha256,
    )
    [event] = audit(engine, "delivery.succeeded")
    assert event == {
        "artifact": artifact.name,
        "artifact_id": artifact.id,
        "destination": "bank_sftp",
        "delivery_id": row.id,
        "remote_path": f"incoming/{artifact.name}",
        "sha256": artifact.sha256,
        "size": len(BODY),
        "attempts": 1,
    }

    # The destination is not touched again: even with the server gone, the repeat is reported as done.
    landed.unlink()
    sftp.stop()
    again = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="bank_sftp", sleep=sleeps.append
    )
    assert again.already_delivered and again.delivery_id == report.delivery_id
    assert "already delivered to bank_sftp" in again.summary
    assert not landed.exists()
    assert len(rows(engine)) == 1
    assert_no_secrets(engine)


@pytest.mark.integration
def test_sftp_key_auth_replaces_an_existing_remote_file(
    engine: Engine, settings: Settings, sftp: SftpServer
) -> None:
    dest = sftp_dest(sftp, remote_dir=".", password_secret=None, key_file=sftp.client_key_path)
    settings = configure(settings, partner_sftp=dest)
    artifact = make_artifact(
        engine, settings, name="orders_2026-10.dat", content=b"0001ACME      000100\n", fmt="dat"
    )
    (sftp.root / artifact.name).write_bytes(b"an older version of the file\n")

    report = deliver_artifact(engine=engine, settings=settings, artifact=artifact, destination="partner_sftp")

    assert (sftp.root / artifact.name).read_bytes() == b"0001ACME      000100\n"
    assert report.remote_path == artifact.name
    assert leftovers(sftp.root) == []


@pytest.mark.integration
def test_unreachable_sftp_fails_clearly_then_the_failed_row_is_retried(
    engine: Engine, settings: Settings, sftp: SftpServer
) -> None:
    settings = configure(settings, bank_sftp=sftp_dest(sftp))
    artifact = make_artifact(engine, settings)
    sftp.stop()
    sleeps: list[float] = []

    with pytest.raises(DeliveryFailed) as failed:
        deliver_artifact(
            engine=engine, settings=settings, artifact=artifact, destination="bank_sftp", sleep=sleeps.append
        )

    message = failed.value.message
    assert message == f"could not reach bank_sftp at 127.0.0.1:{sftp.port}: connection refused (4 attempts)"
    assert "Traceback" not in message and SFTP_PASSWORD not in message
    assert sleeps == [0.5, 1.0, 2.0]
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("failed", 4)
    assert row.error == f"could not reach bank_sftp at 127.0.0.1:{sftp.port}: connection refused"
    [event] = audit(engine, "delivery.failed")
    assert event["attempts"] == 4 and event["error"] == row.error and event["permanent"] is False

    sftp.start()
    report = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="bank_sftp", sleep=sleeps.append
    )
    assert report.delivery_id == row.id and report.attempts == 1
    [row] = rows(engine)
    assert (row.status, row.attempts, row.error) == ("delivered", 5, None)
    assert (sftp.root / "incoming" / artifact.name).read_bytes() == BODY
    assert_no_secrets(engine)


@pytest.mark.integration
def test_sftp_unused_port_names_host_and_port(engine: Engine, settings: Settings, sftp: SftpServer) -> None:
    port = free_port()
    settings = configure(settings, bank_sftp=sftp_dest(sftp, port=port))
    settings = settings.model_copy(update={"retry": RetryPolicy(attempts=2, base_delay_s=0.1)})
    artifact = make_artifact(engine, settings)
    with pytest.raises(
        DeliveryFailed, match=rf"^could not reach bank_sftp at 127\.0\.0\.1:{port}: connection"
    ):
        deliver_artifact(
            engine=engine,
            settings=settings,
            artifact=artifact,
            destination="bank_sftp",
            sleep=lambda _s: None,
        )


@pytest.mark.integration
def test_sftp_wrong_password_is_permanent(engine: Engine, settings: Settings, sftp: SftpServer) -> None:
    settings = configure(settings, password="not-the-password", bank_sftp=sftp_dest(sftp))
    artifact = make_artifact(engine, settings)
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as failed:
        deliver_artifact(
            engine=engine, settings=settings, artifact=artifact, destination="bank_sftp", sleep=sleeps.append
        )
    assert failed.value.message == (
        f"bank_sftp at 127.0.0.1:{sftp.port} refused the login for user 'switchboard' "
        "(1 attempt, not retried)"
    )
    assert sleeps == []
    assert "not-the-password" not in json.dumps(audit(engine))


@pytest.mark.integration
def test_sftp_host_key_mismatch_is_permanent(
    engine: Engine, settings: Settings, sftp: SftpServer, tmp_path: Path
) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    known = tmp_path / "known_hosts"
    known.write_text(f"[{sftp.host}]:{sftp.port} {other}\n")
    settings = configure(settings, bank_sftp=sftp_dest(sftp, known_hosts=known))
    artifact = make_artifact(engine, settings)
    with pytest.raises(DeliveryFailed, match="does not match the known_hosts file"):
        deliver_artifact(engine=engine, settings=settings, artifact=artifact, destination="bank_sftp")
    assert not (sftp.root / "incoming" / artifact.name).exists()


@pytest.mark.integration
def test_sftp_failed_rename_is_retried_without_leaving_a_part_file(
    engine: Engine, settings: Settings, sftp: SftpServer
) -> None:
    settings = configure(settings, bank_sftp=sftp_dest(sftp))
    artifact = make_artifact(engine, settings)
    sftp.fail_next("posix_rename")
    sleeps: list[float] = []
    report = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="bank_sftp", sleep=sleeps.append
    )
    assert report.attempts == 2 and sleeps == [0.5]
    assert (sftp.root / "incoming" / artifact.name).read_bytes() == BODY
    assert leftovers(sftp.root / "incoming") == []


@pytest.mark.integration
def test_sftp_works_when_the_caller_runs_an_event_loop(
    engine: Engine, settings: Settings, sftp: SftpServer
) -> None:
    settings = configure(settings, bank_sftp=sftp_dest(sftp))
    artifact = make_artifact(engine, settings)

    async def inside_a_loop() -> str:
        report = deliver_artifact(
            engine=engine, settings=settings, artifact=artifact, destination="bank_sftp"
        )
        return report.remote_path or ""

    assert asyncio.run(inside_a_loop()) == f"incoming/{artifact.name}"


def test_preview_describes_the_destination_without_secrets(
    engine: Engine, settings: Settings, sftp: SftpServer
) -> None:
    settings = configure(settings, bank_sftp=sftp_dest(sftp))
    artifact = make_artifact(engine, settings)
    preview = preview_delivery(engine=engine, settings=settings, artifact=artifact, destination="bank_sftp")
    assert (preview.file_name, preview.size, preview.target) == (
        artifact.name,
        len(BODY),
        f"incoming/{artifact.name}",
    )
    assert preview.description == f"SFTP switchboard@127.0.0.1:{sftp.port} incoming"
    assert preview.summary == (
        f"Send {artifact.name} ({len(BODY)} bytes) to bank_sftp: "
        f"SFTP switchboard@127.0.0.1:{sftp.port} incoming."
    )
    assert SFTP_PASSWORD not in repr(preview)
    assert rows(engine) == []


# -- share directory --------------------------------------------------------------------------------------


def test_share_delivery_uses_the_demo_config_and_is_idempotent(
    any_engine: Engine, settings: Settings
) -> None:
    artifact = make_artifact(any_engine, settings)
    first = deliver_artifact(
        engine=any_engine, settings=settings, artifact=artifact, destination="finance_share"
    )
    folder = settings.var_dir / "share" / "finance"
    assert first.remote_path == str(folder / artifact.name)
    assert (folder / artifact.name).read_bytes() == BODY
    assert leftovers(folder) == []

    second = deliver_artifact(
        engine=any_engine, settings=settings, artifact=artifact, destination="finance_share"
    )
    assert second.already_delivered and second.delivery_id == first.delivery_id
    assert [r.status for r in rows(any_engine)] == ["delivered"]
    assert len(audit(any_engine, "delivery.succeeded")) == 1


def in_flight(artifact: Artifact, destination: str) -> str:
    message = (
        f"{artifact.name} is being delivered to {destination} right now; wait for that delivery to finish"
    )
    return f"^{re.escape(message)}$"


def test_a_delivery_left_sending_by_another_process_waits_out_its_lease(
    any_engine: Engine, settings: Settings
) -> None:
    artifact = make_artifact(any_engine, settings)
    assert artifact.id is not None
    elsewhere = "process:other-host:4242:1"
    with write_session(any_engine) as session:
        session.add(
            Delivery(
                artifact_id=artifact.id,
                destination="finance_share",
                status="sending",
                claimed_by=elsewhere,
                claimed_at=utcnow() - timedelta(minutes=5),
            )
        )
    folder = settings.var_dir / "share" / "finance"

    with pytest.raises(Conflict, match=in_flight(artifact, "finance_share")):
        deliver_artifact(engine=any_engine, settings=settings, artifact=artifact, destination="finance_share")
    assert not (folder / artifact.name).exists()
    assert [(r.status, r.claimed_by) for r in rows(any_engine)] == [("sending", elsewhere)]

    with write_session(any_engine) as session:  # that process died: its claim is now older than the lease
        [row] = session.exec(select(Delivery)).all()
        row.claimed_at = utcnow() - outbox.LEASE - timedelta(minutes=1)
    report = deliver_artifact(
        engine=any_engine, settings=settings, artifact=artifact, destination="finance_share"
    )

    assert not report.already_delivered and (folder / artifact.name).read_bytes() == BODY
    assert [(r.status, r.claimed_by, r.attempts) for r in rows(any_engine)] == [
        ("delivered", outbox.claimant(), 1)
    ]
    assert len(audit(any_engine, "delivery.succeeded")) == 1


def test_a_delivery_another_thread_is_uploading_is_refused(
    any_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact = make_artifact(any_engine, settings)
    uploading, release = threading.Event(), threading.Event()
    upload = transports.upload

    def slow_upload(*args: Any, **kwargs: Any) -> transports.Uploaded:
        uploading.set()
        release.wait(timeout=10)
        return upload(*args, **kwargs)

    monkeypatch.setattr(transports, "upload", slow_upload)
    first: list[tuple[str, bool]] = []

    def deliver() -> None:
        report = deliver_artifact(
            engine=any_engine, settings=settings, artifact=artifact, destination="finance_share"
        )
        first.append((outbox.claimant(), report.already_delivered))

    thread = threading.Thread(target=deliver)
    thread.start()
    try:
        assert uploading.wait(timeout=30)
        with pytest.raises(Conflict, match=in_flight(artifact, "finance_share")):
            deliver_artifact(
                engine=any_engine, settings=settings, artifact=artifact, destination="finance_share"
            )
    finally:
        release.set()
        thread.join(timeout=30)

    [(claimant, already)] = first
    assert not already and claimant != outbox.claimant()
    assert [(r.status, r.claimed_by, r.attempts) for r in rows(any_engine)] == [("delivered", claimant, 1)]
    assert len(audit(any_engine, "delivery.succeeded")) == 1


def test_share_delivery_creates_an_absolute_folder(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "mnt" / "reports" / "daily"
    settings = configure(settings, finance_share=ShareDestination(path=target))
    artifact = make_artifact(engine, settings)
    report = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="finance_share"
    )
    assert (target / artifact.name).read_bytes() == BODY
    assert report.sha256 == hashlib.sha256(BODY).hexdigest()


def test_unknown_destination_lists_the_configured_ones(engine: Engine, settings: Settings) -> None:
    artifact = make_artifact(engine, settings)
    with pytest.raises(
        NotFound,
        match=r"^unknown destination 'bank_ftp'; configured destinations: bank_sftp, "
        r"erp_webhook, finance_share, partner_sftp$",
    ):
        deliver_artifact(engine=engine, settings=settings, artifact=artifact, destination="bank_ftp")
    assert get_destination(settings, "finance_share").kind == "share"


def test_missing_secret_is_a_config_error_before_anything_is_recorded(
    engine: Engine, settings: Settings
) -> None:
    artifact = make_artifact(engine, settings)
    with pytest.raises(
        ConfigError, match="needs the secret 'bank_sftp_password'.*SWITCHBOARD_SECRET_BANK_SFTP"
    ):
        deliver_artifact(engine=engine, settings=settings, artifact=artifact, destination="bank_sftp")
    assert rows(engine) == []


def test_a_changed_artifact_file_is_refused_and_recorded(engine: Engine, settings: Settings) -> None:
    artifact = make_artifact(engine, settings)
    Path(artifact.path).write_bytes(BODY + b"tampered\n")
    with pytest.raises(Conflict, match="changed since it was exported"):
        deliver_artifact(engine=engine, settings=settings, artifact=artifact, destination="finance_share")
    [row] = rows(engine)
    assert row.status == "failed" and not (settings.var_dir / "share" / "finance" / artifact.name).exists()


# -- webhook ----------------------------------------------------------------------------------------------


def webhook_settings(settings: Settings, receiver: HttpReceiver) -> Settings:
    dest = WebhookDestination(
        url=f"{receiver.url}/erp/inbound", secret_name="erp_webhook_secret", timeout_s=5
    )
    return configure(settings, erp_webhook=dest)


@pytest.mark.integration
def test_webhook_delivery_is_signed_and_verifiable(
    engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    settings = webhook_settings(settings, http_receiver)
    artifact = make_artifact(engine, settings)
    http_receiver.respond(
        200, body=json.dumps({"sha256": artifact.sha256}), headers={"Content-Type": "application/json"}
    )

    report = deliver_artifact(engine=engine, settings=settings, artifact=artifact, destination="erp_webhook")

    [request] = http_receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/erp/inbound", BODY)
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.header("X-Switchboard-Signature") or "", expected)
    assert request.header("X-Switchboard-File") == artifact.name
    assert request.header("X-Switchboard-Sha256") == artifact.sha256
    assert (request.header("X-Switchboard-Timestamp") or "").isdigit()
    assert request.header("Content-Type") == "text/csv; charset=utf-8"
    assert report.remote_path == f"{http_receiver.url}/erp/inbound"
    assert_no_secrets(engine)


@pytest.mark.integration
def test_webhook_retries_server_errors_then_succeeds(
    engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    settings = webhook_settings(settings, http_receiver)
    artifact = make_artifact(engine, settings)
    http_receiver.respond_next(500, 503, 200)
    sleeps: list[float] = []
    report = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="erp_webhook", sleep=sleeps.append
    )
    assert report.attempts == 3 and sleeps == [0.5, 1.0]
    assert len(http_receiver.requests) == 3
    assert [r.attempts for r in rows(engine)] == [3]


@pytest.mark.integration
def test_webhook_disputed_checksum_is_retried(
    engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    settings = webhook_settings(settings, http_receiver)
    artifact = make_artifact(engine, settings)
    wrong = ScriptedResponse(
        200, json.dumps({"sha256": "0" * 64}).encode(), {"Content-Type": "application/json"}
    )
    http_receiver.respond_next(wrong, 200)
    report = deliver_artifact(
        engine=engine, settings=settings, artifact=artifact, destination="erp_webhook", sleep=lambda _s: None
    )
    assert report.attempts == 2


@pytest.mark.integration
def test_webhook_client_error_is_permanent(
    engine: Engine, settings: Settings, http_receiver: HttpReceiver
) -> None:
    settings = webhook_settings(settings, http_receiver)
    artifact = make_artifact(engine, settings)
    http_receiver.respond_next(400)
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as failed:
        deliver_artifact(
            engine=engine,
            settings=settings,
            artifact=artifact,
            destination="erp_webhook",
            sleep=sleeps.append,
        )
    assert failed.value.message == (
        f"erp_webhook ({http_receiver.url}/erp/inbound) refused the request: HTTP 400 Bad Request "
        "(1 attempt, not retried)"
    )
    assert sleeps == [] and len(http_receiver.requests) == 1
    assert [(r.status, r.attempts) for r in rows(engine)] == [("failed", 1)]


# -- retry helper -----------------------------------------------------------------------------------------


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(attempts=6, base_delay_s=0.5, max_delay_s=3)
    assert [backoff_delay(n, policy) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_with_retries_honours_retry_after_and_stops_on_permanent_errors() -> None:
    sleeps: list[float] = []
    outcomes: list[Exception | str] = [TransientError("busy", retry_after=7), "done"]

    def action(attempt: int) -> str:
        item = outcomes[attempt - 1]
        if isinstance(item, Exception):
            raise item
        return item

    result = with_retries(action, policy=RetryPolicy(), sleep=sleeps.append, what="test")
    assert (result.value, result.attempts, sleeps) == ("done", 2, [7])

    def refuse(_attempt: int) -> str:
        raise PermanentError("no")

    with pytest.raises(GaveUp) as gave_up:
        with_retries(refuse, policy=RetryPolicy(), sleep=sleeps.append, what="test")
    assert (gave_up.value.attempts, gave_up.value.permanent, sleeps) == (1, True, [7])
