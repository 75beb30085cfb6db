"""The mobile rating app (a PWA) in a real phone-sized browser: sign in with a magic link,
rate from the list in one tap, lose the network, keep rating, get it back, and check what
the server stored. Also: the manifest and service worker that make it installable, the
keyboard, touch target sizes at 360 px, search, filters, "Recently viewed by me", and the
asset page with its embed code.

Debian's headless Chromium, driven by Playwright's async API, at 390×844 with touch.
``context.set_offline(True)`` also cuts the service worker off the network in this
Playwright and Chromium (checked: the worker's fetch fails and its ``navigator.onLine`` is
false), so the offline path is the real one: the worker queues the PUT in IndexedDB.

Skipped only when /usr/bin/chromium is missing and ``CI`` is unset; in CI it always runs.
``GLASSBOARD_SAVE_SCREENSHOTS=1`` also refreshes docs/screenshots/app-*.png and
asset-page.png (otherwise they go to the test's tmp_path only).
"""

from __future__ import annotations

import os
import re
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS, skip_module_without_chromium
from harness.paths import SCREENSHOTS

skip_module_without_chromium()

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from playwright.async_api import (  # noqa: E402
    BrowserContext,
    Locator,
    Page,
    async_playwright,
    expect,
)

from harness.stack import RunningServer, Stack, eventually  # noqa: E402

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
    "reduced_motion": "reduce",  # steady screenshots
    "locale": "en-US",
}
REP = "rep@example.com"
OWNER = "maria.lopez@example.com"
FLOW_BOUND_S = 30.0

A, B, C = "acme-flow-3-sheet", "northwind-case-study", "leak-detection-webinar"
ASSETS: list[dict[str, Any]] = [
    {"id": A, "title": "Acme Flow 3 product sheet", "type": "product_sheet",
     "url": "https://cdn.example.com/acme-flow-3.pdf", "owner_email": OWNER,
     "tags": ["valves", "pricing"], "stage": "decision"},
    {"id": B, "title": "Northwind cut leak losses by 38%", "type": "case_study",
     "url": "https://example.com/customers/northwind", "owner_email": OWNER,
     "tags": ["utilities", "roi"], "stage": "consideration"},
    {"id": C, "title": "Leak detection in five minutes", "type": "video",
     "url": "https://example.com/videos/leak-detection", "owner_email": OWNER,
     "tags": ["webinar"], "stage": "awareness"},
]


@dataclass
class Phone:
    stack: Stack
    ratings: RunningServer
    rep_token: str
    context: BrowserContext
    tmp_path: Path
    page_errors: list[str]

    @property
    def url(self) -> str:
        return self.ratings.url

    def mailer(self) -> Any:
        return self.ratings.app.state.mailer

    async def rating(self, asset_id: str) -> dict[str, Any]:
        async with httpx.AsyncClient(
            base_url=self.url, headers={"authorization": f"Bearer {self.rep_token}"}
        ) as client:
            response = await client.get(f"/v1/assets/{asset_id}/rating")
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]

    async def rating_events(self, asset_id: str) -> list[int | None]:
        """Stars of every rating event the server wrote for the asset, oldest first."""
        conn = await asyncpg.connect(self.stack.settings.database_url)
        try:
            # `#>> '{}'` then ::jsonb reads the event whether it was stored as a JSON object
            # or (as the pool's jsonb codec does to model_dump_json()) as a JSON string.
            rows = await conn.fetch(
                "SELECT ((event #>> '{}')::jsonb ->> 'stars')::int AS stars FROM rating_outbox "
                "WHERE (event #>> '{}')::jsonb ->> 'asset_id' = $1 ORDER BY id", asset_id,
            )
        finally:
            await conn.close()
        return [r["stars"] for r in rows]

    async def shot(self, page: Page, name: str, *, full_page: bool = False) -> None:
        data = await page.screenshot(path=str(self.tmp_path / name), full_page=full_page)
        if os.environ.get("GLASSBOARD_SAVE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / name).write_bytes(data)


@pytest.fixture
async def phone(stack: Stack, tmp_path: Path) -> AsyncIterator[Phone]:
    ratings = await stack.ratings()
    _, rep_token = await stack.user(REP, "sales", "Riley Rep")
    await stack.user(OWNER, "marketing", "Maria Lopez")  # owners are users first (issue 12)
    async with await stack.client("marketing") as marketing:
        for asset in ASSETS:
            (await marketing.post("/v1/assets", json=asset)).raise_for_status()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        try:
            context = await browser.new_context(**PHONE)
            errors: list[str] = []
            context.on("weberror", lambda e: errors.append(str(e.error)))
            yield Phone(stack, ratings, rep_token, context, tmp_path, errors)
        finally:
            await browser.close()
    assert errors == [], f"uncaught errors in the pages: {errors}"


def row(page: Page, asset_id: str) -> Locator:
    return page.locator(f'li.asset[data-id="{asset_id}"]')


async def sign_in(phone: Phone, page: Page, *, screenshot: bool = False) -> None:
    """Open the app signed out, land on /login, ask for a link, follow the emailed link."""
    await page.goto(f"{phone.url}/app/")
    assert page.url == f"{phone.url}/login?next=%2Fapp%2F"
    await page.get_by_label("Work email").fill(REP)
    if screenshot:
        await phone.shot(page, "app-login.png")
    sent_before = len(phone.mailer().sent)
    await page.get_by_role("button", name="Email me a sign-in link").tap()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    await expect(page.locator("#sent-to")).to_have_text(REP)
    await expect(page.locator("#dev-hint")).to_contain_text("printed in the console")

    mails = await eventually(lambda: _mails(phone, sent_before), lambda m: len(m) > 0, timeout=5)
    to, _, body = mails[-1]
    assert to == REP
    link = re.search(r"https?://\S+/auth/magic\?\S+", body)
    assert link, body
    # The link opens a page that signs in only when its button is pressed (a POST).
    await page.goto(link.group(0))
    await expect(page.locator("#signing-in-as")).to_have_text(REP)
    if screenshot:
        await phone.shot(page, "app-magic-link.png")
    await page.get_by_role("button", name="Sign in", exact=True).tap()
    await page.wait_for_url(f"{phone.url}/app/")
    assert page.url == f"{phone.url}/app/"
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#whoami")).to_contain_text(REP)


async def _mails(phone: Phone, after: int) -> list[tuple[str, str, str]]:
    return list(phone.mailer().sent[after:])


async def controlled_by_worker(page: Page) -> None:
    # Not wait_for_function: polling a string predicate needs eval, which the app's CSP
    # (script-src 'self') refuses, as it should.
    script = await page.evaluate("""async () => {
        const sw = navigator.serviceWorker;
        if (!sw.controller) {
            await new Promise(resolve => sw.addEventListener('controllerchange', resolve, {once: true}));
        }
        return sw.controller.scriptURL;
    }""")
    assert script.endswith("/app/sw.js"), script


async def test_sign_in_and_rate_from_the_list_online_and_offline(phone: Phone) -> None:
    await phone.stack.aggregator()  # the whole pipeline runs, as in production
    page = await phone.context.new_page()
    started = time.monotonic()
    await sign_in(phone, page, screenshot=True)
    signed_in = time.monotonic()

    await expect(page.locator("li.asset")).to_have_count(3)
    await expect(page.locator("#summary")).to_have_text("3 assets")
    for asset in ASSETS:
        await expect(row(page, asset["id"]).locator(".rate-status")).to_have_text("Not rated yet")
    await controlled_by_worker(page)
    await phone.shot(page, "app-list.png")

    # One tap on a star saves: 4 stars, then changing my mind to 2.
    a = row(page, A)
    await a.get_by_role("button", name="Rate 4 out of 5").tap()
    await expect(a.locator(".rate-status")).to_have_text("Saved · 4 of 5")
    await expect(a.get_by_role("button", name="Rate 4 out of 5")).to_have_attribute(
        "aria-pressed", "true")
    await a.get_by_role("button", name="Rate 2 out of 5").tap()
    await expect(a.locator(".rate-status")).to_have_text("Saved · 2 of 5")
    await expect(a.locator('.star[aria-pressed="true"]')).to_have_count(1)
    await expect(a.locator(".star.on")).to_have_count(2)
    await expect(page.locator("#toast")).to_contain_text("Rated 2 of 5")
    await phone.shot(page, "app-rated.png")
    assert (await phone.rating(A))["stars"] == 2

    # The network goes away. Rating B still takes one tap; it waits on the phone.
    await phone.context.set_offline(True)
    await expect(page.locator("#offline-banner")).to_be_visible()
    b = row(page, B)
    await b.get_by_role("button", name="Rate 3 out of 5").tap()
    await expect(b.locator(".rate-status")).to_have_text("Queued — will send when online")
    await b.get_by_role("button", name="Rate 5 out of 5").tap()  # changed my mind, still offline
    await expect(b.locator(".rate-status")).to_have_text("Queued — will send when online")
    await expect(b.locator(".star.on")).to_have_count(5)
    await expect(page.locator("#pending")).to_have_text("1 rating waiting")
    queued = await page.evaluate("GBQueue.all()")
    assert [(q["asset_id"], q["stars"]) for q in queued] == [(B, 5)], queued  # collapsed
    await phone.shot(page, "app-offline-queued.png")

    # Still offline, the app opens again from the worker's cache, queue and all.
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#summary")).to_have_text("3 assets · offline copy")
    await expect(row(page, A).locator(".star.on")).to_have_count(2)
    await expect(row(page, B).locator(".rate-status")).to_have_text(
        "Queued — will send when online")
    await expect(row(page, B).locator(".star.on")).to_have_count(5)
    assert (await phone.rating(B))["stars"] is None  # nothing reached the server yet

    # Back online: the queue is replayed and the row says so.
    await phone.context.set_offline(False)
    await expect(row(page, B).locator(".rate-status")).to_have_text("Sent · 5 of 5",
                                                                    timeout=15_000)
    await expect(page.locator("#pending")).to_be_hidden()
    await expect(page.locator("#offline-banner")).to_be_hidden()
    await eventually(lambda: phone.rating(B), lambda r: r["stars"] == 5, timeout=5)
    elapsed = time.monotonic() - started

    print(f"\nsign-in + three ratings (one offline, replayed): {elapsed:.2f} s "
          f"(sign-in {signed_in - started:.2f} s)")
    assert elapsed < FLOW_BOUND_S

    assert (await phone.rating(A))["stars"] == 2
    assert (await phone.rating(B))["stars"] == 5
    # Exactly what was meant reached the server: A twice, B once (3★ never left the phone).
    assert await phone.rating_events(A) == [4, 2]
    assert await phone.rating_events(B) == [5]
    assert await page.evaluate("GBQueue.all()") == []


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_installable_with_a_service_worker(phone: Phone) -> None:
    async with httpx.AsyncClient(base_url=phone.url) as anonymous:
        shell = await anonymous.get("/app/")
        assert shell.status_code == 303 and shell.headers["location"] == "/login?next=%2Fapp%2F"
        asset = await anonymous.get(f"/assets/{A}")
        assert asset.status_code == 303
        assert asset.headers["location"] == f"/login?next=%2Fassets%2F{A}"

        manifest = (await anonymous.get("/app/manifest.webmanifest"))
        assert manifest.headers["content-type"] == "application/manifest+json"
        data = manifest.json()
        assert data["start_url"] == "/app/" and data["display"] == "standalone"
        assert data["name"] and data["short_name"] == "Glassboard"
        assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"])
        icons = {(i["sizes"], i["purpose"]): i["src"] for i in data["icons"]}
        for sizes, purpose in (("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")):
            png = await anonymous.get(icons[(sizes, purpose)])
            assert png.headers["content-type"] == "image/png"
            assert "x".join(map(str, _png_size(png.content))) == sizes

        worker = await anonymous.get("/app/sw.js")
        assert worker.headers["content-type"].startswith("text/javascript")
        assert worker.headers["service-worker-allowed"] == "/app/"
        assert "__VERSION__" not in worker.text
        again = await anonymous.get("/app/sw.js", headers={"if-none-match": worker.headers["etag"]})
        assert again.status_code == 304

    page = await phone.context.new_page()
    await sign_in(phone, page)
    await controlled_by_worker(page)
    registration = await page.evaluate("""async () => {
        const r = await navigator.serviceWorker.getRegistration('/app/');
        return {scope: r.scope, state: r.active && r.active.state, sync: 'sync' in r};
    }""")
    assert registration == {"scope": f"{phone.url}/app/", "state": "activated", "sync": True}
    assert await page.evaluate(
        "document.querySelector('link[rel=manifest]').href"
    ) == f"{phone.url}/app/manifest.webmanifest"

    # What Chromium itself makes of the manifest.
    cdp = await phone.context.new_cdp_session(page)
    parsed = await cdp.send("Page.getAppManifest")
    assert parsed["errors"] == [], parsed["errors"]
    installability = await cdp.send("Page.getInstallabilityErrors")
    errors = [e["errorId"] for e in installability["installabilityErrors"]]
    # Playwright's contexts are incognito-like; that is the browser, not the app.
    assert [e for e in errors if e != "in-incognito"] == [], errors

    # Signed in, /login goes straight on to where you were going.
    await page.goto(f"{phone.url}/login?next=/app/%3Ftab%3Drecent")
    assert page.url == f"{phone.url}/app/?tab=recent"

    # The shell is cached by the worker: it opens with no network at all.
    cached = await page.evaluate("""async () => {
        const names = await caches.keys();
        const shell = names.find(n => n.startsWith('glassboard-shell-'));
        return shell ? (await (await caches.open(shell)).keys()).map(r => new URL(r.url).pathname) : [];
    }""")
    assert {"/app/shell.html", "/static/app/app.js", "/static/app/app.css",
            "/static/app/queue.js"} <= set(cached)

    # Signing out ends the session and forgets the offline copies of my lists.
    await page.wait_for_selector("body[data-ready=true]")
    await page.get_by_role("button", name=f"Sign out {REP}").tap()
    await page.wait_for_url(f"{phone.url}/login")
    assert await page.evaluate("caches.has('glassboard-data-v1')") is False
    await page.goto(f"{phone.url}/app/")
    assert page.url == f"{phone.url}/login?next=%2Fapp%2F"


async def test_keyboard_filters_recent_and_the_asset_page(phone: Phone) -> None:
    await phone.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                          origin=phone.url)
    page = await phone.context.new_page()
    await sign_in(phone, page)

    # Keyboard only: Tab to "Rate 4 out of 5" on the product sheet, press Enter.
    await page.locator("#q").focus()
    target = "Rate 4 out of 5"
    for _ in range(40):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("""() => ({
            label: document.activeElement.getAttribute('aria-label'),
            asset: document.activeElement.closest('li.asset')?.dataset.id,
            outline: getComputedStyle(document.activeElement).outlineStyle,
            width: parseFloat(getComputedStyle(document.activeElement).outlineWidth),
        })""")
        if focused["label"] == target and focused["asset"] == A:
            break
    else:
        raise AssertionError("Tab never reached the product sheet's 4-star button")
    assert focused["outline"] != "none" and focused["width"] >= 2, focused  # visible focus
    await page.keyboard.press("Enter")
    a = row(page, A)
    await expect(a.locator(".rate-status")).to_have_text("Saved · 4 of 5")

    # The optional second step, by keyboard too: "Why?" comes right after the fifth star.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Rate 5 out of 5")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Why?"
    await page.keyboard.press("Enter")
    await expect(a.get_by_role("textbox", name="Why 4 stars?")).to_be_focused()
    await page.keyboard.type("Answers the pricing question in one page.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")  # "Save why"
    await expect(a.locator(".rate-status")).to_have_text("Saved · with your why")
    rating = await eventually(lambda: phone.rating(A), lambda r: r["comment"] is not None)
    assert rating == {"asset_id": A, "stars": 4,
                      "comment": "Answers the pricing question in one page."}

    # Tabs by keyboard: arrow keys move between "All assets" and "Recently viewed by me".
    await page.get_by_role("tab", name="All assets").focus()
    await page.keyboard.press("ArrowRight")
    recent = page.get_by_role("tab", name="Recently viewed by me")
    await expect(recent).to_be_focused()
    await expect(recent).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#empty")).to_contain_text("Nothing here yet")

    # The asset page: facts, my rating, the embed code and a working copy button.
    await page.goto(f"{phone.url}/assets/{A}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Acme Flow 3 product sheet")
    facts = page.locator(".facts")
    for text in ("Decision", OWNER, A, "#valves", "#pricing"):
        await expect(facts).to_contain_text(text)
    await expect(page.locator(".kicker")).to_have_text("Product sheet")
    await expect(page.get_by_role("button", name="Rate 4 out of 5")).to_have_attribute(
        "aria-pressed", "true")
    await expect(page.locator(".my-comment")).to_have_text(
        "Answers the pricing question in one page.")
    ingest = phone.stack.settings.ingest_base_url
    expected = {
        "code-script": f'<script async src="{ingest}/t.js" data-asset="{A}"></script>',
        "code-pixel": f'<img src="{ingest}/px.gif?asset={A}" width="1" height="1" alt="">',
        "code-download": f"{ingest}/d/{A}",
    }
    for element_id, code in expected.items():
        await expect(page.locator(f"#{element_id}")).to_have_text(code)
    await phone.shot(page, "asset-page.png", full_page=True)
    await page.get_by_role("button", name="Copy the page script").tap()
    await expect(page.get_by_role("button", name="Copy the page script")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == expected["code-script"]
    assert (await page.request.get(f"{phone.url}/assets/nope")).status == 404

    # Opening it counted as "viewed by me".
    await page.goto(f"{phone.url}/app/?tab=recent")
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("li.asset")).to_have_count(1)
    await expect(row(page, A).locator(".meta-seen")).to_contain_text("Viewed")

    # Search, type and stage filters.
    await page.get_by_role("tab", name="All assets").tap()
    await expect(page.locator("li.asset")).to_have_count(3)
    await page.get_by_label("Search assets").fill("northwind")
    await expect(page.locator("li.asset")).to_have_count(1)
    await expect(row(page, B)).to_be_visible()
    await page.get_by_label("Search assets").fill("webinar")  # a tag
    await expect(page.locator("li.asset")).to_have_count(1)
    await expect(row(page, C)).to_be_visible()
    await page.get_by_label("Search assets").fill("")
    await page.get_by_label("Type").select_option("case_study")
    await expect(page.locator("li.asset")).to_have_count(1)
    await expect(row(page, B)).to_be_visible()
    await page.get_by_label("Type").select_option("")
    await page.get_by_label("Stage").select_option("awareness")
    await expect(page.locator("li.asset")).to_have_count(1)
    await expect(row(page, C)).to_be_visible()
    await page.get_by_label("Stage").select_option("")
    await expect(page.locator("li.asset")).to_have_count(3)

    # The smallest phone we support: nothing overflows, every control is 44 px or more.
    await page.set_viewport_size({"width": 360, "height": 740})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    sizes = await page.evaluate("""() => [...document.querySelectorAll(
        '.star, .why-button:not([hidden]), [role=tab], #q, select, #signout, .asset-link'
      )].map(el => {
        const box = (el.matches('.asset-link') ? el.closest('.asset-main') : el)
          .getBoundingClientRect();
        return [el.getAttribute('aria-label') || el.id || el.textContent.trim(),
                Math.round(box.width), Math.round(box.height)];
      })""")
    small = [s for s in sizes if s[1] < 44 or s[2] < 44]
    assert len(sizes) >= 3 * 5 + 6 and small == [], small
