"""End to end over long polling: an operator asks for a delivery, an approver double-taps Approve on
Telegram, the file lands once on a real SFTP server on loopback, both people see the outcome, and the audit
log verifies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agent.backends.base import Backend
from agent.service import open_switchboard
from core.store.audit import AuditLog
from core.store.models import Delivery
from flows.config import SftpDestination
from flows.demo.data import load_demo
from switchboard.settings import Settings, load_settings
from tests.bot.conftest import ANN, BOB, OLIVE, full_registry, make_harness, run, running, wait_until
from tests.conftest import REFERENCE_DATE
from tests.utils.servers.sftp import SftpServer
from tests.utils.servers.telegram_api import TelegramApi


@pytest.mark.integration
def test_delivery_approved_from_telegram_runs_once(
    settings: Settings,
    engine: Engine,
    people: dict[str, int],
    telegram_api: TelegramApi,
    sftp_server: SftpServer,
    embedded_backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The names outside checks rely on: the token, the Bot API URL and the destination's password secret.
    monkeypatch.setenv("SWITCHBOARD_TELEGRAM_TOKEN", telegram_api.token)
    monkeypatch.setenv("SWITCHBOARD_TELEGRAM_API_URL", telegram_api.base_url)
    monkeypatch.setenv("SWITCHBOARD_SECRET_PARTNER_SFTP_PASSWORD", sftp_server.password)
    partner = SftpDestination(
        host=sftp_server.host,
        port=sftp_server.port,
        username=sftp_server.username,
        remote_dir=".",
        password_secret="partner_sftp_password",
        known_hosts=sftp_server.known_hosts_path,
    )
    config = load_settings(
        database_url=settings.database_url,
        var_dir=settings.var_dir,
        reference_date=REFERENCE_DATE.isoformat(),
        destinations={**settings.destinations, "partner_sftp": partner},
    )
    load_demo(engine=engine, settings=config, today=REFERENCE_DATE)

    # The real embedded backend understands the operator's words; nothing is scripted.
    with open_switchboard(config, engine, backend=embedded_backend, registry=full_registry()) as sb:
        export = sb.runner.call(
            "export_dataset",
            {"dataset": "sales_by_region", "format": "csv", "period": "last_month"},
            actor="olive",
            source="test",
        )
        artifact_id, artifact_name = export.result.data["artifact_id"], export.result.data["name"]
        h = make_harness(config, sb, telegram_api)

        async def scenario() -> tuple[dict[str, Any], int]:
            async with running(h):
                await h.poll()
                telegram_api.push_update(
                    telegram_api.text_update(OLIVE, "send the latest export to partner_sftp")
                )
                (request,) = await wait_until(
                    lambda: [p for p in h.messages_to(ANN) if h.buttons(p)], what="the approver's buttons"
                )
                approve = h.buttons(request)[0]["callback_data"]
                mid = request_message_id(telegram_api, request)
                for _ in range(2):  # a double tap
                    telegram_api.push_update(telegram_api.callback_update(ANN, approve, message_id=mid))
                await wait_until(lambda: len(h.answers()) == 2, what="both taps answered")
                await wait_until(
                    lambda: any("approved by ann" in t for t in h.texts_to(OLIVE)), what="requester"
                )
                await wait_until(lambda: len(h.api.sent_params("editMessageText")) == 2, what="the edits")
                return request, mid

        request, request_mid = run(scenario())

    # 1-2: the operator was told it waits; the approver got the request with buttons and tapped twice.
    waiting = h.texts_to(OLIVE)[0]
    approval_id = waiting.split("Request ", 1)[1].split(" ", 1)[0]
    assert waiting.startswith("To send ") and "I need an approver's sign-off" in waiting
    assert "is waiting for approval" in waiting
    assert "<b>Requested by:</b> olive" in str(request["text"])
    assert [b["text"] for b in h.buttons(request)] == [
        "✅ Approve",
        "❌ Reject",
    ]  # console on loopback: a link
    assert f"http://127.0.0.1:8000/approvals/{approval_id}" in str(request["text"])
    assert h.answers() == ["Approved.", "Already decided by ann"]
    # 3: the delivery ran once, into the real SFTP server.
    uploaded = [p for p in Path(sftp_server.root).rglob("*") if p.is_file()]
    assert [p.name for p in uploaded] == [artifact_name]
    assert uploaded[0].read_bytes() == (config.artifacts / artifact_name).read_bytes()
    with Session(engine) as session:
        deliveries = list(session.execute(select(Delivery)).scalars())
    assert [(d.destination, d.status) for d in deliveries] == [("partner_sftp", "delivered")]
    # 4: the approver's message was edited in place; the requester got the outcome in their chat.
    edits = {p["chat_id"]: p for p in h.api.sent_params("editMessageText")}
    assert set(edits) == {ANN, BOB}  # every approver's copy shows the decision
    assert edits[ANN]["message_id"] == request_mid
    assert str(edits[ANN]["text"]).startswith(str(request["text"]) + "\n\n✅ Approved by ann · ran as run ")
    told = h.texts_to(OLIVE)[-1]
    assert told.startswith(
        f"Request {approval_id} (send artifact {artifact_id} to partner sftp) "
        "was approved by ann and has run: "
    )
    # 5: every step is in the audit log, in order, and the chain verifies.
    log = AuditLog(engine)
    steps = [
        (r.event, r.actor)
        for r in log.iter_records()
        if r.event.startswith(("agent.", "approval.", "delivery."))
    ]
    expected = [
        ("approval.requested", "olive"),
        ("approval.vote", "ann"),
        ("approval.approved", "ann"),
        ("delivery.succeeded", "olive"),
        ("approval.executed", "system"),
    ]
    assert [s for s in steps if s in expected] == expected
    assert any(event == "agent.decision" for event, _ in steps[: steps.index(expected[0])])
    assert log.verify().ok


def request_message_id(api: TelegramApi, request: dict[str, Any]) -> int:
    """The message id the fake gave the approver's request message."""
    with api.state.lock:
        found = [
            mid
            for (chat, mid), m in api.state.messages.items()
            if chat == ANN and m.get("reply_markup") == request.get("reply_markup")
        ]
    return found[0]
