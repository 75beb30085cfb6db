"""Video plays on the real broker and PostgreSQL: a play and its watch slices fold into one
``video_plays`` row exactly once, whatever the order and however often they are delivered;
a slice naming another asset's play changes nothing; a bad slice is dead-lettered and
blocks nothing. Envelopes go straight onto ``events``, as ingest sends them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from harness.db import fetch
from harness.events import NOW, publish, publish_raw
from harness.lag import lag_is_zero
from harness.stack import Stack, consume_all, eventually
from services.aggregator.repo import apply_events
from services.aggregator.score_state import ScoreContext
from shared.events import Device, DeviceClass, EventEnvelope, Source

VIEW = uuid4()
BUCKETS = 100


def covering(first: int, last: int) -> str:
    """The ``watched`` field of a play that has covered buckets first..last (inclusive)."""
    return format(sum(1 << (BUCKETS - 1 - i) for i in range(first, last + 1)), "025x")


def play(asset: str, minutes_ago: float = 10, duration_ms: int | None = 60_000) -> EventEnvelope:
    return EventEnvelope(type="play", asset_id=asset, occurred_at=NOW - timedelta(
        minutes=minutes_ago), view_id=VIEW, duration_ms=duration_ms, source=Source.BEACON,
        device=Device(device_class=DeviceClass.PHONE))


def watch(started: EventEnvelope | UUID, media_ms: int, watched: str, *, asset: str | None = None,
          seconds_after: float = 20, duration_ms: int = 60_000) -> EventEnvelope:
    play_id = started.event_id if isinstance(started, EventEnvelope) else started
    at = (started.occurred_at if isinstance(started, EventEnvelope) else NOW - timedelta(
        minutes=10)) + timedelta(seconds=seconds_after)
    return EventEnvelope(type="watch", asset_id=asset or (
        started.asset_id if isinstance(started, EventEnvelope) else "demo-video"),
        occurred_at=at, view_id=VIEW, play_id=play_id, media_ms=media_ms,
        duration_ms=duration_ms, watched=watched, source=Source.BEACON,
        device=Device(device_class=DeviceClass.PHONE))


async def _plays(stack: Stack, asset: str | None = None) -> list[dict[str, Any]]:
    return await fetch(stack.settings, """
        SELECT play_id, asset_id, view_id, day, device_class, started_at, duration_ms,
               watched_ms, watched::text AS watched, bit_count(watched) AS buckets
        FROM video_plays WHERE $1::text IS NULL OR asset_id = $1 ORDER BY started_at""", asset)


async def _apply(stack: Stack, events: Sequence[EventEnvelope]) -> None:
    """One batch through apply_events in one transaction, as the handler applies it."""
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        async with conn.transaction():
            await apply_events(conn, events, [], ScoreContext(NOW.date(), 10.0))
    finally:
        await conn.close()


async def test_a_play_and_its_slices_are_one_row_and_redelivery_changes_nothing(
    stack: Stack,
) -> None:
    await stack.add_asset("demo-video", type="video")
    await stack.ratings()
    await stack.aggregator()
    started = play("demo-video")
    slices = [watch(started, 15_000, covering(0, 24)),
              watch(started, 16_000, covering(0, 49), seconds_after=40, duration_ms=61_000)]
    events = [started, *slices]
    await publish(stack.settings, events)
    [row] = await eventually(lambda: _plays(stack), lambda rows: len(rows) == 1
                             and rows[0]["watched_ms"] == 31_000)
    assert row["play_id"] == started.event_id and row["asset_id"] == "demo-video"
    assert row["view_id"] == VIEW and row["device_class"] == "phone"
    assert row["started_at"] == started.occurred_at and row["day"] == started.occurred_at.date()
    assert row["duration_ms"] == 61_000 and row["buckets"] == 50
    assert row["watched"] == "1" * 50 + "0" * 50

    await publish(stack.settings, events)  # a producer retry: the same event_ids again
    await lag_is_zero(stack.settings, stack.settings.topics.group_aggregator,
                      stack.settings.topics.events.name, 2 * len(events))
    assert await _plays(stack) == [row]
    # Plays and slices are no views, downloads or dwell.
    usage = await stack.usage("demo-video")
    assert usage["views"] == 0 and usage["downloads"] == 0
    assert usage["dwell"]["engaged_ms_total"] == 0


async def test_the_same_batch_applied_twice_and_a_slice_before_its_play(stack: Stack) -> None:
    await stack.add_asset("demo-video", type="video")
    started = play("demo-video", duration_ms=None)
    first = watch(started, 7_000, covering(0, 9), seconds_after=30, duration_ms=90_000)
    batch = [first, watch(started, 3_000, covering(0, 14), seconds_after=35,
                          duration_ms=90_000)]
    await _apply(stack, batch)
    [early] = await _plays(stack)
    # The slices made the row: it starts at the first slice, with its view and length.
    assert early["started_at"] == first.occurred_at and early["watched_ms"] == 10_000
    assert early["duration_ms"] == 90_000 and early["buckets"] == 15
    await _apply(stack, batch)  # replayed after a crash before the offsets were committed
    assert await _plays(stack) == [early]

    await _apply(stack, [started])
    [row] = await _plays(stack)
    # The play, later, moves the start back to itself and keeps the slices' length and time.
    assert row["started_at"] == started.occurred_at and row["day"] == started.occurred_at.date()
    assert row["watched_ms"] == 10_000 and row["duration_ms"] == 90_000
    assert row["buckets"] == 15 and row["view_id"] == VIEW
    await _apply(stack, [started, *batch])
    assert await _plays(stack) == [row]


async def test_a_slice_naming_another_assets_play_changes_nothing(stack: Stack) -> None:
    await stack.add_asset("demo-video", type="video")
    await stack.add_asset("other-video", type="video")
    started = play("demo-video")
    await _apply(stack, [started, watch(started, 4_000, covering(0, 3))])
    [before] = await _plays(stack)
    forged = watch(started, 60_000, covering(0, 99), asset="other-video", seconds_after=-600,
                   duration_ms=86_400_000)
    await _apply(stack, [forged])
    assert await _plays(stack) == [before]
    # A forged slice beside a real one, earlier, and without the play: the real one counts.
    await _apply(stack, [watch(started, 60_000, covering(0, 99), asset="other-video",
                               seconds_after=1),
                         watch(started, 1_000, covering(0, 7), seconds_after=30)])
    [before] = await _plays(stack)
    assert before["watched_ms"] == 5_000 and before["buckets"] == 8
    assert before["asset_id"] == "demo-video" and before["duration_ms"] == 60_000
    # Nor in the same batch as the play of a new one.
    again = play("demo-video", minutes_ago=5)
    await _apply(stack, [watch(again, 60_000, covering(0, 99), asset="other-video",
                               seconds_after=-60), again])
    rows = await _plays(stack)
    assert len(rows) == 2 and rows[1]["play_id"] == again.event_id
    assert rows[1]["asset_id"] == "demo-video" and rows[1]["watched_ms"] == 0
    assert rows[1]["buckets"] == 0
    assert await _plays(stack, "other-video") == []


async def test_a_bad_slice_is_dead_lettered_and_the_slices_after_it_still_fold(
    stack: Stack,
) -> None:
    await stack.add_asset("demo-video", type="video")
    await stack.ratings()
    await stack.aggregator()
    started = play("demo-video")
    bad = json.loads(watch(started, 5_000, covering(0, 9)).model_dump_json())
    bad["watched"] = "FFFFFFFFFFFFFFFFFFFFFFFFF"  # upper case: not the contract's pattern
    short = {**bad, "event_id": str(uuid4()), "watched": "f" * 24}
    await publish(stack.settings, [started])
    await publish_raw(stack.settings, [json.dumps(bad).encode(), json.dumps(short).encode()],
                      key="demo-video")
    await publish(stack.settings, [watch(started, 5_000, covering(0, 9))])

    [row] = await eventually(lambda: _plays(stack), lambda rows: len(rows) == 1
                             and rows[0]["watched_ms"] == 5_000)
    assert row["buckets"] == 10
    dead = await consume_all(stack.settings.kafka_bootstrap_servers,
                             stack.settings.topics.events_dlq.name, expect=2)
    assert len(dead) == 2
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in dead]
    assert all("watched" in reason for reason in reasons), reasons
    summary = await eventually(stack.rejected_summary, lambda s: s["total"] == 2)
    assert summary["by_reason"] == {"invalid": 2}
    await lag_is_zero(stack.settings, stack.settings.topics.group_aggregator,
                      stack.settings.topics.events.name, 4)
