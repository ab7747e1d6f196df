"""The admin's Model and Examples pages in real Chromium, on a desktop and a phone, and a review made by clicking.

One console (real embedded backend, demo data): olive asks for a report and says "no" to a confirmation, which
queues a correction. root then opens the Model page (the day's decisions, per tool) and the Examples page at
both sizes, measured as tests/console/test_browser_layout.py measures every page, and fixes the correction with
the page's own controls; the reviewed training file must then hold it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from agent.modelops.reviewed import latest
from agent.service import open_switchboard
from console.app import create_app
from flows.demo.data import load_demo
from tests.conftest import REFERENCE_DATE, migrated_sqlite
from tests.console.chromium import chromium, needs_chromium
from tests.console.conftest import PASSWORD, People
from tests.console.live import LiveServer
from tests.security.world import world_settings

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
MEASURE = (Path(__file__).parent / "layout_measure.js").read_text(encoding="utf-8")
PAGES = {"model": ("/model", "#model-tools tbody tr"), "examples": ("/examples", ".card.example")}


async def _tour(url: str) -> dict[tuple[str, str], dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    pages: list[Any] = []
    async with chromium(pages, screenshots="console-modelops") as browser:
        session = None
        for viewport, size in VIEWPORTS.items():
            phone = viewport == "phone"
            context = await browser.new_context(
                viewport=size, device_scale_factor=2 if phone else 1, is_mobile=phone, storage_state=session
            )
            page = await context.new_page()
            pages.append(page)
            if session is None:
                await page.goto(f"{url}/login")
                await page.fill("#username", "root")
                await page.fill("#password", PASSWORD)
                await page.click("#login")
                await page.wait_for_url(re.compile(r".*/chat$"))
                session = await context.storage_state()
            for name, (path, ready) in PAGES.items():
                await page.goto(f"{url}{path}")
                await page.locator(ready).first.wait_for()
                await page.evaluate(
                    "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
                )
                await page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"))
                seen[name, viewport] = await page.evaluate(MEASURE)
            if phone:  # the review itself, by clicking: pick the tool meant, then "Fix and keep"
                card = page.locator(".card.example").first
                await card.locator(".example-tool").select_option("apply_rules")
                await card.locator(".example-fix").click()
                done = page.locator("#examples-done")
                await done.wait_for(state="visible")
                seen["review", viewport] = {
                    "done": await done.inner_text(),
                    "cards": await page.locator(".card.example").count(),
                    "error_hidden": await page.locator("#examples-error").is_hidden(),
                }
            await context.close()
    return seen


@pytest.fixture(scope="module")
def toured(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, password_hash: str
) -> Iterator[tuple[dict[tuple[str, str], dict[str, Any]], Path]]:
    settings = world_settings(tmp_path_factory.mktemp("modelops"))
    engine: Engine = migrated_sqlite(settings, sqlite_template)
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    People(engine, password_hash, {}).token("root")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with (
            open_switchboard(settings, engine) as sb,
            LiveServer(create_app(settings, switchboard=sb)) as server,
        ):
            sb.chat(
                thread_id="t-report",
                user="olive",
                role="operator",
                text="Show me last month's sales by region",
            )
            for text in ("run the vip rules", "no"):
                sb.chat(thread_id="t-no", user="olive", role="operator", text=text)
            yield asyncio.run(_tour(server.url)), settings.var_dir / "training"
    finally:
        engine.dispose()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", PAGES)
def test_the_pages_fit_and_read_as_words(
    toured: tuple[dict[tuple[str, str], dict[str, Any]], Path], name: str, viewport: str
) -> None:
    page = toured[0][name, viewport]
    assert page["hidden"] == [], "a number is cut off and not in a table that scrolls"
    assert page["pageOverflow"] <= 0
    assert [h for h in page["headers"] if "_" in h] == []
    if name == "model":
        assert page["numbers"] > 0


def test_a_correction_fixed_on_the_page_reaches_the_reviewed_file(
    toured: tuple[dict[tuple[str, str], dict[str, Any]], Path],
) -> None:
    seen, training = toured
    review = seen["review", "phone"]
    assert review["done"].startswith("Fixed ") and "reviewed version 1 has 1 example" in review["done"]
    assert (review["cards"], review["error_hidden"]) == (0, True)
    reviewed = latest(training)
    assert [(e.text, e.tool, e.reviewed_by) for e in reviewed.examples] == [
        ("run the vip rules", "apply_rules", "root")
    ]
