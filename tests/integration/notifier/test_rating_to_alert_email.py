"""End to end, as the issue's try-out: a sales rep rates an asset down in the ratings app;
the rating goes through the outbox, the aggregator and the notifier; the owner gets one
email over real SMTP, signs in with a link that also came by SMTP, and opens the page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest

from devtools.settings import StackSettings
from harness.db import fetch
from harness.notifier import SmtpServer, for_notifier, start_notifier
from harness.sign_in import browser as web_browser
from harness.sign_in import land
from harness.stack import Stack, eventually

OWNER = "maria.owner@example.com"
ASSET = {"id": "acme-price-list", "title": "Acme price list 2026", "type": "product_sheet",
         "url": "https://cdn.example.com/acme-prices.pdf", "owner_email": OWNER}


@pytest.fixture
async def mail_stack(settings: StackSettings, smtp: SmtpServer) -> AsyncIterator[Stack]:
    running = Stack(for_notifier(settings, smtp.port))
    try:
        yield running
    finally:
        await asyncio.wait_for(running.close(), 30)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def test_rating_an_asset_down_emails_its_owner_once_and_the_link_opens_the_page(
    mail_stack: Stack, smtp: SmtpServer,
) -> None:
    stack = mail_stack
    ratings = await stack.ratings()
    await stack.aggregator()
    await start_notifier(stack, stack.settings)
    await stack.user(OWNER, "marketing", "Maria Owner")
    async with await stack.client("marketing") as marketing:
        (await marketing.post("/v1/assets", json=ASSET)).raise_for_status()

    async def rate(client: httpx.AsyncClient, stars: int, comment: str) -> None:
        response = await client.put(f"/v1/assets/{ASSET['id']}/rating",
                                    json={"stars": stars, "comment": comment})
        response.raise_for_status()

    def alerts_to_owner() -> list[EmailMessage]:
        return [m for m in smtp.messages if m["To"] == OWNER and "alert" in m["Subject"]]

    async with await stack.client("sales") as rep:
        await rate(rep, 1, "Prices are from last year; a customer caught it.")
        [mail] = await eventually(lambda: asyncio.sleep(0, alerts_to_owner()),
                                  lambda m: len(m) == 1, timeout=30)
        # The rep adds to the comment, and a second rep rates low too: inside the cooldown.
        await rate(rep, 1, "Prices are from last year; also the logo is old.")
    _, other_token = await stack.user("second.rep@example.com", "sales")
    async with httpx.AsyncClient(base_url=ratings.url,
                                 headers={"authorization": f"Bearer {other_token}"}) as other:
        await rate(other, 2, "Too long.")
    await eventually(
        lambda: fetch(stack.settings, "SELECT suppressed FROM alert_rule_state "
                                      "WHERE rule = 'low_rating_comment'"),
        lambda rows: rows == [{"suppressed": 2}], timeout=30)
    await asyncio.sleep(1.0)
    assert alerts_to_owner() == [mail]

    assert mail["Subject"] == "Glassboard alert: Low rating with a comment on “Acme price list 2026”"
    text = text_of(mail)
    assert "A new 1-star rating of “Acme price list 2026” says why: “Prices are from last year" in text
    link = re.search(r"Open the asset: (\S+)", text)
    assert link is not None and link.group(1) == f"{ratings.url}/assets/{ASSET['id']}"

    # The owner signs in by a magic link (sent over SMTP too), then follows the alert's link.
    async with web_browser(ratings.url, follow_redirects=True) as browser:
        asked = await browser.post("/v1/auth/magic-link",
                                   json={"email": OWNER, "next": f"/assets/{ASSET['id']}"})
        assert asked.status_code == 202
        sign_in = await eventually(
            lambda: asyncio.sleep(0, [m for m in smtp.messages if "sign-in" in m["Subject"]]),
            lambda m: len(m) == 1)
        magic = re.search(r"https?://\S+/auth/magic\?\S+", text_of(sign_in[0]))
        assert magic is not None
        landed = await land(browser, magic.group(0))
        assert landed.status_code == 200 and str(landed.url) == link.group(1)
        page = await browser.get(link.group(1))
        assert page.status_code == 200 and "Acme price list 2026" in page.text

        inbox = (await browser.get("/v1/alerts")).json()
    [alert] = inbox["alerts"]
    assert alert["rule"] == "low_rating_comment" and alert["asset_id"] == ASSET["id"]
    assert [(d["channel"], d["state"]) for d in alert["deliveries"]] == [("email", "sent")]
