"""Ingest's cached view of the catalog: an asset registered in the ratings app a moment
ago is tracked at once."""

from __future__ import annotations

import httpx

from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP

ASSET = {"id": "pricing-sheet", "title": "Pricing sheet", "type": "product_sheet",
         "url": "https://example.com/pricing.pdf", "owner_email": "mia@example.com"}


async def test_an_asset_registered_a_moment_ago_is_tracked_at_once(stack: Stack) -> None:
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    await stack.user("mia@example.com", "marketing")  # owners are users first (issue 12)
    async with await stack.client("marketing") as client:
        assert (await client.post("/v1/assets", json=ASSET)).status_code == 201
    async with httpx.AsyncClient(headers={"user-agent": UA_DESKTOP}) as client:
        r = await client.post(f"{ingest.url}/v1/events",
                              json={"events": [{"type": "view", "asset_id": "pricing-sheet",
                                                "source": "beacon"}]})
        assert r.status_code == 202
    await eventually(lambda: stack.usage("pricing-sheet"), lambda u: u["views"] == 1)
