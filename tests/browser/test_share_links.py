"""Issue 13's "done when", in real browsers on the real stack: a rep makes a share link in the
phone-sized app (two taps from the asset), a prospect opens it in a browser of their own and
reads for about ten seconds, the rep's email reaches the SMTP sink within 5 s of the open
and the rep's live feed (/links) shows the visit with its reading time; a third browser
opening the same link shows up as a forward ("shared with 1 other").

Each person is a Playwright browser context: its own cookies, so its own ``gb_b`` browser
cookie on ingest's /s/. The asset is a page on another origin with the page script, as a
customer's site would be. ``GLASSBOARD_SAVE_SCREENSHOTS=1`` refreshes
docs/screenshots/share-*.png.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP_USER_AGENT,
    skip_module_without_chromium,
)
from harness.paths import SCREENSHOTS

skip_module_without_chromium()

from playwright.async_api import Page, async_playwright, expect  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import HTMLResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from harness.notifier import SmtpServer, for_notifier, start_notifier  # noqa: E402
from harness.stack import RunningServer, Stack, eventually  # noqa: E402
from shared.embedded import free_port  # noqa: E402

pytestmark = pytest.mark.browser

REP = "ana.rep@example.com"
OWNER = "maria.owner@example.com"
PROSPECT = "dana@hooli.example"
ASSET = "contoso-case-study"
#: Opens this soon after the link was made count as mail scanners (SHARE_SCANNER_SECONDS).
SCANNER_SECONDS = 5.0
READ_SECONDS = 10.0
ALERT_BOUND_S = 5.0
#: The prospect's colleague, on another computer.
COLLEAGUE_USER_AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/17.2 Safari/605.1.15")

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
    "has_touch": True, "reduced_motion": "reduce", "locale": "en-US",
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                   "Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"),
}
ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>How Contoso cut reporting time by 60%</title></head>
<body style="font-family: 'DejaVu Sans', sans-serif; margin: 48px; max-width: 720px">
<h1>How Contoso Logistics cut reporting time by 60%</h1>
<p>Forty warehouses, one dashboard, and the Monday report that used to take a day.</p>
<script async src="{ingest}/t.js" data-asset="{asset}"></script>
</body></html>
"""


async def _site(ingest_url: str) -> RunningServer:
    async def article(request: Request) -> HTMLResponse:
        return HTMLResponse(ARTICLE.format(ingest=ingest_url, asset=ASSET))

    app = Starlette(routes=[Route("/customers/contoso", article)])
    return await RunningServer(app, free_port()).start()


@pytest.fixture
async def running(stack: Stack, smtp: SmtpServer) -> AsyncIterator[dict[str, Any]]:
    """Every service, the SMTP sink for the notifier, and the customer's site."""
    ingest = await stack.ingest()
    site = await _site(ingest.url)
    stack.running.append(site)
    ratings = await stack.ratings()
    await stack.aggregator()
    await start_notifier(stack, for_notifier(stack.settings, smtp.port))
    _, rep_token = await stack.user(REP, "sales", "Ana Rep")
    await stack.user(OWNER, "marketing", "Maria Owner")
    async with await stack.client("marketing") as marketing:
        (await marketing.post("/v1/assets", json={
            "id": ASSET, "title": "How Contoso Logistics Cut Reporting Time by 60%",
            "type": "case_study", "url": f"{site.url}/customers/contoso",
            "owner_email": OWNER})).raise_for_status()
    yield {"ratings": ratings, "ingest": ingest, "site": site, "token": rep_token}


def _mails_to(smtp: SmtpServer, to: str) -> list[Any]:
    return [m for m in smtp.messages if to in str(m["To"])]


async def _shot(page: Page, tmp_path: Path, name: str) -> None:
    data = await page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("GLASSBOARD_SAVE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(data)


@pytest.mark.timeout(120)
async def test_rep_shares_prospect_reads_forward_shows(
    running: dict[str, Any], smtp: SmtpServer, tmp_path: Path
) -> None:
    ratings: RunningServer = running["ratings"]
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=list(CHROMIUM_ARGS))
        try:
            rep = await browser.new_context(
                **PHONE, extra_http_headers={"authorization": f"Bearer {running['token']}"})
            rep.on("weberror", lambda e: errors.append(str(e.error)))
            app = await rep.new_page()

            # 1. Two taps from the asset view: "Share", (the email), "Create link".
            await app.goto(f"{ratings.url}/assets/{ASSET}")
            await app.get_by_role("button", name="Share with a prospect").tap()
            await app.locator("#share-email").fill(PROSPECT)
            await app.locator("#share-company").fill("Hooli")
            await app.get_by_role("button", name="Create link").tap()
            url_box = app.locator("#share-url")
            await expect(url_box).to_contain_text("/s/", timeout=10_000)
            link = (await url_box.text_content() or "").strip()
            created = time.monotonic()
            assert link.startswith(running["ingest"].url + "/s/")
            await expect(app.locator("#share-email-text")).to_contain_text(link)
            width = await app.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the share sheet is wider than the phone: {width}px"
            await _shot(app, tmp_path, "share-sheet-phone.png")

            # The rep's feed, live before anyone opens the link.
            feed = await rep.new_page()
            await feed.goto(f"{ratings.url}/links")
            await expect(feed.locator("#live")).to_have_attribute("data-state", "live")
            await expect(feed.locator(f'li.share-link:has-text("{PROSPECT}")')).to_have_count(1)
            # The rep's alert settings, on the same page: the defaults until saved.
            await expect(feed.locator('#link-prefs [name="first_open"]')).to_be_checked()
            await expect(feed.locator('#link-prefs [name="long_read_seconds"]')).to_have_value(
                "120")

            # 2. The prospect, in a browser of their own, after the scanner window.
            await asyncio.sleep(max(0.0, SCANNER_SECONDS + 0.5 - (time.monotonic() - created)))
            prospect = await browser.new_context(user_agent=DESKTOP_USER_AGENT)
            prospect.on("weberror", lambda e: errors.append(str(e.error)))
            reader = await prospect.new_page()
            opened = time.monotonic()
            await reader.goto(link)
            await reader.wait_for_url(f"{running['site'].url}/customers/contoso**")
            await expect(reader.locator("h1")).to_contain_text("Contoso")

            # 3. The rep's email within 5 s of the open; the feed shows the visit.
            async def mails_to_rep() -> list[Any]:
                return _mails_to(smtp, REP)

            mails = await eventually(mails_to_rep, bool, timeout=ALERT_BOUND_S + 5,
                                     interval=0.1)
            alert_s = time.monotonic() - opened
            visit = feed.locator("#feed li.visit").first
            await expect(visit).to_contain_text(PROSPECT, timeout=10_000)
            await expect(visit).not_to_have_class("visit forwarded")
            await asyncio.sleep(max(0.0, READ_SECONDS - (time.monotonic() - opened)))
            assert "gb_visit" not in reader.url, "t.js leaves gb_visit in the address bar"
            await reader.close()  # pagehide: t.js sends the last dwell slice
            await expect(visit.locator(".visit-engaged")).not_to_have_text("0 s read",
                                                                           timeout=15_000)
            engaged = await visit.locator(".visit-engaged").text_content() or ""
            seconds = int(engaged.split()[0]) if engaged.split()[0].isdigit() else 999
            assert 5 <= seconds <= 15, engaged

            # 4. A third browser with the same link: a forward.
            third = await browser.new_context(user_agent=COLLEAGUE_USER_AGENT)
            other = await third.new_page()
            await other.goto(link)
            await other.wait_for_url(f"{running['site'].url}/customers/contoso**")
            await expect(feed.locator("#feed li.visit.forwarded")).to_have_count(1,
                                                                                 timeout=15_000)
            await expect(feed.locator('li.share-link dd[data-key="forwards"]')).to_have_text(
                "1 other", timeout=10_000)
            await other.close()
            await _shot(feed, tmp_path, "share-links-feed-phone.png")
        finally:
            await browser.close()
    assert alert_s <= ALERT_BOUND_S, f"the rep's email came {alert_s:.1f} s after the open"
    assert len(mails) == 1, [str(m["Subject"]) for m in mails]
    assert errors == [], f"uncaught errors in the pages: {errors}"


async def test_links_page_needs_sign_in_and_executives_get_no_share_button(
    stack: Stack,
) -> None:
    """/links sends a signed-out browser to sign in and back; an executive (who may not
    make links: the API refuses) sees the asset page and its share usage, no Share button."""
    ratings = await stack.ratings()
    await stack.user(OWNER, "marketing", "Maria Owner")
    async with await stack.client("marketing") as marketing:
        (await marketing.post("/v1/assets", json={
            "id": ASSET, "title": "Contoso", "type": "case_study",
            "url": "https://example.com/contoso", "owner_email": OWNER})).raise_for_status()
    async with httpx.AsyncClient(base_url=ratings.url) as anonymous:
        response = await anonymous.get("/links")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Flinks"
    async with await stack.client("executive") as executive:
        page = await executive.get(f"/assets/{ASSET}")
        links = await executive.get("/links")
    assert page.status_code == 200 and 'id="share-usage"' in page.text
    assert "Share with a prospect" not in page.text
    assert links.status_code == 200 and 'id="feed"' in links.text
    assert "pick one" not in links.text
    async with await stack.client("sales") as sales:
        page = await sales.get(f"/assets/{ASSET}")
    assert "Share with a prospect" in page.text and 'href="/links"' in page.text
