"""The hosted viewer in a real browser: a 5-page PDF uploaded through the ratings API, opened
in Debian's headless Chromium at /v/{asset}, read ~3 s on page 1 and ~6 s on page 3, then
left. Its dwell slices go through POST /v1/events and the aggregator; the per-page time in
the database and on GET /v1/assets/ID/pages comes out within ±10%, in reading order, and
the furthest page reached is 3. A share link opens the viewer, whose slices then credit
the open (gb_visit) and which sends no view of its own. Also the viewer on a 390 px phone,
as a screenshot (viewer-phone.png).

Skipped only when /usr/bin/chromium is missing and ``CI`` is unset. Screenshots go to the
test's tmp dir; ``GLASSBOARD_SAVE_SCREENSHOTS=1`` also puts them in docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    record_beacons,
    save_screenshot,
    sign_in_page,
    skip_module_without_chromium,
)

skip_module_without_chromium()

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402
from playwright.async_api import Error as PlaywrightError  # noqa: E402

from harness.db import fetch  # noqa: E402
from harness.stack import RunningServer, Stack, eventually  # noqa: E402
from harness.user_agents import UA_IPHONE  # noqa: E402
from harness.viewer_files import numbered_pdf  # noqa: E402
from shared.share_links import new_link_id  # noqa: E402

pytestmark = pytest.mark.browser

ASSET = "valve-deck"


@dataclass
class Setup:
    stack: Stack
    ingest_url: str
    ratings: RunningServer
    browser: Browser
    tmp_path: Path


@pytest.fixture
async def setup(stack: Stack, tmp_path: Path) -> AsyncIterator[Setup]:
    stack.settings = stack.settings.model_copy(update={"files_dir": str(tmp_path / "files")})
    await stack.add_asset(ASSET, title="Valve range: product deck", type="product_sheet")
    ingest = await stack.ingest()
    ratings = await stack.ratings()
    await stack.aggregator()
    async with await stack.client() as admin:
        uploaded = await admin.post(
            f"/v1/assets/{ASSET}/files", params={"filename": "valve-deck.pdf"},
            content=numbered_pdf(5), headers={"content-type": "application/pdf"})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["pages"] == 5
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=list(CHROMIUM_ARGS))
        try:
            yield Setup(stack, ingest.url, ratings, browser, tmp_path)
        finally:
            await browser.close()


def _save(shot: bytes, setup: Setup, name: str) -> None:
    save_screenshot(shot, setup.tmp_path, name)


#: Scroll to page 3 or leave, ``ms`` after the previous move (or after now, the first).
_AFTER = """([ms, move]) => new Promise(done => {
  const from = window.__gbLast ?? performance.now();
  setTimeout(() => {
    window.__gbLast = performance.now();
    done();
    if (move === "leave") location.href = "about:blank";
    else document.querySelector('[data-page="3"]').scrollIntoView({block: "start"});
  }, from + ms - performance.now());
})"""


async def _drawn(page: Page, pages: int) -> None:
    """Wait until every page has its place and page 1 is drawn (its time starts then)."""
    await page.locator(f'section.page[data-page="{pages}"]').wait_for(state="attached")
    await page.locator('section.page[data-page="1"][data-drawn]').wait_for()


async def test_time_on_each_page_comes_out_per_page_through_the_pipeline(setup: Setup) -> None:
    context = await setup.browser.new_context(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    context.on("console", lambda m: errors.append(f"{m.text} {m.location['url']}")
               if m.type == "error" else None)
    sent = record_beacons(context, setup.ingest_url)
    page = await context.new_page()
    await page.goto(f"{setup.ingest_url}/v/{ASSET}")
    await _drawn(page, 5)
    # The reader's moves are timed on the page's own clock: on a loaded machine a round trip
    # from the test to the browser for each of them would add to the page being left.
    await page.evaluate(_AFTER, [3000, "page 3"])
    with contextlib.suppress(PlaywrightError):  # leaving may end the call before it answers
        await page.evaluate(_AFTER, [6000, "leave"])
    await page.wait_for_url("about:blank")  # pagehide: the open slice goes out
    await context.close()
    assert errors == []
    assert [e["type"] for e in sent][:1] == ["view"]

    dwell_sql = ("SELECT page, engaged_ms, view_id FROM events WHERE asset_id = $1 "
                 "AND type = 'dwell' ORDER BY received_at")
    rows = await eventually(lambda: fetch(setup.stack.settings, dwell_sql, ASSET),
                            lambda rs: 3 in {r["page"] for r in rs}, timeout=15)
    [view_id] = [r["view_id"] for r in await fetch(
        setup.stack.settings, "SELECT event_id AS view_id FROM events WHERE asset_id = $1 "
        "AND type = 'view'", ASSET)]
    assert {r["view_id"] for r in rows} == {view_id}
    order = [r["page"] for r in rows]
    assert [p for i, p in enumerate(order) if i == 0 or order[i - 1] != p] == [1, 3]
    assert max(order) == 3  # the furthest page reached
    per_page: dict[int, int] = {}
    for row in rows:
        per_page[row["page"]] = per_page.get(row["page"], 0) + row["engaged_ms"]
    assert 2700 <= per_page[1] <= 3300, per_page
    assert 5400 <= per_page[3] <= 6600, per_page

    async with await setup.stack.client() as ratings:
        shown = await eventually(
            lambda: _pages(ratings), lambda p: p.get(3, 0) >= per_page[3], timeout=10)
        assert shown == per_page
        reading = (await ratings.get(f"/v1/assets/{ASSET}/reading")).json()
    # One reader, whose drop-off ends at page 3: pages 1-3 reached, 4 and 5 not.
    assert (reading["readers"], reading["pages"]) == (1, 5)
    assert [p["reached"] for p in reading["per_page"]] == [1, 1, 1, 0, 0]
    assert reading["per_page"][0]["median_ms"] == per_page[1]
    assert reading["per_page"][2]["median_ms"] == per_page[3]
    assert reading["most_reread"] == []

    # The asset page shows the same: its drop-off curve and time on each page.
    await setup.stack.user("rep@example.com", "sales", "Riley Rep")
    context = await setup.browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in_page(page, setup.ratings, "rep@example.com", f"/assets/{ASSET}")
    await page.locator("#reading[data-ready=true]").wait_for(state="attached")
    await expect(page.locator("#reading-summary")).to_contain_text("1 reader")
    drawn = await page.evaluate("""() => Object.fromEntries(['reach', 'page-time'].map(n => {
        const chart = Chart.getChart(document.getElementById('chart-' + n));
        return [n, chart.data.datasets[0].data];
    }))""")
    assert drawn["reach"] == [100, 100, 100, 0, 0]
    seconds = drawn["page-time"]
    assert abs(seconds[0] - 3) <= 0.3 and abs(seconds[2] - 6) <= 0.6, seconds
    _save(await page.locator("#reading-card").screenshot(), setup, "viewer-asset-reading.png")
    await context.close()


async def _pages(ratings: httpx.AsyncClient) -> dict[int, int]:
    response = await ratings.get(f"/v1/assets/{ASSET}/pages")
    assert response.status_code == 200, response.text
    return {p["page"]: p["engaged_ms"] for p in response.json()["pages"]
            if p["page"] is not None and p["engaged_ms"]}


async def test_the_viewer_on_a_phone(setup: Setup) -> None:
    context = await setup.browser.new_context(viewport={"width": 390, "height": 844},
                                              device_scale_factor=2, is_mobile=True,
                                              has_touch=True, user_agent=UA_IPHONE)
    page = await context.new_page()
    await page.goto(f"{setup.ingest_url}/v/{ASSET}")
    await _drawn(page, 5)
    # The page fills the width, and the download button sits beside the title.
    width = await page.locator('section.page[data-page="1"]').evaluate("s => s.clientWidth")
    assert 370 <= width <= 390
    download = page.get_by_role("link", name="Download")
    box = await download.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390 and box["height"] >= 44
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    _save(await page.screenshot(), setup, "viewer-phone.png")
    await context.close()


async def test_a_share_link_opens_the_viewer_and_its_pages_credit_the_open(
    setup: Setup,
) -> None:
    creator, _ = await setup.stack.user("rep@example.com", "sales", "Riley Rep")
    link = new_link_id()
    await fetch(setup.stack.settings,
                "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, created_at) "
                "VALUES ($1, $2, $3, 'pat@prospect.example', now() - interval '1 minute')",
                link, ASSET, creator)
    context = await setup.browser.new_context(viewport={"width": 1280, "height": 720})
    sent: list[dict[str, object]] = []
    context.on("request", lambda r: sent.extend(json.loads(r.post_data or "{}")["events"])
               if r.url == f"{setup.ingest_url}/v1/events" and r.method == "POST" else None)
    page = await context.new_page()
    await page.goto(f"{setup.ingest_url}/s/{link}")
    await _drawn(page, 5)
    # The viewer took gb_visit out of the address bar, and sends no view of its own.
    assert page.url == f"{setup.ingest_url}/v/{ASSET}"
    with contextlib.suppress(PlaywrightError):
        await page.evaluate(_AFTER, [2000, "leave"])
    await page.wait_for_url("about:blank")
    await context.close()
    [visit] = [r["event_id"] for r in await fetch(
        setup.stack.settings, "SELECT event_id FROM events WHERE type = 'view'")]
    rows = await eventually(
        lambda: fetch(setup.stack.settings,
                      "SELECT page, engaged_ms, view_id FROM events WHERE type = 'dwell'"),
        lambda rs: sum(r["engaged_ms"] for r in rs) >= 1800, timeout=15)
    assert {(r["page"], r["view_id"]) for r in rows} == {(1, visit)}
    assert "view" not in {e["type"] for e in sent}
