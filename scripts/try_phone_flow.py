"""Try the rating app the way a new sales rep would, against a running `glassboard dev --demo`.

Signs in by magic link (read from the dev console log), rates three assets from the list
at a phone viewport, and reports the time it took; then rates once more and measures how
long the score API takes to show it.

    glassboard dev --demo > dev.log 2>&1 &
    python scripts/try_phone_flow.py dev.log
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

RATINGS = "http://127.0.0.1:8001"
REP = "grace.oduya@northwind.example.com"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


async def magic_link(log: Path, after: int) -> str:
    for _ in range(100):
        links = re.findall(r"(http://\S+/auth/magic\?\S+)", log.read_text()[after:])
        if links:
            return links[-1]
        await asyncio.sleep(0.05)
    raise TimeoutError("no sign-in link in the console log")


async def main(log: Path) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = await browser.new_context(viewport={"width": 390, "height": 844},
                                            is_mobile=True, has_touch=True)
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(f"{RATINGS}/app/")
        offset = len(log.read_text())
        await page.fill("#email", REP)
        await page.click("#send")
        await page.goto(await magic_link(log, offset))
        await page.click("#sign-in")  # the link's page signs in with its button (a POST)
        await page.wait_for_selector("li.asset")
        signed_in = time.perf_counter() - started
        rows = page.locator("li.asset")
        for i, stars in enumerate((5, 3, 4)):
            row = rows.nth(i)
            await row.get_by_role("button", name=f"Rate {stars} out of 5").tap()
            await row.locator(".rate-status", has_text="Saved").wait_for()
        took = time.perf_counter() - started
        await page.screenshot(path="/tmp/tryout-phone.png")
        print(f"sign-in {signed_in:.1f} s; sign-in and three ratings {took:.1f} s")

        # Score latency: a fourth rating, then poll the score API.
        asset_id = await rows.nth(3).get_attribute("data-id")
        cookies = {c["name"]: c["value"] for c in await context.cookies()}
        async with httpx.AsyncClient(base_url=RATINGS, cookies=cookies) as api:
            before = (await api.get(f"/v1/assets/{asset_id}/score")).json()["windows"]["all"]
            tapped = time.perf_counter()
            await rows.nth(3).get_by_role("button", name="Rate 1 out of 5").tap()
            while True:
                now = (await api.get(f"/v1/assets/{asset_id}/score")).json()["windows"]["all"]
                if now["histogram"] != before["histogram"]:
                    break
                await asyncio.sleep(0.02)
            print(f"{asset_id}: score moved {time.perf_counter() - tapped:.2f} s after the tap "
                  f"({before['count']} → {now['count']} ratings, histogram {now['histogram']})")
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
