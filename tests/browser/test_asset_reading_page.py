"""The asset page's "Page by page" and "Video" cards in a real browser, signed in as the
sales rep who sent the deck: figures drawn from GET /v1/assets/ID/reading (all versions and
one), /reading/recipients and /video over rows seeded straight into the tables the
pipeline fills (events' dwell slices with page and view_id, link_visits, video_plays).

The deck has two uploaded versions, v1 (4 pages, 20 days ago) and v2 (5 pages, 10 days ago),
and four readings: three of v2, one of v1; two of them are opens of the rep's share link
(the recipient's and a forward's). The video asset has four plays of a 200 s video.
Desktop and 390 px phone screenshots (asset-reading.png, asset-reading-phone.png; also
asset-video.png), like test_viewer's: the test's tmp dir, and docs/screenshots/ with
``GLASSBOARD_SAVE_SCREENSHOTS=1``. Skipped only when /usr/bin/chromium is missing and ``CI``
is unset.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from harness.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    save_screenshot,
    sign_in_page,
    skip_module_without_chromium,
)

skip_module_without_chromium()

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402

from harness.db import fetch  # noqa: E402
from harness.stack import RunningServer, Stack  # noqa: E402
from harness.viewer_files import numbered_pdf  # noqa: E402
from shared.share_links import new_link_id  # noqa: E402

pytestmark = pytest.mark.browser

DECK = "roi-deck"
VIDEO = "launch-video"
REP = "rep@example.com"

#: (days ago, version read, share-link open: None / "recipient" / "forward", slices as
#: (page, engaged seconds) in reading order).
READINGS: list[tuple[int, int, str | None, list[tuple[int, int]]]] = [
    (5, 2, "recipient", [(1, 10), (2, 20), (3, 30), (4, 10), (5, 8), (3, 12)]),
    (4, 2, "forward", [(1, 12), (2, 18), (3, 40), (2, 6), (3, 20)]),
    (3, 2, None, [(1, 8)]),
    (15, 1, None, [(1, 20), (2, 30), (3, 10), (4, 5)]),
]
#: (watched ms, buckets covered from the start) of a 200 s video's plays.
PLAYS = [(200_000, 100), (100_000, 50), (50_000, 25), (10_000, 5)]

DWELL_SQL = """
INSERT INTO events (event_id, type, asset_id, occurred_at, received_at, device_class,
                    source, page, view_id, engaged_ms)
VALUES ($1, 'dwell', $2, $3, $3, 'desktop', 'beacon', $4, $5, $6)
"""
VISIT_SQL = """
INSERT INTO link_visits (event_id, link_id, asset_id, opened_at, browser_key, device_class,
                         forwarded, forward_no)
VALUES ($1, $2, $3, $4, $5, 'desktop', $6, $7)
"""
PLAY_SQL = """
INSERT INTO video_plays (play_id, asset_id, day, device_class, started_at, duration_ms,
                         watched_ms, watched)
VALUES ($1, $2, $3::timestamptz::date, 'desktop', $3, 200000, $4, $5::text::bit(100))
"""


@dataclass
class Setup:
    stack: Stack
    ratings: RunningServer
    browser: Browser
    tmp_path: Path


async def _seed(stack: Stack, now: datetime) -> None:
    settings = stack.settings
    creator, _ = await stack.user(REP, "sales", "Riley Rep")
    link = new_link_id()
    await fetch(settings, "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, "
                "recipient_name, company, created_at) VALUES ($1, $2, $3, "
                "'dana@contoso.example', 'Dana Whitfield', 'Contoso Logistics', $4)",
                link, DECK, creator, now - timedelta(days=6))
    for days_ago, _, via, slices in READINGS:
        view_id = uuid.uuid4()
        start = now - timedelta(days=days_ago)
        for i, (page, seconds) in enumerate(slices):
            await fetch(settings, DWELL_SQL, uuid.uuid4(), DECK, start + timedelta(seconds=30 * i),
                        page, view_id, seconds * 1000)
        if via:
            await fetch(settings, VISIT_SQL, view_id, link, DECK, start, f"browser-{via}",
                        via == "forward", 1 if via == "forward" else None)
    for i, (watched_ms, buckets) in enumerate(PLAYS):
        await fetch(settings, PLAY_SQL, uuid.uuid4(), VIDEO, now - timedelta(days=i + 1),
                    watched_ms, "1" * buckets + "0" * (100 - buckets))


@pytest.fixture
async def setup(stack: Stack, tmp_path: Path) -> AsyncIterator[Setup]:
    stack.settings = stack.settings.model_copy(update={"files_dir": str(tmp_path / "files")})
    await stack.add_asset(DECK, title="Leak detection ROI deck", type="deck")
    await stack.add_asset(VIDEO, title="Leak detection in five minutes", type="video")
    ratings = await stack.ratings()
    async with await stack.client() as admin:
        for pages in (4, 5):
            uploaded = await admin.post(
                f"/v1/assets/{DECK}/files", params={"filename": "roi-deck.pdf"},
                content=numbered_pdf(pages), headers={"content-type": "application/pdf"})
            assert uploaded.status_code == 201, uploaded.text
    now = datetime.now(timezone.utc)
    await fetch(stack.settings, "UPDATE asset_files SET uploaded_at = $2::timestamptz - make_interval("
                "days => CASE version WHEN 1 THEN 20 ELSE 10 END) WHERE asset_id = $1", DECK, now)
    await _seed(stack, now)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=list(CHROMIUM_ARGS))
        try:
            yield Setup(stack, ratings, browser, tmp_path)
        finally:
            await browser.close()


def _save(shot: bytes, setup: Setup, name: str) -> None:
    save_screenshot(shot, setup.tmp_path, name)


async def _sign_in(setup: Setup, page: Page, path: str) -> None:
    await sign_in_page(page, setup.ratings, REP, path)


async def _ready(page: Page) -> None:
    await page.locator("#reading[data-ready=true]").wait_for(state="attached")
    # No chart still animating, for steady screenshots.
    await page.wait_for_function(
        "() => Object.values(Chart.instances).every(c => !Chart.animator.running(c))")


async def _shot(page: Page, selector: str) -> bytes:
    """``selector``'s box on the full page, so that the sticky top bar stays at the top."""
    await page.evaluate("window.scrollTo(0, 0)")
    box = await page.locator(selector).bounding_box()
    assert box is not None
    return await page.screenshot(full_page=True, clip=box)


async def _too_wide(page: Page) -> int:
    return int(await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"))


async def _cells(page: Page) -> list[list[str]]:
    rows = page.locator("#recipient-rows tr")
    return [[t.strip() for t in await rows.nth(i).locator("th, td").all_inner_texts()]
            for i in range(await rows.count())]


async def test_the_deck_page_shows_how_far_readers_get_per_version_and_recipient(
    setup: Setup,
) -> None:
    context = await setup.browser.new_context(viewport={"width": 1280, "height": 900},
                                              reduced_motion="reduce", locale="en-US")
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = await context.new_page()
    await _sign_in(setup, page, f"/assets/{DECK}")
    await _ready(page)

    # All versions: 4 readers, 1 of them reached page 5 (the latest file's last page).
    summary = page.locator("#reading-summary")
    await expect(summary).to_have_text(
        "4 readers · 25% reach the last page · most re-read: page 3.")
    await expect(page.get_by_role("heading", name="Page by page")).to_be_visible()
    await expect(page.locator("#reread-list li")).to_have_text([
        re.compile(r"^Page 3\s*read again 2 times by 2 readers$"),
        re.compile(r"^Page 2\s*read again 1 time by 1 reader$")])
    reach = await page.evaluate("GBReading.charts.reach.data.datasets[0].data")
    assert reach == [100, 75, 75, 50, 25]
    median = await page.evaluate("GBReading.charts['page-time'].data.datasets[0].data")
    assert median[0] == 11  # page 1: 8, 10, 12 and 20 s
    await expect(page.locator("#reach-text")).to_contain_text("Page 5: 25% (1)")
    await page.get_by_role("button", name="Total").click()
    total = await page.evaluate("GBReading.charts['page-time'].data.datasets[0].data")
    assert total == [50, 74, 112, 15, 8]
    await expect(page.get_by_role("button", name="Total")).to_have_attribute("aria-pressed", "true")

    # The share link's two opens, newest first: the forward read to page 3, Dana to the end.
    await expect(page.locator("#recipients")).to_be_visible()
    await expect(page.locator("#recipients")).to_contain_text(
        "Only the links you sent or manage are listed")
    assert await _cells(page) == [
        ["Dana Whitfield\ndana@contoso.example", "Contoso Logistics", "Forward 1", "4 days ago",
         "3 of 5", "1 min 36 s", ""],
        ["Dana Whitfield\ndana@contoso.example", "Contoso Logistics", "Recipient", "5 days ago",
         "5 of 5", "1 min 30 s", ""],
    ]
    strip = page.locator("#recipient-rows tr").first.locator(".page-strip")
    await expect(strip.locator("span")).to_have_count(5)
    await expect(strip).to_have_attribute(
        "aria-label", "Time per page: page 1 12 s, page 2 24 s, page 3 1 min 00 s")
    # No plays and not a video: no video card.
    await expect(page.locator("#video-card")).to_be_hidden()
    await page.get_by_role("button", name="Median per reader").click()
    await _ready(page)
    assert await _too_wide(page) == 0
    _save(await _shot(page, "#reading"), setup, "asset-reading.png")

    # One version at a time, refetched: v2 had three readers, v1 one who read all 4 pages.
    version = page.get_by_label("Version of the file")
    options = await version.locator("option").all_inner_texts()
    assert options[0] == "All versions"
    assert re.fullmatch(r"v2 \(5 pages, uploaded \w{3} \d{1,2}, \d{4}\)", options[1]), options
    assert options[2].startswith("v1 (4 pages, uploaded ")
    await version.select_option("2")
    await expect(summary).to_have_text(
        "Version 2: 3 readers · 33% reach the last page · most re-read: page 3.")
    await version.select_option("1")
    await expect(summary).to_have_text("Version 1: 1 reader · 100% reach the last page.")
    await expect(page.locator("#reread-list")).to_contain_text("No page was read twice")
    assert await page.evaluate("GBReading.charts.reach.data.labels.length") == 4
    await context.close()
    assert errors == []


async def test_the_video_page_shows_plays_quartiles_and_retention(setup: Setup) -> None:
    context = await setup.browser.new_context(viewport={"width": 1280, "height": 900},
                                              reduced_motion="reduce", locale="en-US")
    page = await context.new_page()
    await _sign_in(setup, page, f"/assets/{VIDEO}")
    await _ready(page)
    await expect(page.locator("#video-summary")).to_have_text(
        "4 plays · 6 min 00 s watched in all · on average 45% of the video (3 min 20 s long).")
    figures: dict[str, Any] = {
        "video-plays": "4", "video-watch": "6 min 00 s", "video-median": "1 min 15 s",
        "video-share": "45%"}
    for key, text in figures.items():
        await expect(page.locator(f"#{key}")).to_have_text(text)
    await expect(page.locator("#quartiles li")).to_have_text([
        re.compile(r"25% of the video\s*3 plays · 75%"), re.compile(r"50% of the video\s*2 plays · 50%"),
        re.compile(r"75% of the video\s*1 play · 25%"), re.compile(r"The end \(100%\)\s*1 play · 25%")])
    retention = await page.evaluate("GBReading.charts.retention.data.datasets[0].data")
    assert [p["y"] for p in retention][::25] == [100, 50, 25, 25]
    assert retention[99]["y"] == 25
    # A video nobody read page by page has no page-by-page card.
    await expect(page.locator("#reading-card")).to_be_hidden()
    _save(await _shot(page, "#reading"), setup, "asset-video.png")

    # When the figures cannot be had, the card says so in words and the page goes on.
    await page.route(re.compile(rf"/v1/assets/{DECK}/reading\?"),
                     lambda route: route.fulfill(status=503, body="down"))
    await page.goto(f"{setup.ratings.url}/assets/{DECK}")
    await _ready(page)
    await expect(page.locator("#reading-summary")).to_have_text(
        "Could not load the page-by-page reading just now. Reload the page to try again.")
    await expect(page.locator("#reading-body")).to_be_hidden()
    await expect(page.locator("#recipients")).to_be_hidden()
    await context.close()


async def test_the_reading_cards_fit_a_phone(setup: Setup) -> None:
    context = await setup.browser.new_context(viewport={"width": 390, "height": 844},
                                              device_scale_factor=2, is_mobile=True,
                                              has_touch=True, reduced_motion="reduce",
                                              locale="en-US")
    page = await context.new_page()
    await _sign_in(setup, page, f"/assets/{DECK}")
    await _ready(page)
    await expect(page.locator("#reading-summary")).to_have_text(
        "4 readers · 25% reach the last page · most re-read: page 3.")
    await expect(page.locator("#recipient-rows tr")).to_have_count(2)
    # A card per recipient, each cell with its label, and nothing wider than the screen.
    await expect(page.locator("#recipients thead")).to_be_hidden()
    assert await _too_wide(page) == 0
    card = page.locator("#reading-card")
    box = await card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    _save(await _shot(page, "#reading"), setup, "asset-reading-phone.png")
    await context.close()
