"""The rating store writes proper JSON, one rating per rater, and an outbox row per change."""

from __future__ import annotations

import asyncpg

from harness.stack import Stack


async def test_a_rating_stores_its_context_and_outbox_event_as_json_objects(stack: Stack) -> None:
    await stack.ratings()
    await stack.user("owner@example.com", "marketing")  # owners are users first (issue 12)
    async with await stack.client("marketing") as marketing:
        await marketing.post("/v1/assets", json={
            "id": "brief", "title": "Brief", "type": "other", "url": "https://example.com/b",
            "owner_email": "owner@example.com"})
    async with await stack.client("sales") as sales:
        r = await sales.put("/v1/assets/brief/rating", json={
            "stars": 4, "comment": "Good", "context": {"deal_stage": "proposal", "segment": "smb"}})
        assert r.status_code == 200
        r = await sales.put("/v1/assets/brief/rating", json={"stars": 2})
        assert r.status_code == 200
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        rows = await conn.fetch("SELECT stars, comment, context->>'deal_stage' AS stage FROM ratings")
        assert [(r["stars"], r["comment"], r["stage"]) for r in rows] == [(2, None, None)]
        events = await conn.fetch(
            "SELECT event->>'stars' AS stars, event->>'previous_stars' AS previous, "
            "jsonb_typeof(event) AS kind FROM rating_outbox ORDER BY id")
        assert [(e["stars"], e["previous"], e["kind"]) for e in events] == [
            ("4", None, "object"), ("2", "4", "object")]
    finally:
        await conn.close()
