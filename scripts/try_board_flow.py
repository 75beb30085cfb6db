"""Try the live scoreboard the way a new team would, against a running `glassboard dev --demo`.

An executive opens the scoreboard on a desktop browser; a sales rep, on a phone, rates an
asset in the rating app. Reports how long after the tap the executive's leaderboard row
changed (no reload), and saves screenshots of the board and of an asset page with its
charts, rendered from the demo data.

    glassboard dev --demo > dev.log 2>&1 &
    python scripts/try_board_flow.py dev.log [http://127.0.0.1:8001] [screenshot-dir]
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

from playwright.async_api import BrowserContext, Page, async_playwright

EXECUTIVE = "erin.exec@northwind.example.com"
REP = "ben.carter@northwind.example.com"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


async def sign_in(context: BrowserContext, base: str, log: Path, email: str, next_path: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}/login?next={next_path}")
    offset = len(log.read_text())
    await page.fill("#email", email)
    await page.click("#send")
    for _ in range(200):
        links = re.findall(r"(http://\S+/auth/magic\?\S+)", log.read_text()[offset:])
        if links:
            await page.goto(links[-1])
            return page
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no sign-in link for {email} in {log}")


async def main(log: Path, base: str, shots: Path) -> None:
    shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desk = await browser.new_context(viewport={"width": 1440, "height": 1000})
        phone = await browser.new_context(viewport={"width": 390, "height": 844},
                                          is_mobile=True, has_touch=True)
        board = await sign_in(desk, base, log, EXECUTIVE, "/")
        await board.wait_for_selector("tbody tr[data-id]")
        await board.evaluate("window.__noReload = true")
        app = await sign_in(phone, base, log, REP, "/app/")
        await app.wait_for_selector("li.asset")

        row = app.locator("li.asset").first
        asset_id = await row.get_attribute("data-id")
        board_row = board.locator(f'tbody tr[data-id="{asset_id}"]')
        before = await board_row.get_attribute("data-revision")
        rating_before = await board_row.locator("td").nth(2).inner_text()  # rank, score, rating
        one = row.get_by_role("button", name="Rate 1 out of 5")
        stars = 2 if await one.get_attribute("aria-pressed") == "true" else 1
        tapped = time.perf_counter()
        await row.get_by_role("button", name=f"Rate {stars} out of 5").tap()
        await board.wait_for_function(
            "([id, rev]) => document.querySelector(`tbody tr[data-id='${id}']`)"
            "?.dataset.revision !== rev", arg=[asset_id, before], timeout=10_000)
        moved = time.perf_counter() - tapped
        rating_after = await board_row.locator("td").nth(2).inner_text()
        assert await board.evaluate("window.__noReload === true"), "the board reloaded"
        print(f"{asset_id}: rated {stars} on the phone; the board row changed "
              f"{moved:.2f} s after the tap without a reload ({rating_before!r} -> {rating_after!r})")
        await board.wait_for_timeout(1500)  # let the highlight fade
        await board.screenshot(path=str(shots / "demo-scoreboard.png"))

        page = await desk.new_page()
        await page.goto(f"{base}/assets/{asset_id}")
        await page.wait_for_function(
            "() => window.Chart && Object.keys(Chart.instances).length >= 3", timeout=15_000)
        await page.wait_for_timeout(800)
        charts = await page.evaluate(
            "() => Object.values(Chart.instances).map(c => c.config.type + ':' + "
            "c.data.datasets.reduce((n, d) => n + d.data.length, 0))")
        print(f"asset page {asset_id}: charts {charts}")
        await page.screenshot(path=str(shots / "demo-asset.png"), full_page=True)
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]),
                     sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8001",
                     Path(sys.argv[3]) if len(sys.argv) > 3 else Path("docs/screenshots")))
