"""Content scores end to end: hits and ratings in, the score list, its CSV and the SSE
stream out, with figures computed by hand (docs/scoring.md)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from prometheus_client import REGISTRY

from harness.sse import SseEvent, open_stream
from harness.stack import Stack, eventually
from harness.user_agents import UA_IPHONE


async def hit(ingest_url: str, asset_id: str, viewers: list[str]) -> None:
    async with httpx.AsyncClient(base_url=ingest_url) as client:
        for viewer in viewers:
            r = await client.get("/px.gif", params={"asset": asset_id, "viewer": viewer},
                                 headers={"user-agent": UA_IPHONE})
            assert r.status_code == 200


def latest_by_asset(events: list[SseEvent]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        assert event.event == "score"
        state = event.json()
        assert event.id == str(state["revision"])
        if state["revision"] > latest.get(state["asset_id"], {}).get("revision", 0):
            latest[state["asset_id"]] = state
    return latest


def score_of(states: dict[str, dict[str, Any]], asset_id: str, window: str = "90d") -> Any:
    return states.get(asset_id, {}).get("scores", {}).get(window, {}).get("score")


async def test_hits_and_a_rating_reach_the_list_csv_and_stream_with_hand_computed_scores(
    stack: Stack,
) -> None:
    for asset_id, asset_type in (("sheet-a", "product_sheet"), ("sheet-b", "product_sheet"),
                                 ("story-c", "case_study")):
        await stack.add_asset(asset_id, type=asset_type, owner_email="olga@example.com")
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    _, rep_token = await stack.user("rep@example.com", "sales")

    async with await stack.client("executive") as reader:
        async with open_stream(reader, "/v1/scores/stream",
                               params={"type": "product_sheet"}) as stream:
            await hit(ingest.url, "sheet-a", ["a1", "a2", "a3"])
            await hit(ingest.url, "sheet-b", ["b1"])
            await hit(ingest.url, "story-c", ["c1"])
            events = await stream.events_until(
                lambda seen: latest_by_asset(seen).get("sheet-a", {}).get("totals", {})
                .get("views") == 3 and score_of(latest_by_asset(seen), "sheet-b") is not None
                and latest_by_asset(seen)["sheet-b"]["totals"]["views"] == 1)
            states = latest_by_asset(events)
            # The filter holds: the case study never comes down a product_sheet stream.
            assert set(states) == {"sheet-a", "sheet-b"}
            # No ratings anywhere: prior 3.0, rating part 0.5. sheet-a beats sheet-b on
            # viewer-days; neither has time on page or downloads, and a zero scores 0:
            # (1 + 0 + 0) / 3. 100 x (0.6 x 0.5 + 0.4 x 1/3) = 43.3 -> 43; sheet-b: 30.
            a = states["sheet-a"]["scores"]["90d"]
            assert (a["score"], a["views"], a["viewer_days"], a["bayesian_average"]) == (43, 3, 3, 3.0)
            assert (a["viewers_percentile"], a["engagement_part"], a["peers"]) == (1.0, 0.3333, 1)
            assert score_of(states, "sheet-b") == 30
            assert set(states["sheet-a"]["scores"]) == {"7d", "30d", "90d", "120d"}
            assert states["sheet-a"]["owner_email"] == "olga@example.com"
            assert states["sheet-a"]["weekly_views"] == [3, 0, 0, 0, 0]
            assert (a["previous_score"], a["trend"], a["previous_views"]) == (None, "flat", 0)

            # One 5-star rating: the catalog prior becomes 5.0, so every asset is
            # rescored, sheet-b too (a peer, never touched by the rating): rating part 1.
            # sheet-a 100 x (0.6 + 0.4/3) = 73; sheet-b 60; story-c (alone: viewers 0.5)
            # 100 x (0.6 + 0.4 x 0.5/3) = 66.7 -> 67.
            async with httpx.AsyncClient(base_url=reader.base_url,
                                         headers={"authorization": f"Bearer {rep_token}"}) as rep:
                r = await rep.put("/v1/assets/sheet-a/rating", json={"stars": 5})
                assert r.status_code == 200, r.text
            events = await stream.events_until(
                lambda seen: score_of(latest_by_asset(seen), "sheet-a") == 73
                and score_of(latest_by_asset(seen), "sheet-b") == 60)
            a = latest_by_asset(events)["sheet-a"]["scores"]["90d"]
            assert (a["bayesian_average"], a["rating_count"], a["positive_ratings"]) == (5.0, 1, 1)
            assert a["wilson_lower_bound"] == 0.2065

        listed = (await reader.get("/v1/scores", params={"window": "90d"})).json()
        assert [(i["asset_id"], i["scores"]["90d"]["score"]) for i in listed["items"]] == [
            ("sheet-a", 73), ("story-c", 67), ("sheet-b", 60)]
        assert listed["total"] == 3 and listed["revision"] >= max(
            i["revision"] for i in listed["items"])
        page = (await reader.get("/v1/scores", params={"limit": 1, "offset": 1,
                                                        "sort": "-views"})).json()
        assert [i["asset_id"] for i in page["items"]] == ["sheet-b"] and page["total"] == 3
        by_owner = (await reader.get("/v1/scores", params={"owner": "OLGA@example.com",
                                                            "type": "case_study"})).json()
        assert [i["asset_id"] for i in by_owner["items"]] == ["story-c"]

        exported = await reader.get("/v1/scores.csv", params={"window": "90d"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [(r["asset_id"], r["score"], r["views"]) for r in rows] == [
            ("sheet-a", "73", "3"), ("story-c", "67", "1"), ("sheet-b", "60", "1")]


async def test_stream_resumes_after_last_event_id_and_keeps_the_connection_alive(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={"sse_heartbeat_seconds": 0.3})
    await stack.add_asset("deck-x", type="deck")
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    await hit(ingest.url, "deck-x", ["x1"])

    async with await stack.client("sales") as reader:
        # Connecting fresh: the current state first.
        async with open_stream(reader, "/v1/scores/stream", params={"asset": "deck-x"}) as stream:
            first = await eventually(lambda: stream.next_event(timeout=10),
                                     lambda e: e.json()["totals"]["views"] >= 1)
        seen = int(first.id or 0)
        await hit(ingest.url, "deck-x", ["x2", "x3"])
        await eventually(lambda: reader.get("/v1/scores"),
                         lambda r: r.json()["items"][0]["totals"]["views"] == 3)
        # Reconnecting with Last-Event-ID: only what is newer than it, then live.
        clients_before = REGISTRY.get_sample_value("glassboard_sse_clients") or 0.0
        async with open_stream(reader, "/v1/scores/stream", params={"asset": "deck-x"},
                               headers={"Last-Event-ID": str(seen)}) as stream:
            resumed = await stream.next_event()
            # /metrics counts the open stream.
            assert REGISTRY.get_sample_value("glassboard_sse_clients") == clients_before + 1
            assert int(resumed.id or 0) > seen and resumed.json()["totals"]["views"] == 3
            await hit(ingest.url, "deck-x", ["x4"])
            live = await stream.next_event()
            assert int(live.id or 0) > int(resumed.id or 0)
            assert live.json()["totals"]["views"] == 4
            heartbeats = [c for c in await stream.quiet_for(1.0) if c.startswith("ping")]
            assert len(heartbeats) >= 2, stream.comments


async def test_bad_requests_are_refused_with_a_reason_and_the_asyncapi_document_is_served(
    stack: Stack,
) -> None:
    await stack.ratings()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.ratings_port}") as anon:
        assert (await anon.get("/v1/scores")).status_code == 401
        assert (await anon.get("/v1/scores/stream")).status_code == 401
        spec = (await anon.get("/asyncapi.json")).json()
    channel = f"{stack.settings.topic_prefix}asset-scores"
    assert channel in spec["channels"]
    assert "AssetScoreUpdate" in spec["components"]["schemas"]
    assert "WindowScore" in spec["components"]["schemas"]
    async with await stack.client("sales") as reader:
        for params in ({"sort": "bogus"}, {"window": "5d"}, {"limit": 0}, {"stale_days": 0},
                       {"type": "podcast"}):
            r = await reader.get("/v1/scores", params=params)
            assert r.status_code == 422, (params, r.text)
            assert r.json()["detail"][0]["loc"][-1] in params
