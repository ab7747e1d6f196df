"""End to end in real headless Chromium with the real embedded backend: ask, approve, audit, verify.

Playwright's async API runs inside ``asyncio.run`` in a plain sync test, so no event loop outlives the test (a
sync Playwright page fixture would break later asyncio tests in the same run). Screenshots of every open page
go to test-results/ when the scenario fails.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from console.app import create_app
from core.store.audit import AuditLog
from flows.config import SftpDestination
from flows.demo.data import load_demo
from flows.export.sink import HashingFile
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.console.chromium import chromium, needs_chromium
from tests.console.chromium import log_in as chromium_log_in
from tests.console.conftest import PASSWORD, People
from tests.console.live import LiveServer
from tests.utils.servers.sftp import SftpServer

ASK_REPORT = "Show me last month's sales by region"
ASK_DELIVERY = "Deliver the latest export to bank_sftp"

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def bank_settings(settings: Settings, sftp_server: SftpServer) -> Settings:
    bank = SftpDestination(
        host=sftp_server.host,
        port=sftp_server.port,
        username=sftp_server.username,
        remote_dir=".",
        password_secret="bank_sftp_password",
        known_hosts=sftp_server.known_hosts_path,
    )
    return settings.model_copy(
        update={
            "destinations": {**settings.destinations, "bank_sftp": bank},
            "secrets": {**settings.secrets, "bank_sftp_password": SecretStr(sftp_server.password)},
        }
    )


@pytest.fixture
def live(bank_settings: Settings, engine: Engine, people: People) -> Iterator[tuple[str, Switchboard]]:
    load_demo(engine=engine, settings=bank_settings, today=REFERENCE_DATE)
    people("olive"), people("ann")
    with open_switchboard(bank_settings, engine) as sb:  # the real embedded backend
        sb.runner.call(
            "export_dataset", {"dataset": "orders", "format": "csv", "period": "last_month"}, actor="olive"
        )
        with LiveServer(create_app(bank_settings, switchboard=sb)) as server:
            yield server.url, sb


async def log_in(browser: Any, url: str, name: str) -> Any:
    page = await chromium_log_in(browser, url, name, PASSWORD)
    await page.wait_for_url(re.compile(r".*/chat$"))
    return page


async def ask(page: Any, text: str) -> Any:
    count = await page.locator(".msg.assistant").count()
    await page.fill("#input", text)
    await page.press("#input", "Enter")
    reply = page.locator(".msg.assistant").nth(count)
    await reply.locator(".ran").wait_for()  # the final render (after the stream) carries "What I ran"
    return reply


async def scenario(url: str, sftp_root: Path, pages: list[Any]) -> dict[str, Any]:
    from playwright.async_api import expect

    seen: dict[str, Any] = {}
    async with chromium(pages, screenshots="console-e2e") as browser:
        # 1. the operator logs in
        operator = await log_in(browser, url, "olive")
        pages.append(operator)
        # 2. last month's sales by region: a table and a chart
        report = await ask(operator, ASK_REPORT)
        await expect(report.locator(".result-table th").first).to_have_text("Region")
        seen["regions"] = await report.locator(".result-table tbody tr").count()
        chart = report.locator(".chart-box svg.chart-svg")
        await expect(chart).to_be_visible()
        seen["chart_width"] = await chart.evaluate("svg => svg.getBoundingClientRect().width")
        await report.locator(".ran summary").click()
        seen["ran"] = await report.locator(".ran").inner_text()
        # 3. delivering the latest export waits for approval
        delivery = await ask(operator, ASK_DELIVERY)
        waiting = delivery.locator(".waiting")
        await expect(waiting).to_contain_text("Waiting for approval")
        approval_id = await waiting.get_attribute("data-approval")
        seen["approval_id"] = approval_id
        # 4. the approver sees it in the inbox with its preview, and approves it
        approver = await log_in(browser, url, "ann")
        pages.append(approver)
        await expect(approver.locator("#pending-badge")).to_have_text("1")
        await approver.goto(f"{url}/approvals")
        card = approver.locator(f'.card[data-id="{approval_id}"]')
        await expect(card.locator(".requester")).to_have_text("olive")
        seen["preview"] = await card.locator(".preview").inner_text()
        await expect(card.locator(".countdown")).to_contain_text("expires in")
        await card.locator("button.approve").click()
        await expect(card.locator(".result")).to_contain_text("was approved by ann and has run")
        # 5. the operator's thread shows the result
        await expect(operator.locator(f'.waiting[data-approval="{approval_id}"]')).to_have_class(
            re.compile("done"), timeout=15000
        )
        update = operator.locator(".msg.assistant").last
        await expect(update).to_contain_text("was approved by ann and has run: Delivered")
        seen["delivered"] = sorted(p.name for p in await asyncio.to_thread(lambda: list(sftp_root.iterdir())))
        # 6. the audit page shows every step, and the chain verifies
        await approver.goto(f"{url}/audit")
        await expect(approver.locator("#audit-table tbody tr").first).to_have_attribute(
            "data-seq", re.compile(r"\d+")
        )
        seen["events"] = await approver.locator("#audit-table tbody td:nth-child(4)").all_inner_texts()
        await approver.click("#verify")
        await expect(approver.locator("#verify-result")).to_contain_text("Chain OK")
        seen["verify"] = await approver.locator("#verify-result").inner_text()
    return seen


def test_operator_asks_approver_approves_audit_verifies(
    live: tuple[str, Switchboard], sftp_server: SftpServer
) -> None:
    url, sb = live
    seen = asyncio.run(scenario(url, sftp_server.root, []))
    assert seen["regions"] >= 4 and seen["chart_width"] > 100
    assert "run_report" in seen["ran"] and "sales_by_region" in seen["ran"] and "last_month" in seen["ran"]
    assert "orders_" in seen["preview"] and "bank_sftp" in seen["preview"]
    assert len(seen["delivered"]) == 1 and seen["delivered"][0].startswith("orders_")
    for event in (
        "console.login",
        "agent.decision",
        "tool.call",
        "approval.requested",
        "approval.vote",
        "approval.approved",
        "run.created",
        "run.succeeded",
        "approval.executed",
    ):
        assert event in seen["events"], event
    records = AuditLog(sb.engine).verify().records
    assert (
        seen["verify"].startswith("Chain OK · ")
        and int(seen["verify"].split("·")[1].split()[0].replace(",", "")) <= records
    )


async def export_with_progress(url: str, pages: list[Any]) -> dict[str, Any]:
    from playwright.async_api import expect

    seen: dict[str, Any] = {}
    async with chromium(pages, screenshots="console-export-progress") as browser:
        operator = await log_in(browser, url, "olive")
        pages.append(operator)
        asked = await ask(operator, "export the orders for last year as csv")
        seen["question"] = await asked.locator(".text").first.inner_text()
        await operator.fill("#input", "yes")
        await operator.press("#input", "Enter")
        indicator = operator.locator(".typing-indicator .typing-text")
        await expect(indicator).to_contain_text("rows written", timeout=15000)
        seen["working"] = await indicator.inner_text()
        done = operator.locator(".msg.assistant").last
        await expect(done.locator(".ran")).to_be_attached(timeout=30000)
        seen["done"] = await done.locator(".text").first.inner_text()
    return seen


def test_a_slow_export_shows_the_rows_written_while_it_runs(
    live: tuple[str, Switchboard], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that takes 0.3 s per write (the server runs in this process) makes the export last seconds."""
    write = HashingFile.write

    def slow_write(self: HashingFile, data: Any) -> int:
        time.sleep(0.3)
        return write(self, data)

    monkeypatch.setattr(HashingFile, "write", slow_write)
    url, _ = live
    seen = asyncio.run(export_with_progress(url, []))
    assert seen["question"].startswith("Shall I export"), seen["question"]
    assert re.fullmatch(r"Exporting · [\d,]+ rows written", seen["working"]), seen["working"]
    assert "rows of orders" in seen["done"], seen["done"]
