"""The alert inbox (/alerts) in a phone-sized Chromium: alerts as the notifier wrote them,
mark read, the All tab, and a webhook URL refused with its reason under the field.

``GLASSBOARD_SAVE_SCREENSHOTS=1`` refreshes docs/screenshots/alerts-inbox.png.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS, skip_module_without_chromium
from harness.paths import SCREENSHOTS

skip_module_without_chromium()

from playwright.async_api import async_playwright, expect  # noqa: E402

from harness.stack import Stack  # noqa: E402

pytestmark = pytest.mark.browser

OWNER = "maria.lopez@example.com"
NOW = datetime.now(timezone.utc)

#: (asset, title, rule, summary, age, read, deliveries as (channel, state, attempts))
ALERTS: list[tuple[str, str, str, str, timedelta, bool, list[tuple[str, str, int]]]] = [
    ("webinar-replay", "Live forecasting webinar (replay)", "rating_below",
     "The rating of “Live forecasting webinar (replay)” is 2.41 stars over the last 30 days "
     "(14 ratings), below 3.", timedelta(days=9), True, [("email", "sent", 1)]),
    ("leak-detection-video", "Leak detection in five minutes", "engagement_collapse",
     "Views of “Leak detection in five minutes” collapsed: 9 in the last 7 days against 48 a "
     "week over the 4 weeks before (19%).", timedelta(days=3), True, [("email", "sent", 1)]),
    ("northwind-case-study", "Northwind cut leak losses by 38%", "score_drop",
     "The score of “Northwind cut leak losses by 38%” fell 14 points to 52 over the last 30 "
     "days (was 66): fewer views.", timedelta(hours=2), False,
     [("email", "sent", 1), ("webhook", "pending", 2)]),
    ("acme-price-list", "Acme price list 2026", "low_rating_comment",
     "A new 1-star rating of “Acme price list 2026” says why: “Prices are from last year; a "
     "customer caught it.”", timedelta(minutes=3), False, [("email", "sent", 1)]),
]


async def insert_alerts(database_url: str, owner_id: int) -> None:
    """The notifier's alerts and deliveries, and the owner's read marks (ratings' table)."""
    conn = await asyncpg.connect(database_url)
    try:
        for asset, title, rule, summary, age, read, deliveries in ALERTS:
            fired = NOW - age
            alert_id = await conn.fetchval(
                "INSERT INTO alerts (asset_id, rule, episode, owner_email, title, summary, "
                "details, fired_at) VALUES ($1, $2, 1, $3, $4, $5, '{}', $6) "
                "RETURNING id", asset, rule, OWNER, title, summary, fired)
            if read:
                await conn.execute("INSERT INTO alert_reads (alert_id, user_id, read_at) "
                                   "VALUES ($1, $2, $3)", alert_id, owner_id,
                                   fired + timedelta(minutes=30))
            for channel, state, attempts in deliveries:
                target = OWNER if channel == "email" else "https://hooks.slack.com/services/x"
                delivery = await conn.fetchval(
                    "INSERT INTO alert_deliveries (recipient_email, channel, target, kind, "
                    "state, attempts, last_error) VALUES ($1, $2, $3, 'immediate', $4, $5, $6) "
                    "RETURNING id", OWNER, channel, target, state, attempts,
                    "webhook https://hooks.slack.com/…: HTTP 503" if state == "pending" else None)
                await conn.execute("INSERT INTO alert_delivery_items VALUES ($1, $2)",
                                   delivery, alert_id)
    finally:
        await conn.close()


async def test_the_inbox_on_a_phone(stack: Stack, tmp_path: Path) -> None:
    ratings = await stack.ratings()
    owner_id, token = await stack.user(OWNER, "marketing", "Maria Lopez")
    await insert_alerts(stack.settings.database_url, owner_id)
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=list(CHROMIUM_ARGS))
        try:
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                has_touch=True, reduced_motion="reduce", locale="en-US",
                extra_http_headers={"authorization": f"Bearer {token}"})
            context.on("weberror", lambda e: errors.append(str(e.error)))
            page = await context.new_page()
            await page.goto(f"{ratings.url}/alerts")
            items = page.locator("#alert-list li.alert-item")
            await expect(items).to_have_count(2)
            await expect(page.locator("#unread-count")).to_have_text("2")
            await expect(items.first).to_contain_text("Acme price list 2026")
            await expect(items.nth(1).locator(".chip-pending")).to_have_text("Webhook · retrying")
            await expect(page.locator("#rules li.rule")).to_have_count(4)
            await expect(page.locator("#pref-email")).to_be_checked()
            data = await page.screenshot(path=str(tmp_path / "alerts-inbox.png"))
            if os.environ.get("GLASSBOARD_SAVE_SCREENSHOTS"):
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                (SCREENSHOTS / "alerts-inbox.png").write_bytes(data)

            await items.first.get_by_role("button", name="Mark the alert on Acme").tap()
            await expect(items).to_have_count(1)
            await expect(page.locator("#unread-count")).to_have_text("1")
            await page.get_by_role("tab", name="All").tap()
            await expect(items).to_have_count(4)
            await expect(page.locator("#alert-list li.unread")).to_have_count(1)

            await page.locator("#pref-webhook").fill("ftp://hooks.example.com/x")
            await page.get_by_role("button", name="Save", exact=True).first.tap()
            await expect(page.locator("#webhook-error")).to_contain_text("must start with https://")
            await expect(page.locator("#pref-webhook")).to_have_attribute("aria-invalid", "true")
        finally:
            await browser.close()
    assert errors == []
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        read: Any = await conn.fetchval(
            "SELECT r.read_at IS NOT NULL FROM alert_reads r JOIN alerts a ON a.id = r.alert_id "
            "WHERE a.asset_id = 'acme-price-list'")
        assert read is True
        assert await conn.fetchval("SELECT count(*) FROM alert_preferences") == 0
    finally:
        await conn.close()
