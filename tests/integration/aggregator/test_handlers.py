"""The aggregator's event handlers on the real broker: at-least-once in, exactly-once
applied, dead letters for what cannot be applied, the latest totals out."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

from aiokafka import AIOKafkaConsumer

from harness.db import event_rows, refuse_rows
from harness.events import NOW, make_events, publish, publish_raw
from harness.stack import Stack, consume_all, eventually
from shared.events import EventEnvelope, Source
from shared.kafka import group_options


async def test_the_same_batch_delivered_twice_is_counted_once(stack: Stack) -> None:
    await stack.add_asset("datasheet")
    await stack.ratings()
    await stack.aggregator()
    events = make_events("datasheet", 40)
    await publish(stack.settings, events)
    await publish(stack.settings, events)  # a producer retry: same event_ids again
    usage = await eventually(lambda: stack.usage("datasheet"), lambda u: u["views"] == 40)
    # Wait until both copies were consumed, then check nothing moved.
    dwell_total = 10 * 1000
    await eventually(lambda: event_rows(stack.settings), lambda n: n == len(events))
    await asyncio.sleep(1.0)
    usage = await stack.usage("datasheet")
    assert usage["views"] == 40 and usage["unique_viewers"] == 40
    assert usage["dwell"]["engaged_ms_total"] == dwell_total


async def test_replaying_the_whole_topic_from_offset_zero_changes_nothing(stack: Stack) -> None:
    await stack.add_asset("video-demo", type="video")
    await stack.ratings()
    aggregator = await stack.aggregator()
    events = make_events("video-demo", 30)
    await publish(stack.settings, events)
    before = await eventually(lambda: stack.usage("video-demo"), lambda u: u["views"] == 30)
    await stack.stop(aggregator)

    # Rewind the group's committed offsets to 0, as an operator would with
    # kafka-consumer-groups --reset-offsets: every event is delivered again.
    topic = stack.settings.topics.events.name
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack.settings.kafka_bootstrap_servers,
                                group_id=stack.settings.topics.group_aggregator,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                **group_options(stack.settings.kafka_session_timeout_ms))
    await consumer.start()
    try:
        while len(consumer.assignment()) < stack.settings.topics.events.partitions:
            await consumer.getmany(timeout_ms=200)
        await consumer.commit({tp: 0 for tp in consumer.assignment()})
    finally:
        await consumer.stop()

    scores_before = len(await consume_all(stack.settings.kafka_bootstrap_servers,
                                          stack.settings.topics.asset_scores.name, expect=1))
    await stack.aggregator()
    # The replay is visible: the aggregator re-publishes the asset's (unchanged) state.
    await eventually(
        lambda: consume_all(stack.settings.kafka_bootstrap_servers,
                            stack.settings.topics.asset_scores.name, expect=scores_before + 1,
                            timeout=2),
        lambda records: len(records) > scores_before, timeout=30)
    after = await stack.usage("video-demo")
    assert after == before


async def test_aggregator_killed_mid_stream_and_restarted_gives_exact_counts(stack: Stack) -> None:
    await stack.add_asset("battlecard", type="other")
    await stack.ratings()
    settings = stack.settings
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "KAFKA_TOPIC_PREFIX": settings.topic_prefix, "AGGREGATOR_MAX_RECORDS": "200",
           "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "services.cli", "aggregator"]
    first = subprocess.Popen(command, env=env)
    try:
        waves = [make_events("battlecard", 400, viewer_prefix=f"w{w}-") for w in range(3)]
        await publish(settings, waves[0])
        # Kill it (no graceful anything) once it has applied part of the stream.
        await eventually(lambda: event_rows(settings), lambda n: n > 0, timeout=30, interval=0.02)
        await publish(settings, waves[1])
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        partial = await event_rows(settings)
        assert 0 < partial < sum(map(len, waves))
        await publish(settings, waves[2])
        second = subprocess.Popen(command, env=env)
        try:
            usage = await eventually(lambda: stack.usage("battlecard"),
                                     lambda u: u["views"] >= 1200, timeout=60)
            await asyncio.sleep(1.0)
            usage = await stack.usage("battlecard")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert usage["views"] == 1200 and usage["unique_viewers"] == 1200
    assert usage["dwell"]["engaged_ms_total"] == 3 * 100 * 1000
    assert await event_rows(settings) == sum(map(len, waves))


async def test_invalid_messages_go_to_the_dead_letter_topic_and_valid_ones_still_count(
    stack: Stack,
) -> None:
    await stack.add_asset("one-pager")
    await stack.ratings()
    await stack.aggregator()
    good = make_events("one-pager", 5)
    await publish(stack.settings, good[:3])
    await publish_raw(stack.settings, [b"\x00not json at all",
                                       json.dumps({"type": "view", "asset_id": "one-pager"}).encode()],
                      key="one-pager")
    await publish(stack.settings, good[3:])

    usage = await eventually(lambda: stack.usage("one-pager"), lambda u: u["views"] == 5)
    assert usage["views"] == 5
    dead = await consume_all(stack.settings.kafka_bootstrap_servers,
                             stack.settings.topics.events_dlq.name, expect=2)
    assert len(dead) == 2
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in dead]
    assert any("Invalid JSON" in r for r in reasons)
    assert any("occurred_at" in r and "source" in r for r in reasons)
    assert dead[0].value == b"\x00not json at all"

    summary = await stack.rejected_summary()
    assert summary["by_reason"] == {"invalid": 2}


async def test_each_batch_publishes_the_latest_totals_keyed_by_asset(stack: Stack) -> None:
    await stack.add_asset("roi-calculator", type="other")
    await stack.aggregator()
    await publish(stack.settings, make_events("roi-calculator", 12))
    records = await eventually(
        lambda: consume_all(stack.settings.kafka_bootstrap_servers,
                            stack.settings.topics.asset_scores.name, expect=1, timeout=2),
        lambda rs: any(json.loads(r.value)["totals"]["views"] == 12 for r in rs))
    latest = json.loads(records[-1].value)
    assert records[-1].key == b"roi-calculator"
    assert latest["asset_id"] == "roi-calculator"
    assert latest["totals"]["views"] == 12 and latest["totals"]["unique_viewers"] == 12
    assert latest["totals"]["engaged_ms"] == 3 * 1000


async def test_an_event_the_database_refuses_is_isolated_and_the_rest_still_count(
    stack: Stack,
) -> None:
    await stack.add_asset("pricing")
    await stack.ratings()
    await refuse_rows(stack.settings, "events", "viewer_key", "poisoned value")
    await stack.aggregator()
    events = make_events("pricing", 6)
    poison = EventEnvelope(type="view", asset_id="pricing", viewer_id="poison", occurred_at=NOW,
                           source=Source.PIXEL)
    await publish(stack.settings, [*events[:3], poison, *events[3:]])

    usage = await eventually(lambda: stack.usage("pricing"), lambda u: u["views"] == 6)
    assert usage["unique_viewers"] == 6
    dead = await consume_all(stack.settings.kafka_bootstrap_servers,
                             stack.settings.topics.events_dlq.name, expect=1)
    assert [EventEnvelope.model_validate_json(r.value).event_id for r in dead] == [poison.event_id]
    assert "poisoned value" in dict(dead[0].headers)["x-dlq-reason"].decode()
