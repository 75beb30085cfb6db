"""The live scoreboard in a real desktop browser: sign in, watch pixel hits and a rating
change a row without a reload, see rows re-sort, open an asset page whose charts render
and whose score card follows the stream, and the stale-content list losing an asset the
moment someone views it.

The whole pipeline runs: ingest, the aggregator, the ratings app's board API and score
stream, on the real broker and PostgreSQL. Debian's headless Chromium through Playwright.
Skipped only when /usr/bin/chromium is missing and ``CI`` is unset.
``GLASSBOARD_SAVE_SCREENSHOTS=1`` also writes docs/screenshots/scoreboard*.png.
"""

from __future__ import annotations

import os
import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS, skip_module_without_chromium
from harness.paths import SCREENSHOTS

skip_module_without_chromium()

import httpx  # noqa: E402
from playwright.async_api import BrowserContext, Locator, Page, async_playwright, expect  # noqa: E402

from harness.stack import RunningServer, Stack, eventually  # noqa: E402
from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT, UA_IPAD, UA_IPHONE  # noqa: E402

pytestmark = pytest.mark.browser

DESKTOP: dict[str, Any] = {
    "viewport": {"width": 1440, "height": 1000},
    "device_scale_factor": 1,
    "reduced_motion": "reduce",  # steady screenshots; the highlight still shows, unanimated
    "locale": "en-US",
}
OWNER = "maria.lopez@example.com"
REP = "rep@example.com"
LIVE_TIMEOUT_MS = 15_000

# (id, title, type, stage, views per day, download rate, mean engaged ms, pages)
CATALOG: list[tuple[str, str, str, str, float, float, int, int | None]] = [
    ("pricing-sheet", "Acme Flow 3 pricing sheet", "product_sheet", "decision", 3.0, 0.25, 45_000, None),
    ("spec-sheet", "Acme Flow 3 technical specs", "product_sheet", "consideration", 0.0, 0.0, 0, None),
    ("northwind-story", "Northwind cut leak losses by 38%", "case_study", "consideration", 1.5, 0.05, 95_000, None),
    ("acme-story", "How Acme Water saved 2 GWh", "case_study", "decision", 0.0, 0.0, 0, None),
    ("globex-story", "Globex: one dashboard, 40 plants", "case_study", "consideration", 0.0, 0.0, 0, None),
    ("roi-deck", "Leak detection ROI deck", "deck", "decision", 2.0, 0.15, 30_000, 6),
    ("launch-video", "Leak detection in five minutes", "video", "awareness", 4.0, 0.0, 120_000, None),
    ("legacy-sheet", "Acme Flow 2 product sheet", "product_sheet", "decision", 0.0, 0.0, 0, None),
    ("old-brochure", "2019 company brochure", "other", "awareness", 0.0, 0.0, 0, None),
]
RATINGS = [  # (rater, asset, stars, comment)
    ("ana@example.com", "roi-deck", 5, "Won the CFO over in the second meeting."),
    ("ben@example.com", "roi-deck", 4, "Good numbers; slide 4 needs the 2026 prices."),
    ("cho@example.com", "roi-deck", 4, None),
    ("dev@example.com", "roi-deck", 2, "Too long for a first call."),
    ("ana@example.com", "pricing-sheet", 5, "Answers the pricing question in one page."),
    ("ben@example.com", "pricing-sheet", 4, None),
    ("cho@example.com", "northwind-story", 5, "Prospects in utilities ask for this one."),
    ("dev@example.com", "launch-video", 3, None),
]


@dataclass
class Board:
    stack: Stack
    ratings: RunningServer
    ingest: RunningServer
    context: BrowserContext
    tmp_path: Path
    rep_token: str

    @property
    def url(self) -> str:
        return self.ratings.url

    def mailer(self) -> Any:
        return self.ratings.app.state.mailer

    async def views(self, asset_id: str, n: int, *, page: int | None = None) -> None:
        async with httpx.AsyncClient(base_url=self.ingest.url) as client:
            for _ in range(n):
                params: dict[str, Any] = {"asset": asset_id, "viewer": uuid.uuid4().hex[:10]}
                if page:
                    params["page"] = page
                r = await client.get("/px.gif", params=params, headers={"user-agent": UA_DESKTOP})
                assert r.status_code == 200

    async def rate(self, asset_id: str, stars: int, comment: str | None = None) -> None:
        async with httpx.AsyncClient(base_url=self.url, headers={
                "authorization": f"Bearer {self.rep_token}"}) as client:
            r = await client.put(f"/v1/assets/{asset_id}/rating",
                                 json={"stars": stars, "comment": comment})
            assert r.status_code == 200, r.text

    async def shot(self, page: Page, name: str, *, full_page: bool = False) -> None:
        data = await page.screenshot(path=str(self.tmp_path / name), full_page=full_page)
        if os.environ.get("GLASSBOARD_SAVE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / name).write_bytes(data)


def _traffic(now: datetime) -> list[dict[str, Any]]:
    """A month of plausible, seeded traffic for the catalog (no event older than ingest's
    31-day limit), plus one view of legacy-sheet 30.5 days ago: stale at 30 days."""
    rng = random.Random(7)
    events: list[dict[str, Any]] = []
    agents = (UA_DESKTOP, UA_DESKTOP, UA_IPHONE, UA_IPAD)
    for asset_id, _, _, _, per_day, download_rate, engaged, pages in CATALOG:
        for days_ago in range(30):
            for _ in range(rng.randint(0, round(per_day * 2))):
                at = now - timedelta(days=days_ago, hours=rng.uniform(0.5, 20))
                viewer = f"{asset_id}-{rng.randint(1, 60)}"
                view_id = str(uuid.uuid4())
                # Readers drop off page by page through a deck.
                page = min(int(rng.expovariate(0.45)) + 1, pages) if pages else None
                common = {"asset_id": asset_id, "occurred_at": at.isoformat(),
                          "user_agent": rng.choice(agents)}
                if page:
                    common["page"] = page
                events.append({"type": "view", "event_id": view_id, "viewer_id": viewer,
                               "source": "beacon", **common})
                if rng.random() < 0.7:
                    events.append({"type": "dwell", "view_id": view_id, "source": "beacon",
                                   "engaged_ms": int(rng.uniform(0.3, 1.7) * engaged / (page or 1) ** 0.5),
                                   **common})
                if rng.random() < download_rate:
                    events.append({"type": "download", "viewer_id": viewer, **common})
    events.append({"type": "view", "asset_id": "legacy-sheet", "viewer_id": "old-reader",
                   "occurred_at": (now - timedelta(days=30, hours=12)).isoformat()})
    return events


@pytest.fixture
async def board(stack: Stack, tmp_path: Path) -> AsyncIterator[Board]:
    ratings = await stack.ratings()
    await stack.user(OWNER, "marketing", "Maria Lopez")
    _, rep_token = await stack.user(REP, "sales", "Riley Rep")
    async with await stack.client("marketing") as marketing:
        for asset_id, title, asset_type, stage, *_ in CATALOG:
            r = await marketing.post("/v1/assets", json={
                "id": asset_id, "title": title, "type": asset_type, "stage": stage,
                "url": f"https://example.com/{asset_id}", "owner_email": OWNER})
            assert r.status_code == 201, r.text
    key = await stack.ingest_key()  # the batch names viewers and User-Agents
    ingest = await stack.ingest()
    await stack.aggregator()
    events = _traffic(datetime.now(timezone.utc))
    # A browser's User-Agent for the events that name none (an HTTP library's is a bot's).
    async with httpx.AsyncClient(base_url=ingest.url,
                                 headers={**key, "user-agent": UA_DESKTOP}) as client:
        for start in range(0, len(events), 500):
            r = await client.post("/v1/events", json={"events": events[start:start + 500]})
            assert r.status_code == 202, r.text
    raters = {}
    for email, asset_id, stars, comment in RATINGS:
        if email not in raters:
            raters[email] = (await stack.user(email, "sales" if email < "c" else "executive"))[1]
        async with httpx.AsyncClient(base_url=ratings.url, headers={
                "authorization": f"Bearer {raters[email]}"}) as rater:
            r = await rater.put(f"/v1/assets/{asset_id}/rating",
                                json={"stars": stars, "comment": comment})
            assert r.status_code == 200, r.text
    # Two case studies with exactly known views today, for the re-sort check.
    runner = Board(stack, ratings, ingest, None, tmp_path, rep_token)  # type: ignore[arg-type]
    await runner.views("acme-story", 2)
    await runner.views("globex-story", 4)
    async with await stack.client("sales") as reader:
        async def states() -> dict[str, Any]:
            r = await reader.get("/v1/scores", params={"limit": 100})
            return {i["asset_id"]: i for i in r.json()["items"]}
        await eventually(states, lambda s: s["globex-story"]["totals"]["views"] == 4
                         and s["acme-story"]["totals"]["views"] == 2
                         and s["roi-deck"]["ratings"]["count"] == 4
                         and s["launch-video"]["ratings"]["count"] == 1, timeout=30)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            context = await browser.new_context(**DESKTOP)
            errors: list[str] = []
            context.on("weberror", lambda e: errors.append(str(e.error)))
            runner.context = context
            yield runner
        finally:
            await browser.close()
    assert errors == [], f"uncaught errors in the pages: {errors}"


async def sign_in(board: Board, page: Page, path: str) -> None:
    """Open ``path`` signed out, land on /login?next=…, follow the emailed link back."""
    await page.goto(f"{board.url}{path}")
    assert page.url == f"{board.url}/login?next={path.replace('/', '%2F')}"
    await page.get_by_label("Work email").fill(REP)
    sent_before = len(board.mailer().sent)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    to, _, body = (await eventually(lambda: _mails(board, sent_before), lambda m: len(m) > 0))[-1]
    assert to == REP
    link = re.search(r"https?://\S+/auth/magic\?\S+", body)
    assert link, body
    # The link opens a page that signs in only when its button is pressed (a POST).
    await page.goto(link.group(0))
    await expect(page.locator("#signing-in-as")).to_have_text(REP)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(f"{board.url}{path}")
    assert page.url == f"{board.url}{path}"


async def _mails(board: Board, after: int) -> list[tuple[str, str, str]]:
    return list(board.mailer().sent[after:])


async def settled(page: Page) -> None:
    """The list is loaded and its stream is open (a filter or sort change reloads both)."""
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live",
                                                          timeout=LIVE_TIMEOUT_MS)


async def too_wide(page: Page) -> list[str]:
    """Elements reaching past the right edge of the viewport (the page scrolls sideways)."""
    return await page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return [];
        return [...document.querySelectorAll('body *')]
          .filter(el => el.getBoundingClientRect().right > width + 0.5)
          .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                                 (el.className && el.className.baseVal === undefined ? '.' + el.className : ''));
    }""")


def row(page: Page, asset_id: str) -> Locator:
    return page.locator(f'#rows tr[data-id="{asset_id}"]')


def cell(page: Page, asset_id: str, label: str) -> Locator:
    return row(page, asset_id).locator(f'[data-label="{label}"]')


async def row_order(page: Page) -> list[str]:
    return await page.locator("#rows tr").evaluate_all("rows => rows.map(r => r.dataset.id)")


async def test_the_board_changes_live_resorts_and_leads_to_charted_asset_pages(board: Board) -> None:
    page = await board.context.new_page()
    loads: list[str] = []  # full page loads; history.replaceState is not one
    page.on("load", lambda p: loads.append(p.url))
    await sign_in(board, page, "/")
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live",
                                                          timeout=LIVE_TIMEOUT_MS)
    await expect(page.locator("#rows tr")).to_have_count(len(CATALOG))
    await expect(page.locator("#summary")).to_contain_text(f"{len(CATALOG)} assets")
    # Highest score first; the rating column shows the Bayesian average with its votes.
    scores = [int(s) if s.isdigit() else -1 for s in
              await page.locator("#rows .score-value").all_inner_texts()]
    assert scores == sorted(scores, reverse=True), scores
    await expect(cell(page, "roi-deck", "Rating")).to_have_text(re.compile(r"^\d\.\d ★ · 4 votes$"))
    await expect(cell(page, "spec-sheet", "Rating")).to_have_text("No votes")
    await expect(cell(page, "spec-sheet", "Views")).to_have_text("0")
    await expect(row(page, "roi-deck").locator("a.asset-name")).to_have_attribute(
        "href", "/assets/roi-deck")
    csv_href = await page.locator("#csv").get_attribute("href")
    assert csv_href == "/v1/scores.csv?window=90d&sort=-score"

    # Nothing reloads from here on: a marker on the window must survive it all.
    await page.evaluate("window.__boardMarker = 'still here'")
    loads_before = len(loads)

    # Three pixel hits on the spec sheet, through ingest: the row changes in place.
    spec = row(page, "spec-sheet")
    revision_before = await spec.get_attribute("data-revision")
    await board.views("spec-sheet", 3)
    await expect(cell(page, "spec-sheet", "Views")).to_have_text("3", timeout=LIVE_TIMEOUT_MS)
    await expect(cell(page, "spec-sheet", "Daily viewers, summed")).to_have_text("3")
    assert await spec.get_attribute("data-revision") != revision_before
    await expect(spec).to_have_class(re.compile(r"\bupdated\b"))
    await expect(cell(page, "spec-sheet", "Score")).to_have_text(re.compile(r"^\d+"))

    # A rating through the API: the rating cell follows.
    await board.rate("spec-sheet", 5, "Everything an engineer asks, on two pages.")
    await expect(cell(page, "spec-sheet", "Rating")).to_have_text(
        re.compile(r"^\d\.\d ★ · 1 vote$"), timeout=LIVE_TIMEOUT_MS)
    await expect(spec).to_have_class(re.compile(r"\bupdated\b"))
    # The flash fades. (The rating moved the catalog-wide prior and rescored every row;
    # only rows whose figures moved flash, some of them once more when the aggregator's
    # peer sweep publishes them up to 5 s later, so this waits on the rated row alone.)
    await expect(spec).not_to_have_class(re.compile(r"\bupdated\b"), timeout=LIVE_TIMEOUT_MS)

    # The 7-day window: trend arrows against the week before. One more view: one row lights up.
    await page.locator('input[name="window"][value="7d"]').check(force=True)
    await settled(page)
    await board.views("spec-sheet", 1)
    await expect(cell(page, "spec-sheet", "Views")).to_have_text("4", timeout=LIVE_TIMEOUT_MS)
    await expect(spec).to_have_class(re.compile(r"\bupdated\b"))
    await board.shot(page, "scoreboard.png")

    # Re-sort: case studies over 7 days by views. Globex (4 views) leads Acme (2); three
    # more views for Acme and its row moves above Globex's, live.
    await page.get_by_label("Type").select_option("case_study")
    await settled(page)
    await page.locator('th[data-sort="views"] button').click()
    await settled(page)
    await expect(page.locator('th[data-sort="views"]')).to_have_attribute("aria-sort", "descending")
    await expect(page.locator("#rows tr")).to_have_count(3)
    order = await row_order(page)
    assert order.index("globex-story") < order.index("acme-story"), order
    await board.views("acme-story", 3)
    await expect(cell(page, "acme-story", "Views")).to_have_text("5", timeout=LIVE_TIMEOUT_MS)
    order = await row_order(page)
    assert order.index("acme-story") < order.index("globex-story"), order
    ranks = await page.locator("#rows td.rank").all_inner_texts()
    assert ranks == ["1", "2", "3"]
    assert page.url == f"{board.url}/?window=7d&sort=-views&type=case_study"

    assert await page.evaluate("window.__boardMarker") == "still here"
    assert loads[loads_before:] == [], loads  # no reload, no navigation
    assert int(await page.evaluate("document.body.dataset.liveUpdates")) >= 3

    # On a phone the rows become cards, and nothing scrolls sideways.
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.get_by_label("Sort by")).to_be_visible()
    await board.shot(page, "scoreboard-phone.png", full_page=True)
    assert await too_wide(page) == []


async def test_the_asset_page_charts_and_its_live_score_card(board: Board) -> None:
    # Two crawler hits, refused at the edge: the page says they were filtered, and why.
    async with httpx.AsyncClient(base_url=board.ingest.url) as client:
        for _ in range(2):
            await client.get("/px.gif", params={"asset": "roi-deck"},
                             headers={"user-agent": UA_GOOGLEBOT})
    async with await board.stack.client("sales") as reader:
        await eventually(lambda: reader.get("/v1/assets/roi-deck/filtered"),
                         lambda r: r.json()["total"] == 2)
    page = await board.context.new_page()
    await sign_in(board, page, "/assets/roi-deck")
    await page.wait_for_selector("#analytics[data-ready=true]")
    await expect(page.locator("#filtered-summary")).to_have_text("2 hits filtered (2 bots).")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live",
                                                          timeout=LIVE_TIMEOUT_MS)
    await page.wait_for_selector("#reading[data-ready=true]", state="attached")
    charts = await page.evaluate("""() => Object.fromEntries(
        ['usage', 'ratings', 'devices', 'reach'].map(name => {
            const chart = Chart.getChart(document.getElementById('chart-' + name));
            return [name, chart ? {
                type: chart.config.type,
                datasets: chart.data.datasets.map(d => ({label: d.label, n: d.data.length,
                                                          sum: d.data.reduce((a, b) => a + (b || 0), 0)})),
                labels: chart.data.labels.length,
                drawn: chart.canvas.width > 0 && chart.canvas.height > 0,
            } : null];
        }))""")
    usage, ratings, devices, reach = (charts[n] for n in ("usage", "ratings", "devices", "reach"))
    assert usage and usage["drawn"] and usage["labels"] == 120
    assert [d["label"] for d in usage["datasets"]] == ["Views", "Unique viewers", "Downloads"]
    assert usage["datasets"][0]["sum"] > 0
    assert ratings and ratings["drawn"] and ratings["labels"] == 5
    assert ratings["datasets"][0]["sum"] == 4  # four raters, all time
    assert devices and devices["drawn"] and devices["type"] == "doughnut"
    assert devices["datasets"][0]["sum"] > 0
    assert reach and reach["drawn"] and reach["labels"] == 6  # a six-page deck, page by page
    await expect(page.locator("#recent li")).to_have_count(4)
    await expect(page.locator("#recent")).to_contain_text("Won the CFO over in the second meeting.")
    await expect(page.locator("#recent")).not_to_contain_text("ana@example.com")
    await expect(page.locator(".score-number")).to_have_text(re.compile(r"^\d+$"))
    await expect(page.locator(".formula")).to_contain_text("100 × (0.6 × ")
    await expect(page.get_by_role("link", name="How is this computed?")).to_have_attribute(
        "href", "/help/scoring")
    # The rating widget and the embed code of the phone app's asset page are still there.
    await expect(page.get_by_role("button", name="Rate 4 out of 5")).to_be_visible()
    await expect(page.locator("#code-script")).to_contain_text('data-asset="roi-deck"')

    # A view through ingest: the score card follows the stream, without a reload.
    await page.evaluate("window.__assetMarker = 1")
    foot = await page.locator(".score-foot").inner_text()
    views_before = int(re.search(r"([\d,]+) views", foot).group(1).replace(",", ""))  # type: ignore[union-attr]
    await board.views("roi-deck", 1, page=2)
    await expect(page.locator(".score-foot")).to_contain_text(f"{views_before + 1} views",
                                                              timeout=LIVE_TIMEOUT_MS)
    assert await page.evaluate("window.__assetMarker") == 1
    await expect(page.locator("#score-card")).to_have_class(re.compile(r"\bupdated\b"))
    await expect(page.locator("#score-card.updated")).to_have_count(0)
    await page.wait_for_selector("#analytics[data-ready=true]")  # charts redrawn after the update
    await board.shot(page, "scoreboard-asset.png", full_page=True)

    # On a phone the analytics stack under the facts, and nothing scrolls sideways.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.wait_for_timeout(500)  # Chart.js resizes its canvases on the next frames
    await board.shot(page, "scoreboard-asset-phone.png", full_page=True)
    assert await too_wide(page) == []
    await page.set_viewport_size(DESKTOP["viewport"])

    # An asset read as one page (no file, no page numbers) shows no page-by-page card.
    await page.goto(f"{board.url}/assets/pricing-sheet")
    await page.wait_for_selector("#analytics[data-ready=true]")
    await page.wait_for_selector("#reading[data-ready=true]", state="attached")
    await expect(page.locator("#reading-card")).to_be_hidden()

    await page.goto(f"{board.url}/help/scoring")
    await expect(page.get_by_role("heading", level=1)).to_have_text("How the content score works")


async def test_stale_content_lists_idle_assets_and_drops_one_when_it_is_viewed(board: Board) -> None:
    page = await board.context.new_page()
    await sign_in(board, page, "/stale")
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live",
                                                          timeout=LIVE_TIMEOUT_MS)
    # Never used first (by title), then the oldest activity; anything used this month is not here.
    assert await row_order(page) == ["old-brochure", "spec-sheet", "legacy-sheet"]
    await expect(cell(page, "old-brochure", "Last activity")).to_have_text("never")
    await expect(cell(page, "legacy-sheet", "Last activity")).to_contain_text("30 days ago")
    await expect(cell(page, "legacy-sheet", "Owner")).to_have_text(OWNER)
    await expect(cell(page, "legacy-sheet", "Views, all time")).to_have_text("1")
    await expect(page.locator("#summary")).to_contain_text("3 assets without views")
    assert await page.locator("#csv").get_attribute("href") == (
        "/v1/scores.csv?window=90d&sort=last_event_at&stale_days=30")
    await board.shot(page, "scoreboard-stale.png")

    await page.locator('input[name="days"][value="60"]').check(force=True)
    await settled(page)
    await expect(page.locator("#rows tr")).to_have_count(2)  # legacy-sheet was used 30.5 days ago
    await page.locator('input[name="days"][value="30"]').check(force=True)
    await settled(page)
    await expect(page.locator("#rows tr")).to_have_count(3)
    await board.views("legacy-sheet", 1)
    await expect(page.locator("#rows tr:not(.leaving)")).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    await expect(row(page, "legacy-sheet")).to_have_count(0)
    await expect(page.locator("#summary")).to_contain_text("2 assets without views")
