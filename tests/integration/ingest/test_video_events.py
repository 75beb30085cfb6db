"""Video events at the edge (POST /v1/events, as t.js sends them: text/plain, source beacon)
on the real broker and PostgreSQL: the play and watch fields are checked strictly (a clear
422 naming the field), accepted ones reach ``events`` with their fields, and they take the
edge's other rules: bots, the catalog, rate limits, a share-link open's visit as view_id."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from harness.db import fetch
from harness.stack import Stack, consume_all, eventually
from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT
from shared.events import DeviceClass, EventEnvelope, Source
from shared.share_links import new_link_id

ASSET = "demo-video"
SENT_BY = {"x-forwarded-for": "198.51.100.50", "user-agent": UA_DESKTOP,
           "content-type": "text/plain"}
HALF = "f" * 12 + "c" + "0" * 12  # buckets 0..49


def _play(**fields: Any) -> dict[str, Any]:
    return {"type": "play", "asset_id": ASSET, "source": "beacon", "event_id": str(uuid.uuid4()),
            "view_id": str(uuid.uuid4()), "duration_ms": 60_000, **fields}


def _watch(play: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"type": "watch", "asset_id": ASSET, "source": "beacon",
            "event_id": str(uuid.uuid4()), "view_id": play["view_id"],
            "play_id": play["event_id"], "media_ms": 15_000, "duration_ms": 60_000,
            "watched": HALF, **fields}


def _without(item: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != name}


async def _post(client: httpx.AsyncClient, *items: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/events", content=json.dumps({"events": list(items)}))


async def test_video_fields_are_checked_strictly_and_accepted_ones_reach_the_topic(
    stack: Stack,
) -> None:
    await stack.add_asset(ASSET, type="video")
    ingest = await stack.ingest()
    play = _play()
    watch = _watch(play)
    refused = [
        (_without(watch, "play_id"), "a watch event needs play_id"),
        (_without(watch, "media_ms"), "a watch event needs media_ms"),
        (_without(watch, "duration_ms"), "a watch event needs duration_ms"),
        (_without(watch, "watched"), "a watch event needs watched"),
        (_without(_without(watch, "watched"), "media_ms"),
         "a watch event needs media_ms, watched"),
        ({**watch, "watched": "F" * 25}, "watched: String should match pattern"),
        ({**watch, "watched": "f" * 26}, "watched: String should match pattern"),
        ({**watch, "watched": "f" * 24}, "watched: String should match pattern"),
        ({**watch, "media_ms": -1}, "media_ms: Input should be greater than or equal to 0"),
        ({**watch, "media_ms": 3_600_001}, "media_ms: Input should be less than or equal"),
        ({**watch, "play_id": "not-a-uuid"}, "play_id: Input should be a valid UUID"),
        ({**play, "duration_ms": 0}, "duration_ms: Input should be greater than or equal to 1"),
        ({**play, "duration_ms": 86_400_001}, "duration_ms: Input should be less than or equal"),
        ({**play, "media_ms": 5}, "play_id, media_ms, watched belong to watch events only"),
        ({**play, "watched": HALF}, "belong to watch events only"),
        ({**play, "play_id": play["event_id"]}, "belong to watch events only"),
        ({**play, "engaged_ms": 5}, "engaged_ms and wall_ms belong to dwell events only"),
        ({**watch, "wall_ms": 5}, "engaged_ms and wall_ms belong to dwell events only"),
        ({"type": "view", "asset_id": ASSET, "source": "beacon", "duration_ms": 5},
         "duration_ms belongs to play and watch events only"),
        ({"type": "dwell", "asset_id": ASSET, "source": "beacon", "engaged_ms": 5,
          "media_ms": 5}, "belong to watch events only"),
        ({**watch, "coverage": "0" * 25}, "coverage: Extra inputs are not permitted"),
    ]
    async with httpx.AsyncClient(base_url=ingest.url, headers=SENT_BY) as client:
        for item, message in refused:
            r = await _post(client, item)
            assert r.status_code == 422, (item, r.text)
            [error] = r.json()["errors"]
            assert error["reason"] == "invalid" and message in error["message"], (item, error)
        # All or nothing: a good play beside a bad slice publishes neither.
        r = await _post(client, play, _without(watch, "watched"))
        assert r.status_code == 422 and [e["index"] for e in r.json()["errors"]] == [1]

        slices = [watch, _watch(play, media_ms=0, watched="f" * 25, duration_ms=61_000)]
        r = await _post(client, play, *slices)
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": 3, "filtered_as_bot": 0, "filtered_as_suspect": 0}
        # A play of unknown length is fine.
        unknown_length = _without(_play(), "duration_ms")
        assert (await _post(client, unknown_length)).status_code == 202

    records = await consume_all(stack.settings.kafka_bootstrap_servers,
                                stack.settings.topics.events.name, expect=4)
    events = {str(e.event_id): e for e in
              (EventEnvelope.model_validate_json(r.value) for r in records)}
    assert set(events) == {play["event_id"], *(s["event_id"] for s in slices),
                           unknown_length["event_id"]}
    assert all(r.key == ASSET.encode() for r in records)
    started = events[play["event_id"]]
    assert (started.type, started.source, started.duration_ms) == ("play", Source.BEACON, 60_000)
    assert str(started.view_id) == play["view_id"] and started.device.device_class is \
        DeviceClass.DESKTOP
    assert started.play_id is None and started.media_ms is None and started.watched is None
    assert started.viewer_id  # the anonymous daily hash, as for any beacon
    for sent in slices:
        got = events[sent["event_id"]]
        assert got.type == "watch" and str(got.play_id) == play["event_id"]
        assert str(got.view_id) == play["view_id"]
        assert (got.media_ms, got.duration_ms, got.watched) == (
            sent["media_ms"], sent["duration_ms"], sent["watched"])
    assert events[unknown_length["event_id"]].duration_ms is None


async def test_video_events_take_the_edges_rules_and_a_share_opens_visit(stack: Stack) -> None:
    await stack.add_asset(ASSET, type="video")
    await stack.ratings()
    creator, _ = await stack.user("rep@example.com", "sales", "Riley Rep")
    link_id = new_link_id()
    await fetch(stack.settings,
                "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, created_at) "
                "VALUES ($1, $2, $3, 'pat@prospect.example', now() - interval '1 minute')",
                link_id, ASSET, creator)
    ingest = await stack.ingest()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url, headers=SENT_BY) as client:
        # A crawler's play is filtered, and the batch accepted.
        r = await client.post("/v1/events", content=json.dumps({"events": [_play()]}),
                              headers={"user-agent": UA_GOOGLEBOT})
        assert r.status_code == 202 and r.json()["filtered_as_bot"] == 1
        # An asset the catalog does not know is the client's error.
        r = await _post(client, _watch(_play(), asset_id="no-such-video"))
        assert r.status_code == 422 and r.json()["errors"][0]["reason"] == "unknown_asset"

        # The page a share link opened names the open as its view: so do its video events.
        opened = await client.get(f"/s/{link_id}", headers={"content-type": ""})
        assert opened.status_code == 302, opened.text
        [visit] = parse_qs(urlsplit(opened.headers["location"]).query)["gb_visit"]
        play = _play(view_id=visit)
        r = await _post(client, play, _watch(play))
        assert r.status_code == 202 and r.json()["accepted"] == 2

    [row] = await eventually(
        lambda: fetch(stack.settings, "SELECT play_id, view_id, watched_ms, "
                                      "bit_count(watched) AS buckets FROM video_plays"),
        lambda rows: len(rows) == 1)
    assert (str(row["play_id"]), str(row["view_id"])) == (play["event_id"], visit)
    assert (row["watched_ms"], row["buckets"]) == (15_000, 50)
    # The open is the visit's one view; the play and its slice add no views and no dwell.
    [link_visit] = await fetch(stack.settings, "SELECT event_id, engaged_ms FROM link_visits")
    assert str(link_visit["event_id"]) == visit and link_visit["engaged_ms"] == 0
    usage = await eventually(lambda: stack.usage(ASSET), lambda u: u["views"] == 1)
    assert usage["dwell"]["engaged_ms_total"] == 0
    summary = await eventually(stack.rejected_summary, lambda s: s["total"] == 1)
    assert summary["by_reason"] == {"bot": 1}


async def test_video_events_spend_the_clients_beacon_limit(stack: Stack) -> None:
    stack.settings = stack.settings.model_copy(update={"rate_limit_beacon": "3/minute"})
    await stack.add_asset(ASSET, type="video")
    ingest = await stack.ingest()
    play = _play()
    async with httpx.AsyncClient(base_url=ingest.url, headers=SENT_BY) as client:
        assert (await _post(client, play, _watch(play), _watch(play))).status_code == 202
        r = await _post(client, _watch(play))
        assert r.status_code == 429 and r.json()["limit"] == "beacon"
