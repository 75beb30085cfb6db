"""End to end on the real broker and PostgreSQL: HTTP hits in, exact usage out."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT, UA_IPAD, UA_IPHONE


async def _integration(stack: Stack) -> dict[str, str]:
    """These hits stand for a server-side integration, which may set viewer ids: the
    headers of an ingest key an admin made (ratings must be up; ingest not yet, so its
    first load of the keys has it)."""
    async with await stack.client() as admin:
        r = await admin.post("/v1/ingest-keys", json={"name": "integration"})
    return {"authorization": f"Bearer {r.json()['token']}"}


async def test_pixel_beacon_and_download_hits_give_exact_counts_per_device(stack: Stack) -> None:
    await stack.add_asset("pricing-sheet")
    await stack.ratings()
    key = await _integration(stack)
    ingest = await stack.ingest()
    await stack.aggregator()
    view_id = uuid.uuid4()
    async with httpx.AsyncClient(base_url=ingest.url, headers=key) as client:
        # Three phone views by three prospects, one of them a double-click (counts once).
        for viewer in ("p1", "p2", "p3", "p3"):
            r = await client.get("/px.gif", params={"asset": "pricing-sheet", "viewer": viewer},
                                 headers={"user-agent": UA_IPHONE})
            assert r.status_code == 200 and r.content[:6] == b"GIF89a" and len(r.content) == 43
        # p1 also viewed on a tablet two minutes earlier (one viewer, two devices), and
        # an anonymous desktop view.
        earlier = (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()
        r = await client.post("/v1/events", json={"events": [
            {"type": "view", "asset_id": "pricing-sheet", "viewer_id": "p1",
             "occurred_at": earlier}]}, headers={"user-agent": UA_IPAD})
        assert r.status_code == 202
        await client.get("/px.gif", params={"asset": "pricing-sheet"},
                         headers={"user-agent": UA_DESKTOP})
        # A beacon view with two dwell slices on desktop.
        beacon = {"events": [
            {"type": "view", "asset_id": "pricing-sheet", "event_id": str(view_id),
             "source": "beacon", "viewer_id": "rep-ann"},
        ]}
        r = await client.post("/v1/events", json=beacon, headers={"user-agent": UA_DESKTOP})
        assert r.status_code == 202 and r.json()["accepted"] == 1
        for engaged, wall in ((15000, 16000), (5000, 9000)):
            r = await client.post("/v1/events", content=httpx.Request("POST", "/", json={"events": [
                {"type": "dwell", "asset_id": "pricing-sheet", "view_id": str(view_id),
                 "engaged_ms": engaged, "wall_ms": wall, "source": "beacon"}]}).content,
                headers={"user-agent": UA_DESKTOP, "content-type": "text/plain"})
            assert r.status_code == 202
        # Two downloads from a phone.
        for viewer in ("p1", "p2"):
            r = await client.get("/d/pricing-sheet", params={"viewer": viewer},
                                 headers={"user-agent": UA_IPHONE})
            assert r.status_code == 302
            assert r.headers["location"] == "https://cdn.example.com/pricing-sheet.pdf"

    usage = await eventually(lambda: stack.usage("pricing-sheet"),
                             lambda u: u["views"] == 6 and u["downloads"] == 2
                             and u["dwell"]["engaged_ms_total"] == 20000)
    # p1, p2, p3, the anonymous desktop hash and rep-ann: p1 counts once across devices.
    assert usage["unique_viewers"] == 5
    assert usage["dwell"] == {
        "engaged_ms_total": 20000, "wall_ms_total": 25000,
        "median_engaged_ms_per_view": 20000, "views_with_dwell": 1, "views_without_dwell": 5,
    }
    devices = {d["device_class"]: d for d in usage["devices"]}
    assert devices["phone"]["views"] == 3 and devices["phone"]["unique_viewers"] == 3
    assert devices["phone"]["downloads"] == 2
    assert devices["tablet"]["views"] == 1 and devices["tablet"]["unique_viewers"] == 1
    assert devices["desktop"]["views"] == 2 and devices["desktop"]["engaged_ms"] == 20000
    assert devices["phone"]["share_of_views"] == pytest.approx(0.5)


async def test_bots_are_kept_out_of_counts_and_kept_with_their_reason(stack: Stack) -> None:
    await stack.add_asset("case-study")
    await stack.ratings()
    key = await _integration(stack)
    ingest = await stack.ingest()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url, headers=key) as client:
        for _ in range(3):
            r = await client.get("/px.gif", params={"asset": "case-study"},
                                 headers={"user-agent": UA_GOOGLEBOT})
            assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
        await client.get("/px.gif", params={"asset": "case-study", "viewer": "real"},
                         headers={"user-agent": UA_DESKTOP})
        r = await client.post("/v1/events", json={"events": [
            {"type": "view", "asset_id": "case-study", "user_agent": UA_GOOGLEBOT}]})
        assert r.status_code == 202 and r.json() == {"accepted": 0, "filtered_as_bot": 1,
                                                     "filtered_as_suspect": 0}

    usage = await eventually(lambda: stack.usage("case-study"), lambda u: u["views"] == 1)
    assert [d["device_class"] for d in usage["devices"]] == ["desktop"]

    result = await eventually(stack.rejected_summary, lambda s: s["total"] == 4)
    assert result["by_reason"] == {"bot": 4}
    # A moment later the bot hits still have not counted.
    assert (await stack.usage("case-study"))["views"] == 1


async def test_do_not_track_counts_the_view_but_not_the_viewer(stack: Stack) -> None:
    await stack.add_asset("deck")
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        await client.get("/px.gif", params={"asset": "deck", "viewer": "p9"},
                         headers={"user-agent": UA_DESKTOP, "dnt": "1"})
        await client.get("/px.gif", params={"asset": "deck"},
                         headers={"user-agent": UA_IPHONE, "sec-gpc": "1"})
    usage = await eventually(lambda: stack.usage("deck"), lambda u: u["views"] == 2)
    assert usage["unique_viewers"] == 0


async def test_batch_api_is_all_or_nothing_with_an_error_per_item(stack: Stack) -> None:
    await stack.add_asset("blog-post", type="blog_post")
    await stack.ratings()
    key = await _integration(stack)
    ingest = await stack.ingest()
    await stack.aggregator()
    now = datetime.now(timezone.utc)
    async with httpx.AsyncClient(base_url=ingest.url,
                                 headers={**key, "user-agent": UA_DESKTOP}) as client:
        r = await client.post("/v1/events", json={"events": [
            {"type": "view", "asset_id": "blog-post"},
            {"type": "view", "asset_id": "no-such-asset"},
            {"type": "dwell", "asset_id": "blog-post"},
            {"type": "view", "asset_id": "blog-post", "occurred_at": (now + timedelta(hours=1)).isoformat()},
            {"type": "view", "asset_id": "blog-post", "colour": "red"},
        ]})
        assert r.status_code == 422
        errors = {e["index"]: e for e in r.json()["errors"]}
        assert sorted(errors) == [1, 2, 3, 4]
        assert errors[1]["reason"] == "unknown_asset"
        assert "engaged_ms" in errors[2]["message"]
        assert "future" in errors[3]["message"]
        assert "colour" in errors[4]["message"]

        too_many = {"events": [{"type": "view", "asset_id": "blog-post"}] * 1001}
        assert (await client.post("/v1/events", json=too_many)).status_code == 422
        huge = b'{"events": [' + b" " * 1_100_000 + b"]}"
        r = await client.post("/v1/events", content=huge)
        assert r.status_code == 413 and "larger than" in r.json()["detail"]
        assert (await client.post("/v1/events", content=b"{not json")).status_code == 422

        r = await client.post("/v1/events", json={"events": [
            {"type": "view", "asset_id": "blog-post", "viewer_id": "v1"},
            {"type": "download", "asset_id": "blog-post", "viewer_id": "v1"},
        ]})
        assert r.status_code == 202 and r.json()["accepted"] == 2

    usage = await eventually(lambda: stack.usage("blog-post"), lambda u: u["downloads"] == 1)
    assert usage["views"] == 1  # nothing from the rejected batch was published


async def test_a_reload_within_30_seconds_is_one_view_and_keeps_all_its_time(stack: Stack) -> None:
    await stack.add_asset("webinar", type="video")
    await stack.ratings()
    key = await _integration(stack)
    ingest = await stack.ingest()
    await stack.aggregator()
    first, reload = uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(base_url=ingest.url, headers=key) as client:
        for view_id, engaged in ((first, 4000), (reload, 6000)):
            r = await client.post("/v1/events", headers={"user-agent": UA_DESKTOP}, json={"events": [
                {"type": "view", "asset_id": "webinar", "event_id": str(view_id),
                 "viewer_id": "p1", "source": "beacon"},
                {"type": "dwell", "asset_id": "webinar", "view_id": str(view_id),
                 "engaged_ms": engaged, "wall_ms": engaged, "source": "beacon"}]})
            assert r.status_code == 202
    usage = await eventually(lambda: stack.usage("webinar"),
                             lambda u: u["dwell"]["engaged_ms_total"] == 10000)
    assert usage["views"] == 1
    assert usage["dwell"]["views_with_dwell"] == 1
    assert usage["dwell"]["views_without_dwell"] == 0
    assert usage["dwell"]["median_engaged_ms_per_view"] == 4000
