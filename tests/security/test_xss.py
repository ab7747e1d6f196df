"""XSS in every console page, in real headless Chromium with the app's Content-Security-Policy on.

Payloads are stored where data reaches the pages: customer names (shown in a chat reply's table), thread messages,
file names (an ingest of a file that is not there: its path is in the run's arguments and error), run errors, approval
arguments and the audit records all of these leave. Every page is then loaded once, logged in as an admin; each
case is one (page, payload) and checks that the payload neither ran (no dialog, no marker set on ``window``, no CSP
violation reported) nor became an element (nothing carries its ``data-xss`` attribute). Server-side template
injection is one payload too: ``{{7*7}}`` must stay as typed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from core.errors import SwitchboardError
from tests.console.chromium import ARGS, CHROMIUM
from tests.console.chromium import log_in as chromium_log_in
from tests.console.live import LiveServer
from tests.security.world import PASSWORD, World, open_world
from tests.utils.factories import insert_customers
from tests.utils.fake_backend import ScriptedBackend

pytestmark = [pytest.mark.browser]  # no skip without Chromium: a missing browser fails the suite

PAYLOADS = {
    "script": '<script data-xss="script">window.__xss_script=1;alert("script")</script>',
    "img-onerror": '<img src=x data-xss="img-onerror" onerror="window.__xss_img_onerror=1;alert(1)">',
    "javascript-url": '<a data-xss="javascript-url" href="javascript:window.__xss_javascript_url=1">x</a>',
    "svg-onload": '<svg data-xss="svg-onload" onload="window.__xss_svg_onload=1;alert(1)"></svg>',
    "attribute-break": '" data-xss="attribute-break" autofocus onfocus="window.__xss_attribute_break=1" x="',
    "iframe-srcdoc": '<iframe data-xss="iframe-srcdoc" srcdoc="<script>parent.__xss_iframe_srcdoc=1</script>">',
    "template": "{{7*7}} ${7*7} #{7*7}",
}
# Pages, and what each shows of the planted data (checked as visible text, so a case cannot pass on an empty page).
# On the runs page every run is selected in turn, so each one's arguments and error are rendered too.
CLICK = {"/runs": "tr.clickable"}
PAGES = {
    "/chat/{thread}": "XSS-img-onerror",
    "/chat": None,
    "/approvals": "XSS-svg-onload",
    "/approvals/{approval}": "XSS-svg-onload",
    "/runs": "XSS-javascript-url",
    "/audit": "XSS-iframe-srcdoc",
    "/users": None,
    "/account": None,
    "/evals": None,
}


def tagged(kind: str) -> str:
    """The payload with a visible label, so its text can be found on the page."""
    return f"XSS-{kind} {PAYLOADS[kind]}"


@dataclass
class Loaded:
    """What one page load showed."""

    text: str
    dialogs: list[str] = field(default_factory=list)
    violations: list[str] | None = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    csp: str = ""


_WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
_MARKERS = "() => Object.keys(window).filter(k => k.startsWith('__xss_'))"
_ELEMENTS = "() => Array.from(document.querySelectorAll('[data-xss]')).map(e => e.getAttribute('data-xss'))"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    backend = ScriptedBackend()
    with open_world(tmp_path_factory.mktemp("xss"), backend=backend) as w:
        sb = w.sb
        insert_customers(
            w.engine,
            [
                {"id": 100 + n, "name": tagged(kind), "email": f"x{n}@example.com", "region": "emea"}
                for n, kind in enumerate(PAYLOADS)
            ],
        )
        thread = "t-xss"
        for n, kind in enumerate(PAYLOADS):
            backend.enqueue("lookup_customer", {"query": str(100 + n)})
            sb.chat(thread_id=thread, user="root", role="admin", text=f"look up {tagged(kind)}"[:4000])
            # A file name: the run fails (no such file) and keeps the name in its arguments and its error.
            _failed_ingest(sb, tagged(kind))
        approval = None
        for kind in PAYLOADS:
            backend.enqueue(
                "send_notification", {"channel": "email", "recipient": "ops", "message": tagged(kind)}
            )
            reply = sb.chat(thread_id="t-approvals", user="root", role="admin", text="tell ops")
            approval = approval or reply.approval_id
        assert approval is not None
        w.refs["thread"], w.refs["approval"] = thread, approval
        yield w


def _failed_ingest(sb: Any, name: str) -> None:
    """Ingest a file named ``name`` that does not exist: a failed run whose error quotes the name."""
    with pytest.raises(SwitchboardError):
        sb.runner.call("ingest_file", {"path": f"{name}.csv", "dataset": "orders"}, actor="root")


@pytest.fixture(scope="module")
def loads(world: World) -> Iterator[dict[str, Loaded]]:
    """Every page loaded once in one browser, logged in as root."""
    from playwright.async_api import async_playwright

    loop = asyncio.new_event_loop()
    results: dict[str, Loaded] = {}

    async def visit_all(url: str) -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGS
            )
            try:
                page = await chromium_log_in(browser, url, "root", PASSWORD)
                await page.wait_for_url("**/chat")
                await page.context.add_init_script(_WATCH)
                for template in PAGES:
                    path = template.format(thread=world.refs["thread"], approval=world.refs["approval"])
                    results[template] = await visit(page, url + path, shows=PAGES[template])
            finally:
                await browser.close()

    with LiveServer(world.app) as server:
        loop.run_until_complete(visit_all(server.url))
    loop.close()
    yield results


async def visit(page: Any, url: str, *, shows: str | None = None) -> Loaded:
    loaded = Loaded(text="")

    async def on_dialog(dialog: Any) -> None:
        loaded.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    response = await page.goto(url)
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(150)  # scripts that render after the last fetch
    clicks = [CLICK[p] for p in CLICK if url.endswith(p)]
    # On a busy machine the rows or the data can render later than that; the assertions still say if they never did.
    with contextlib.suppress(PlaywrightTimeout):
        if clicks:
            await page.wait_for_selector(clicks[0], timeout=10_000)
        elif shows is not None:
            await page.wait_for_function(
                "t => document.body.innerText.includes(t)", arg=shows, timeout=10_000
            )
    loaded.csp = response.headers.get("content-security-policy", "") if response else ""
    loaded.text = await page.inner_text("body")
    for selector in clicks:
        rows = page.locator(selector)
        for index in range(await rows.count()):
            before = await page.inner_text("body")
            await rows.nth(index).click()
            await page.wait_for_load_state("networkidle")
            with contextlib.suppress(PlaywrightTimeout):  # the run's details render after their fetch
                await page.wait_for_function("t => document.body.innerText !== t", arg=before, timeout=10_000)
            loaded.text += await page.inner_text("body")
    loaded.markers = await page.evaluate(_MARKERS)
    loaded.elements = await page.evaluate(_ELEMENTS)
    loaded.violations = await page.evaluate(
        "() => window.__violations ?? null"
    )  # null: the watcher never ran
    # Focus everything focusable once: an injected onfocus handler would run now.
    await page.evaluate("() => document.querySelectorAll('[autofocus]').forEach(e => e.focus())")
    loaded.markers += await page.evaluate(_MARKERS)
    page.remove_listener("dialog", on_dialog)
    return loaded


CASES = [pytest.param(page, kind, id=f"{page} {kind}") for page in PAGES for kind in PAYLOADS]


@pytest.mark.parametrize(("page", "kind"), CASES)
def test_stored_payload_does_not_execute(loads: dict[str, Loaded], page: str, kind: str) -> None:
    loaded = loads[page]
    assert "script-src 'self'" in loaded.csp and "default-src 'self'" in loaded.csp
    assert loaded.dialogs == []
    assert [m for m in loaded.markers if kind.replace("-", "_") in m] == []
    assert [e for e in loaded.elements if e == kind] == []
    assert loaded.violations == [], loaded.violations  # nothing injected even tried to run
    if kind == "template":
        assert "XSS-template 49" not in loaded.text  # {{7*7}} was not evaluated by any template
    shows = PAGES[page]
    if shows is not None:
        assert shows in loaded.text, f"{page} does not show the planted data:\n{loaded.text[:800]}"
