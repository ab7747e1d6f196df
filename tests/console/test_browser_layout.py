"""The console's tables, charts and pages on a desktop (1280×800) and a phone (390×844), in real Chromium.

One console (real embedded backend, demo data) and one browser serve the whole module: the fixture seeds the
threads, an approved delivery and a pending one, then visits each page at both sizes once, saving a screenshot
of each under tests/artifacts/screenshots/ and measuring it. The tests below only read those measurements.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from console.app import create_app
from console.schemas import ChatReply, DecisionOut
from flows.demo.data import load_demo
from tests.conftest import REFERENCE_DATE, migrated_sqlite
from tests.console.chromium import chromium, needs_chromium
from tests.console.conftest import PASSWORD, People
from tests.console.live import LiveServer
from tests.security.world import world_settings

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
HASH = re.compile(r"^[0-9a-f]{12}…$")


@dataclass
class Seeded:
    """What the fixture put into the console."""

    url: str
    sb: Switchboard
    threads: dict[str, str] = field(default_factory=dict)
    pending: str = ""


def _chat(sb: Switchboard, thread: str, *texts: str) -> Any:
    reply = None
    for text in texts:
        reply = sb.chat(thread_id=thread, user="olive", role="operator", text=text)
    return reply


def _outcome_posted(sb: Switchboard, thread: str) -> bool:
    return any(m.payload.get("approval_id") for m in sb.history(thread_id=thread, user="olive") if m.payload)


def _seed(url: str, sb: Switchboard, people: People) -> Seeded:
    seeded = Seeded(url=url, sb=sb)
    seeded.threads = {
        "report": "t-report",
        "trend": "t-trend",
        "export": "t-export",
        "delivery": "t-delivery",
        "customers": "t-customers",
    }
    _chat(sb, "t-report", "Show me last month's sales by region")
    _chat(sb, "t-trend", "Show me the revenue trend for last month")
    _chat(sb, "t-export", "Export orders for last month as csv", "yes")
    waiting = _chat(sb, "t-delivery", "Deliver the latest export to finance_share")
    assert waiting.approval_id, waiting
    approved = httpx.post(
        f"{url}/api/approvals/{waiting.approval_id}/approve", json={}, headers=people("ann")
    )
    assert approved.status_code == 200, approved.text
    deadline = time.monotonic() + 15
    while not _outcome_posted(sb, "t-delivery"):
        assert time.monotonic() < deadline, "the approved delivery never reported back"
        time.sleep(0.05)
    _chat(sb, "t-customers", "Look up customer Wonka Holdings")
    pending = _chat(
        sb, "t-pending", "Export customers as csv", "yes", "Deliver the latest export to finance_share"
    )
    assert pending.approval_id, pending
    seeded.pending = pending.approval_id
    return seeded


# The numbers, headers, chart text and the rest each page is measured for (one arrow function, run in the page).
MEASURE = (Path(__file__).parent / "layout_measure.js").read_text(encoding="utf-8")


async def _visit(page: Any, name: str, viewport: str, ready: str, focus: str | None = None) -> dict[str, Any]:
    await page.locator(ready).first.wait_for()
    if focus:
        await page.locator(focus).last.scroll_into_view_if_needed()
    # Two frames: the ResizeObservers that draw the chart and set the scroll cues run before the next paint.
    await page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"))
    seen: dict[str, Any] = await page.evaluate(MEASURE)
    return seen


async def _tour(seeded: Seeded, pages: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    url, threads = seeded.url, seeded.threads
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    async with chromium(pages, screenshots="console-layout") as browser:
        session = None  # olive logs in once; the phone reuses the desktop's cookies
        for viewport, size in VIEWPORTS.items():
            phone = viewport == "phone"
            context = await browser.new_context(
                viewport=size,
                device_scale_factor=2 if phone else 1,
                is_mobile=phone,
                has_touch=phone,
                storage_state=session,
            )
            page = await context.new_page()
            pages.append(page)
            if session is None:
                await page.goto(f"{url}/login")
                await page.fill("#username", "olive")
                await page.fill("#password", PASSWORD)
                await page.click("#login")
                await page.wait_for_url(re.compile(r".*/chat$"))
                session = await context.storage_state()
            visits = [
                ("chat-report", f"/chat/{threads['report']}", ".chart-box svg text", ".chart-box"),
                ("chat-trend", f"/chat/{threads['trend']}", ".chart-box svg text", ".chart-box"),
                ("chat-export", f"/chat/{threads['export']}", ".result-table .hash", ".result-table"),
                ("chat-delivery", f"/chat/{threads['delivery']}", ".kv-table", ".kv-table"),
                ("chat-customers", f"/chat/{threads['customers']}", ".result-table td", None),
                ("approvals", "/approvals", f'.card[data-id="{seeded.pending}"] .preview', None),
                ("runs", "/runs", "#runs-table tr.clickable", None),
                ("audit", "/audit", "#audit-table tr[data-seq]", None),
            ]
            for name, path, ready, focus in visits:
                await page.goto(f"{url}{path}")
                if name == "runs":
                    await page.locator("#runs-table tr.clickable").first.wait_for()
                    await page.locator("#runs-table tr.clickable").first.click()
                    ready = "#run-detail h2"
                seen[name, viewport] = await _visit(page, name, viewport, ready, focus)
            missing = await page.goto(f"{url}/chatt" if phone else f"{url}/chat/not%20a%20thread")
            await page.locator("#not-found").wait_for()
            await page.screenshot(path=str(SCREENSHOTS / f"not-found-{viewport}.png"))
            api = await page.request.get(f"{url}/api/nope", headers={"Accept": "text/html"})
            seen["404", viewport] = {
                "status": missing.status if missing else None,
                "title": await page.title(),
                "api": (api.status, api.headers.get("content-type")),
            }
            if phone:  # a turn in flight shows the typing indicator until its first words arrive
                seen["typing", viewport] = await _typing(page, url)
                seen["buttons", viewport] = await _buttons(page, url)
            await context.close()
    return seen


async def _typing(page: Any, url: str) -> dict[str, Any]:
    async def slow(route: Any) -> None:
        await asyncio.sleep(0.6)
        await route.continue_()

    await page.goto(f"{url}/chat")
    await page.route("**/messages/stream", slow)
    await page.fill("#input", "help")
    await page.press("#input", "Enter")
    indicator = page.locator(".typing-indicator")
    await indicator.wait_for(state="visible", timeout=2000)
    shown = await indicator.inner_text()
    await page.locator(".msg.assistant .ran, .msg.assistant .text:not(.typing)").first.wait_for()
    await indicator.wait_for(state="detached", timeout=5000)
    return {"shown": shown}


# A "Did you mean" question as the agent is about to send it: the reply's real schema, answered in place of the
# server's so the console's handling of longer choices is pinned before the agent sends them.
CHOICES = ["Export a dataset", "Deliver a file to a destination", "Run a report over a period and a region"]
QUESTION = ChatReply(
    thread_id="t-choices",
    reply="Did you mean one of these?",
    decision=DecisionOut(tool="export_dataset", confidence=0.55, action="clarify"),
    kind="question",
    buttons=CHOICES,
)


async def _buttons(page: Any, url: str) -> dict[str, Any]:
    async def question(route: Any) -> None:
        await route.fulfill(
            status=200,
            content_type="text/event-stream",
            body=f"event: done\ndata: {QUESTION.model_dump_json()}\n\n",
        )

    await page.goto(f"{url}/chat")
    await page.route("**/messages/stream", question)
    await page.fill("#input", "do the thing with the data")
    await page.press("#input", "Enter")
    buttons = page.locator(".msg.assistant .quick-answer")
    await buttons.first.wait_for()
    seen = await page.evaluate(
        """() => ({
          labels: [...document.querySelectorAll(".quick-answer")].map((b) => b.innerText),
          inside: [...document.querySelectorAll(".quick-answer")].every((b) =>
            b.getBoundingClientRect().right <= b.closest(".bubble").getBoundingClientRect().right),
          drawer: document.querySelector("details.ran > summary").innerText,
        })"""
    )
    await page.unroute("**/messages/stream")
    await buttons.nth(1).click()
    await page.locator(".msg.user").nth(1).wait_for()
    seen["sent"] = await page.locator(".msg.user").nth(1).inner_text()
    return seen


@pytest.fixture(scope="module")
def seen(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, password_hash: str
) -> Iterator[dict[tuple[str, str], dict[str, Any]]]:
    settings = world_settings(tmp_path_factory.mktemp("layout"))
    engine: Engine = migrated_sqlite(settings, sqlite_template)
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    people = People(engine, password_hash, {})
    people.token("olive"), people.token("ann")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with (
            open_switchboard(settings, engine) as sb,
            LiveServer(create_app(settings, switchboard=sb)) as server,
        ):
            seeded = _seed(server.url, sb, people)
            yield asyncio.run(_tour(seeded, []))
    finally:
        engine.dispose()


TABLE_PAGES = ["chat-report", "chat-export", "chat-delivery", "chat-customers", "runs", "audit"]
ALL_PAGES = [*TABLE_PAGES, "approvals"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", ALL_PAGES)
def test_every_number_is_on_screen_or_in_a_table_that_shows_it_scrolls(
    seen: dict[tuple[str, str], dict[str, Any]], name: str, viewport: str
) -> None:
    page = seen[name, viewport]
    assert page["hidden"] == []
    assert page["pageOverflow"] <= 0
    if name in TABLE_PAGES:
        assert page["numbers"] > 0  # the check above looked at something


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", ALL_PAGES)
def test_no_header_is_snake_case(
    seen: dict[tuple[str, str], dict[str, Any]], name: str, viewport: str
) -> None:
    headers = seen[name, viewport]["headers"]
    assert [h for h in headers if "_" in h] == []
    if name == "chat-report":
        assert headers == ["Region", "Orders", "Units", "Revenue", "Share %"]
    if name == "chat-customers":
        assert headers == ["ID", "Name", "Email", "Region", "Tier", "Credit hold", "Score"]


@pytest.mark.parametrize("name", ["chat-report", "chat-trend"])
def test_the_chart_text_is_at_least_10_px_on_a_phone(
    seen: dict[tuple[str, str], dict[str, Any]], name: str
) -> None:
    sizes = seen[name, "phone"]["chartText"]
    assert len(sizes) >= 6  # labels and values, or axis ticks
    assert min(sizes) >= 10, sizes


def test_hashes_are_short_with_the_full_value_behind_and_file_names_stay_whole(
    seen: dict[tuple[str, str], dict[str, Any]],
) -> None:
    export = seen["chat-export", "desktop"]
    [(shown, full)] = export["hashes"]
    assert HASH.match(shown) and re.fullmatch(r"[0-9a-f]{64}", full) and full.startswith(shown[:12])
    assert ["orders_2026-10.csv", 1] in export["files"]  # in the table, and in the reply's words
    assert all(lines == 1 for _, lines in export["files"]), export["files"]
    delivery = seen["chat-delivery", "desktop"]
    assert [HASH.match(shown) is not None for shown, _ in delivery["hashes"]] == [True]
    assert [lines for _, lines in delivery["files"]] and all(lines == 1 for _, lines in delivery["files"][:1])


def test_sizes_have_one_format(seen: dict[tuple[str, str], dict[str, Any]]) -> None:
    for name in ("chat-export", "chat-delivery", "approvals"):
        sizes = seen[name, "desktop"]["sizes"]
        assert sizes, name
        for shown, exact in sizes:
            assert re.fullmatch(r"\d+(\.\d)? (KB|MB)|\d+ bytes", shown), (name, shown)
            assert re.fullmatch(r"[\d,]+ bytes", exact), (name, exact)


def test_ids_have_no_thousands_separators(seen: dict[tuple[str, str], dict[str, Any]]) -> None:
    ids = seen["chat-customers", "desktop"]["ids"]
    assert "1400" in ids and all(re.fullmatch(r"\d+", i) for i in ids), ids
    assert seen["chat-export", "desktop"]["ids"] == ["1"]


def test_the_drawer_says_ran_only_after_something_ran(seen: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert seen["chat-report", "desktop"]["drawers"] == ["What I ran"]
    assert seen["chat-export", "desktop"]["drawers"] == ["What I would run", "What I ran"]
    assert seen["chat-delivery", "desktop"]["drawers"] == ["What I would run"]


def test_audit_data_reads_as_key_values(seen: dict[tuple[str, str], dict[str, Any]]) -> None:
    for viewport in VIEWPORTS:
        cells = seen["audit", viewport]["auditData"]
        assert cells and all(kv and not raw for kv, raw in cells)


def test_the_hint_takes_one_line_on_a_phone(seen: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert seen["chat-report", "phone"]["hintLines"] == 1


def test_a_mistyped_page_gets_a_styled_404_and_the_api_keeps_problem_json(
    seen: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for viewport in VIEWPORTS:
        assert seen["404", viewport] == {
            "status": 404,
            "title": "Page not found · Switchboard",
            "api": (404, "application/problem+json"),
        }


def test_a_turn_in_flight_shows_that_it_is_working(seen: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert seen["typing", "phone"]["shown"].startswith("Working on it")


def test_reply_buttons_wrap_on_a_phone_and_send_their_text(
    seen: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert seen["buttons", "phone"] == {
        "labels": CHOICES,
        "inside": True,
        "drawer": "Details",
        "sent": "Deliver a file to a destination",
    }
