"""In real headless Chromium: the first admin replaces the printed password, adds a user, who logs in and chats."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from agent.service import open_switchboard
from console.app import create_app
from console.auth import bootstrap_admin
from core.store.audit import AuditLog
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.console.chromium import chromium, log_in, needs_chromium
from tests.console.live import LiveServer

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Iterator[tuple[str, str]]:
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    printed = bootstrap_admin(engine)
    assert printed is not None
    with open_switchboard(settings, engine) as sb, LiveServer(create_app(settings, switchboard=sb)) as server:
        yield server.url, printed


async def choose_password(page: Any, current: str, new: str) -> None:
    from playwright.async_api import expect

    await expect(page.locator("#first-login")).to_contain_text("one-time password")
    await page.fill("#current-password", current)
    await page.fill("#new-password", new)
    await page.fill("#repeat-password", new)
    await page.click("#change-password")
    await page.wait_for_url(re.compile(r".*/chat$"))


async def scenario(url: str, printed: str, pages: list[Any]) -> dict[str, Any]:
    from playwright.async_api import expect

    seen: dict[str, Any] = {}
    async with chromium(pages, screenshots="console-users") as browser:
        # the first admin logs in with the printed password and must choose their own first
        admin = await log_in(browser, url, "admin", printed)
        pages.append(admin)
        await admin.wait_for_url(re.compile(r".*/account$"))
        seen["nav_hidden"] = await admin.locator("#nav").is_hidden()
        await admin.fill("#current-password", printed)
        await admin.fill("#new-password", "admin-own-pass-1")
        await admin.fill("#repeat-password", "admin-own-pass-2")
        await admin.click("#change-password")
        await expect(admin.locator("#password-error")).to_have_text("The two new passwords are not the same.")
        await choose_password(admin, printed, "admin-own-pass-1")
        # the admin adds an operator and reads the one-time password off the page
        await admin.click("#nav-users")
        await admin.fill("#new-name", "nina")
        await admin.select_option("#new-role", "operator")
        await admin.click("#add-user-button")
        await expect(admin.locator("#secret-box")).to_be_visible()
        one_time = (await admin.locator("#secret-value").inner_text()).strip()
        row = admin.locator('#users-table tr[data-name="nina"]')
        await expect(row).to_contain_text("one-time password")
        # the last admin cannot be demoted: the refusal is shown plainly
        await admin.locator('#users-table tr[data-name="admin"] select.role').select_option("operator")
        await expect(admin.locator("#users-error")).to_contain_text("admin is the last active admin")
        await expect(admin.locator('#users-table tr[data-name="admin"] select.role')).to_have_value("admin")
        # the new user logs in, chooses a password, and chats
        nina = await log_in(browser, url, "nina", one_time)
        pages.append(nina)
        await nina.wait_for_url(re.compile(r".*/account$"))
        await choose_password(nina, one_time, "nina-own-pass-1")
        await nina.fill("#input", "list the failed runs of the last 7 days")
        await nina.press("#input", "Enter")
        reply = nina.locator(".msg.assistant").first
        await reply.locator(".ran").wait_for()
        seen["reply"] = await reply.inner_text()
        # back on the Users page the password is hers now
        await admin.reload()
        await expect(row).not_to_contain_text("one-time password")
        seen["row"] = await row.inner_text()
        # a reset asks once more, then shows a new one-time password; deactivating asks once more too
        reset = row.get_by_role("button", name="Reset password")
        await reset.click()
        await expect(row.get_by_role("button", name="Sure? Reset")).to_be_visible()
        await row.get_by_role("button", name="Sure? Reset").click()
        await expect(admin.locator("#secret-text")).to_have_text("One-time password for nina:")
        await expect(row).to_contain_text("one-time password")
        await row.get_by_role("button", name="Deactivate").click()
        await row.get_by_role("button", name="Sure? Deactivate").click()
        await expect(row).to_contain_text("deactivated")
        await nina.reload()  # her session ended with the reset, and she may not log in again
        await nina.wait_for_url(re.compile(r".*/login\?next=.*"))
    return seen


def test_first_admin_adds_a_user_who_logs_in_and_chats(live: tuple[str, str], engine: Engine) -> None:
    url, printed = live
    seen = asyncio.run(scenario(url, printed, []))
    assert seen["nav_hidden"] is True
    assert "No failed runs in the last 7 days." in seen["reply"]
    assert "nina" in seen["row"] and "active" in seen["row"]
    events = [
        (r.event, r.actor, r.subject) for r in AuditLog(engine).iter_records() if r.event.startswith("user.")
    ]
    assert events == [
        ("user.created", "system", "user:admin"),
        ("user.password_set", "admin", "user:admin"),
        ("user.created", "admin", "user:nina"),
        ("user.password_set", "nina", "user:nina"),
        ("user.password_set", "admin", "user:nina"),
        ("user.deactivated", "admin", "user:nina"),
    ]
