"""A share link opened in a real browser: Debian's headless Chromium follows /s/{id} to a
customer's page embedding t.js. The open is the view; the page sends none of its own, its
dwell slices carry view_id = the open's event id (gb_visit), and gb_visit leaves the
address bar. Also the email gate and the unavailable page, as a reader sees them.

Skipped only when /usr/bin/chromium is missing and ``CI`` is unset. Screenshots go to the
test's tmp dir; ``GLASSBOARD_SAVE_SCREENSHOTS=1`` also puts them in docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    record_beacons,
    save_screenshot,
    skip_module_without_chromium,
)

skip_module_without_chromium()

from playwright.async_api import Browser, Request, async_playwright  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request as StarletteRequest  # noqa: E402
from starlette.responses import HTMLResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from harness.db import fetch  # noqa: E402
from harness.stack import RunningServer, Stack, consume_all, eventually  # noqa: E402
from shared.embedded import free_port  # noqa: E402
from shared.events import EventEnvelope, Source  # noqa: E402
from shared.share_links import new_link_id  # noqa: E402

pytestmark = pytest.mark.browser

ASSET = "acme-case-study"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Acme and the leaking valves: a case study</title></head>
<body style="font-family: 'DejaVu Sans', sans-serif; margin: 48px">
<h1>How Acme cut water losses by 40%</h1><p>A case study, read by a prospect.</p>
<script async src="{ingest}/t.js" data-asset="{asset}" data-heartbeat="5"></script>
</body></html>"""


@dataclass
class Setup:
    stack: Stack
    ingest_url: str
    page_url: str
    browser: Browser
    tmp_path: Path


@pytest.fixture
async def setup(stack: Stack, tmp_path: Path) -> AsyncIterator[Setup]:
    site_port = free_port()
    page_url = f"http://127.0.0.1:{site_port}/case-study?utm_source=email"
    await stack.add_asset(ASSET, title="Acme case study", type="case_study", url=page_url)
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()

    async def case_study(request: StarletteRequest) -> HTMLResponse:
        return HTMLResponse(PAGE.format(ingest=ingest.url, asset=ASSET))

    site = await RunningServer(Starlette(routes=[Route("/case-study", case_study)]),
                               site_port).start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                       args=list(CHROMIUM_ARGS))
            try:
                yield Setup(stack, ingest.url, page_url, browser, tmp_path)
            finally:
                await browser.close()
    finally:
        await site.stop()


async def _link(stack: Stack, *, gate: bool = False, revoked: bool = False) -> str:
    creator, _ = await stack.user("rep@example.com", "sales", "Riley Rep")
    link_id = new_link_id()
    await fetch(stack.settings,
                "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, email_gate, "
                "created_at, revoked_at) VALUES ($1, $2, $3, 'pat@prospect.example', $4, "
                "now() - interval '1 minute', CASE WHEN $5 THEN now() END)",
                link_id, ASSET, creator, gate, revoked)
    return link_id


def _save(shot: bytes, setup: Setup, name: str) -> None:
    save_screenshot(shot, setup.tmp_path, name)


async def test_a_page_opened_through_a_share_link_credits_its_time_to_the_open(
    setup: Setup,
) -> None:
    link = await _link(setup.stack)
    context = await setup.browser.new_context()
    sent = record_beacons(context, setup.ingest_url)
    page = await context.new_page()
    response = await page.goto(f"{setup.ingest_url}/s/{link}")
    assert response is not None and response.ok
    [redirect] = [r for r in await _redirects(response.request)]
    visit = redirect.split("gb_visit=")[1]
    # The address bar keeps the asset's own url, without gb_visit.
    await eventually(lambda: page.evaluate("location.href"), lambda h: h == setup.page_url)
    assert any(c["name"] == "gb_b" for c in await context.cookies(f"{setup.ingest_url}/s/{link}"))

    await page.wait_for_timeout(2000)
    await page.reload()  # the same tab goes on with the same visit
    await page.wait_for_timeout(1000)
    await page.goto("about:blank")  # pagehide: the last slice goes out
    await context.close()
    # What the page sent while it was open (beacons at pagehide may escape the listener).
    assert [e["type"] for e in sent] == ["dwell"] * len(sent)  # no view of its own
    assert {e["view_id"] for e in sent} <= {visit}

    events = await eventually(lambda: _events(setup.stack),
                              lambda es: sum(e.type == "dwell" for e in es) >= 2, timeout=10)
    views = [e for e in events if e.type == "view"]
    assert [(str(e.event_id), e.source, e.link_id) for e in views] == [
        (visit, Source.SHARE, link)]
    dwell = [e for e in events if e.type == "dwell"]
    assert {str(e.view_id) for e in dwell} == {visit}
    assert {e.source for e in dwell} == {Source.BEACON}
    assert sum(e.engaged_ms or 0 for e in dwell) >= 2000  # 2 s, then 1 s after the reload
    usage = await eventually(lambda: setup.stack.usage(ASSET),
                             lambda u: u["dwell"]["views_with_dwell"] == 1)
    assert usage["views"] == 1


async def _redirects(request: Request) -> list[str]:
    """The Location of each redirect that led to ``request``."""
    hops = []
    while request.redirected_from is not None:
        request = request.redirected_from
        hop = await request.response()
        assert hop is not None
        hops.append(await hop.header_value("location") or "")
    return hops


async def _events(stack: Stack) -> list[EventEnvelope]:
    settings = stack.settings
    records = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events.name,
                                expect=10_000, timeout=1.0)
    return [EventEnvelope.model_validate_json(r.value) for r in records]


async def test_the_email_gate_and_the_unavailable_page_as_a_reader_sees_them(
    setup: Setup,
) -> None:
    gated, revoked = await _link(setup.stack, gate=True), await _link(setup.stack, revoked=True)
    context = await setup.browser.new_context(viewport={"width": 412, "height": 780})
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page = await context.new_page()
    await page.goto(f"{setup.ingest_url}/s/{gated}")
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("alert").wait_for()
    assert await page.get_by_role("alert").inner_text() == "Enter your email address to continue."
    _save(await page.screenshot(), setup, "share-gate.png")

    await page.get_by_label("Email address").fill("pat@prospect.example")
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(setup.page_url)
    # No CSP refusal: the inline style and the form's redirect to the asset are allowed.
    assert [e for e in errors if "Content Security Policy" in e] == []

    await page.goto(f"{setup.ingest_url}/s/{revoked}")
    assert await page.get_by_role("heading").inner_text() == "This link was withdrawn"
    _save(await page.screenshot(), setup, "share-unavailable.png")
    await context.close()
