"""Debian's Chromium for the browser tests: where it is, how it is launched, where failure screenshots go."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach the internet, which is closed here.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"

# `make test` installs chromium; under CI a missing browser is a failure, never a skip.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium"
)


@asynccontextmanager
async def chromium(pages: list[Any], *, screenshots: str) -> AsyncIterator[Any]:
    """A headless browser; on failure every page in ``pages`` is saved as ``test-results/<screenshots>-N.png``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        except BaseException:
            RESULTS.mkdir(exist_ok=True)
            for number, page in enumerate(pages):
                await page.screenshot(path=str(RESULTS / f"{screenshots}-{number}.png"), full_page=True)
            raise
        finally:
            await browser.close()


async def log_in(browser: Any, url: str, name: str, password: str) -> Any:
    """A new browser context (its own cookies, like a private window) with ``name`` logging in on its page."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/login")
    await page.fill("#username", name)
    await page.fill("#password", password)
    await page.click("#login")
    return page
