"""Full-page screenshots of every page Glassboard serves, to compare before and after a change.

Run it, with the project's venv, against a fresh `glassboard dev --demo` (a new ./.glassboard
data dir, so two runs see the same data); people sign in by the magic links that the dev
console prints, so it needs that console's log:

    glassboard dev --demo > dev.log 2>&1 &
    python scripts/screenshot_pages.py dev.log http://127.0.0.1:8001 http://127.0.0.1:8000 shots/

Files are named <page>-<viewport>.png (desktop: 1280 wide, phone: 390x844). Nothing is hidden
or frozen: each shot waits for the network to go quiet, for the page's own "loaded" markers
and for every finite animation (CSS and Chart.js) to end. Midway, the sales rep rates the
asset 2 stars with a note through a one-tap link (its confirm page is shot with scripts off,
as otherwise it submits itself), which sends its owner the alert the inbox shots show.
Last, the share-link pages (``--only-share``: only those): My links, an asset's "How sales
uses this content", and the phone's share sheet, which makes one more link.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.async_api import Browser, Page, async_playwright

from shared.settings import DEV_SECRET
from shared.signing import sign_rating_link

EXECUTIVE = "erin.exec@northwind.example.com"
SALES = "ana.lopez@northwind.example.com"
ADMIN = "admin@northwind.example.com"
OWNER = "maya.chen@northwind.example.com"  # marketing, owns ASSET
ASSET = "pricing-sheet-2026"
SHARED_ASSET = "contoso-logistics-case-study"  # demo reps sent it, prospects opened it
NOTE = "Too generic for enterprise deals; no volume pricing."
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# Fonts loaded, no finite animation or transition running, no chart still drawing.
SETTLED = """() => document.fonts.status === "loaded"
  && document.getAnimations().every(a => a.playState !== "running"
       || a.effect.getComputedTiming().iterations === Infinity)
  && (!window.Chart || Object.values(Chart.instances).every(c => !Chart.animator.running(c)))"""
BOARD = '#rows[aria-busy="false"]'
LIVE = '#live[data-state="live"]'


@dataclass
class Run:
    log: Path
    ratings: str
    ingest: str
    out: Path
    browser: Browser
    used_link: str = ""

    async def page(self, viewport: str, email: str = "", js: bool = True,
                   sent_shot: str = "") -> Page:
        """A page in a fresh browser context, signed in as ``email`` through /login (and
        its "check your email" step saved as ``sent_shot``)."""
        context = await self.browser.new_context(**VIEWPORTS[viewport], java_script_enabled=js)
        page = await context.new_page()
        if email:
            await page.goto(f"{self.ratings}/login")
            offset = self.log.stat().st_size
            await page.fill("#email", email)
            await page.click("#send")
            await page.wait_for_selector("#sent:not([hidden])")
            if sent_shot:
                await self.shot(page, sent_shot)
            self.used_link = await self.magic_link(email, offset)
            # The link opens a page that signs in only when its button is pressed.
            await page.goto(self.used_link)
            if sent_shot:
                await self.shot(page, sent_shot.replace("login-sent", "magic-link"), None,
                                "#sign-in")
            async with page.expect_navigation():
                await page.click("#sign-in")
            await page.wait_for_load_state("networkidle")
        return page

    async def magic_link(self, email: str, offset: int) -> str:
        """The sign-in link mailed to ``email`` after ``offset`` in the console log."""
        mail = re.compile(rf"=== mail to {re.escape(email)}:.*?(https?://\S+/auth/magic\?\S+)",
                          re.DOTALL)
        for _ in range(200):
            with self.log.open("rb") as log:
                log.seek(offset)
                links = mail.findall(log.read().decode(errors="replace"))
            if links:
                return str(links[-1])
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no sign-in link for {email} in {self.log}")

    async def shot(self, page: Page, name: str, url: str | None = None,
                   *selectors: str, element: str = "", full_page: bool = True) -> None:
        """Open ``url`` (if given), wait until the page is complete, save <name>.png: the
        full page, only what the viewport shows, or only ``element``."""
        if url:
            await page.goto(url)
        await page.wait_for_load_state("networkidle")
        for selector in selectors:
            await page.wait_for_selector(selector, state="attached")
        await page.wait_for_function(SETTLED)
        if element:
            await page.locator(element).screenshot(path=self.out / f"{name}.png")
        else:
            await page.screenshot(path=self.out / f"{name}.png", full_page=full_page)
        print(f"{name}.png  {page.url}")


async def get_json(page: Page, url: str) -> Any:
    response = await page.request.get(url)
    assert response.ok, f"{url}: {response.status} {await response.text()}"
    return await response.json()


async def poll(what: str, check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(120):
        if await check():
            return
        await asyncio.sleep(0.5)
    print(f"warning: no {what} after 60 s; the shots go on")


async def ratings_pages(run: Run) -> Page:
    """The pages before anything is rated; returns the sales rep's phone."""
    base, asset = run.ratings, ASSET
    for viewport in VIEWPORTS:
        signed_out = await run.page(viewport)
        await run.shot(signed_out, f"login-{viewport}", f"{base}/login", "#login-form")

    exec_desk = await run.page("desktop", EXECUTIVE)
    await run.shot(exec_desk, "board-desktop", f"{base}/", BOARD, LIVE)
    await run.shot(exec_desk, "stale-desktop", f"{base}/stale", BOARD, LIVE)
    await run.shot(exec_desk, "help-scoring-desktop", f"{base}/help/scoring", "h1")
    await run.shot(exec_desk, "asset-desktop", f"{base}/assets/{asset}",
                   '#analytics[data-ready="true"]', LIVE)
    await run.shot(exec_desk, "asset-not-found-desktop", f"{base}/assets/no-such-asset", "h1")

    phone = await run.page("phone", SALES, sent_shot="login-sent-phone")  # lands on /app/
    await run.shot(phone, "app-phone", None, '#list[aria-busy="false"]', "li.asset")
    await phone.locator(f'li.asset[data-id="{asset}"] .asset-link').tap()
    await phone.wait_for_url(f"**/assets/{asset}")
    await run.shot(phone, "asset-phone", None, '#analytics[data-ready="true"]', LIVE, ".rater")
    await phone.go_back()
    await phone.wait_for_selector('#list[aria-busy="false"]')
    await phone.tap("#tab-recent")
    await run.shot(phone, "app-recent-phone", None, '#tab-recent[aria-selected="true"]',
                   '#list[aria-busy="false"]', f'li.asset[data-id="{asset}"]')
    await run.shot(phone, "board-phone", f"{base}/", BOARD, LIVE)
    await run.shot(await run.page("phone"), "magic-link-used-phone", run.used_link, "body p")
    return phone


async def rating_link_pages(run: Run, sales: Page) -> None:
    """ingest's /r/ pages: confirm, thanks, note saved, note too long, and the refusals.

    The rep rates the asset 2 stars with a note, so its owner gets an alert to show."""
    api = f"{run.ratings}/v1/assets/{ASSET}"
    body = await get_json(sales, f"{api}/rating-links")
    link = next(item["url"] for item in body["links"] if item["stars"] == 2)
    user = body["user_id"]
    secret = os.environ.get("GLASSBOARD_SIGNING_SECRET", DEV_SECRET)

    def signed(asset: str, stars: str, expires_at: int, sig: str = "") -> str:
        query = {"u": user, "exp": expires_at,
                 "sig": sig or sign_rating_link(secret, asset, user, expires_at)}
        return f"{run.ingest}/r/{asset}/{stars}?{urlencode(query)}"

    # Without scripts the confirm page stays put; with them it records at once.
    await run.shot(await run.page("phone", js=False), "rating-confirm-phone", link, "#rate")
    phone = await run.page("phone")
    await phone.goto(link)
    await phone.wait_for_url("**done=rated")
    await run.shot(phone, "rating-thanks-phone", None, "#why")
    await phone.fill("#why", NOTE)
    await phone.click("button[type=submit]")
    await phone.wait_for_url("**done=note")
    await run.shot(phone, "rating-noted-phone", None, "#why")
    # A script sets the value, as a paste into an old browser would: maxlength stops typing.
    await phone.eval_on_selector("#why", "el => { el.value = 'x'.repeat(2001); }")
    await phone.click("button[type=submit]")
    await run.shot(phone, "rating-note-too-long-phone", None, "#why-error")

    now = int(time.time())
    refusals = {
        "rating-expired": signed(ASSET, "2", now - 3600),
        "rating-forged": signed(ASSET, "2", now + 3600, sig="A" * 43),
        "rating-incomplete": f"{run.ingest}/r/{ASSET}/2?u={user}",
        "rating-bad-stars": signed(ASSET, "7", now + 3600),
        "rating-unknown-asset": signed("no-such-asset", "2", now + 3600),
    }
    for name, url in refusals.items():
        await run.shot(phone, f"{name}-phone", url, "[role=alert]")

    async def scored() -> bool:  # the note reached ratings, and the aggregator counted it
        mine = await get_json(sales, f"{api}/rating")
        counted = (await get_json(sales, f"{api}/score"))["windows"]["all"]["histogram"]
        board = (await get_json(sales, f"{run.ratings}/v1/scores?q={ASSET}"))["items"]
        return mine["comment"] == NOTE and board[0]["ratings"]["histogram"] == counted

    await poll("score update for the new rating", scored)


async def owner_pages(run: Run) -> None:
    """The asset as its owner sees it, and the alert inbox (owner's, then admin's Everyone)."""
    owner = await run.page("desktop", OWNER)
    await run.shot(owner, "asset-owner-desktop", f"{run.ratings}/assets/{ASSET}",
                   '#analytics[data-ready="true"]', LIVE, ".owner-note")

    async def alerted() -> bool:  # the notifier alerts the owner, then emails: once it is sent
        alerts = (await get_json(owner, f"{run.ratings}/v1/alerts"))["alerts"]
        return bool(alerts) and all(d["state"] != "pending" for a in alerts
                                    for d in a["deliveries"])

    await poll("alert for the owner", alerted)
    ready = ('#alert-list[aria-busy="false"]', "#rules li", 'input[name="mode"]:checked')
    await run.shot(owner, "alerts-desktop", f"{run.ratings}/alerts", *ready)
    admin = await run.page("desktop", ADMIN)
    await admin.goto(f"{run.ratings}/alerts")
    await admin.wait_for_selector('#alert-list[aria-busy="false"]')
    await admin.click("#tab-everyone")
    await run.shot(admin, "alerts-everyone-desktop", None, '#tab-everyone[aria-selected="true"]',
                   *ready)


async def share_pages(run: Run) -> None:
    """Share links (docs/share-links.md): the rep's My links on both viewports, an asset's
    "How sales uses this content", and the phone's share sheet with a link just made. The
    demo's reps sent links and some were opened, so none of them is empty."""
    feed = ('#feed[aria-busy="false"]', '#links[aria-busy="false"]',
            '#accounts[aria-busy="false"]', LIVE, "#feed li.visit")
    desk = await run.page("desktop", SALES)
    await run.shot(desk, "links-desktop", f"{run.ratings}/links", *feed)
    await run.shot(desk, "alerts-rep-desktop", f"{run.ratings}/alerts",
                   '#alert-list[aria-busy="false"]', "#alert-list li")
    await run.shot(desk, "asset-share-usage-desktop", f"{run.ratings}/assets/{SHARED_ASSET}",
                   '#analytics[data-ready="true"]', '#share-usage[data-ready="true"]')
    phone = await run.page("phone", SALES)
    await run.shot(phone, "links-phone", f"{run.ratings}/links", *feed)
    await phone.goto(f"{run.ratings}/assets/{SHARED_ASSET}")
    await phone.wait_for_selector('#share-usage[data-ready="true"]')
    await phone.tap("#share-open")
    await phone.fill("#share-email", "kim.lee@contoso.example")
    await phone.fill("#share-name", "Kim Lee")
    await phone.fill("#share-company", "Contoso")
    await phone.evaluate("window.scrollTo(0, 0)")
    await run.shot(phone, "share-form-phone", None, "#share-email", full_page=False)
    await phone.tap("#share-create")
    await phone.wait_for_selector("#share-result:not([hidden])")
    await phone.wait_for_function("() => !document.getElementById('toast').classList.contains('show')")
    await run.shot(phone, "share-link-phone", None, "#share-url", element="#share")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="console log of `glassboard dev --demo`")
    parser.add_argument("ratings", help="ratings base URL, e.g. http://127.0.0.1:8001")
    parser.add_argument("ingest", help="ingest base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("out", type=Path, help="directory for the PNG files")
    parser.add_argument("--only-share", action="store_true",
                        help="only the share-link pages (share_pages)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        run = Run(args.log, args.ratings.rstrip("/"), args.ingest.rstrip("/"), args.out,
                  browser)
        if not args.only_share:
            await rating_link_pages(run, await ratings_pages(run))
            await owner_pages(run)
        await share_pages(run)
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
