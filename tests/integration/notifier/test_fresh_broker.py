"""A fresh broker under an old database: positions the notifier stored in PostgreSQL that
lie beyond a partition's end are reset (one WARNING each) and nothing new is skipped;
real positions are kept, also when tansu reports an end below them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from harness import notifier as nh
from harness.db import fetch, fetchval
from harness.notifier import SmtpServer
from harness.stack import Stack, eventually
from shared.kafka import make_broker, publish_keyed

BEYOND = "lies beyond its end"


async def test_positions_beyond_the_end_of_a_fresh_topic_are_reset_and_nothing_is_skipped(
    stack: Stack, smtp: SmtpServer, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = nh.for_notifier(stack.settings, smtp.port)
    topics = settings.topics
    # What an old database holds under a new, empty broker: positions far past the end.
    await fetch(settings, "INSERT INTO notifier_offsets (group_id, topic, partition, next_offset) "
                          "SELECT $1, t, p, 500 FROM unnest($2::text[]) t, "
                          "generate_series(0, 5) p",
                topics.group_notifier, [topics.asset_scores.name, topics.events.name])
    caplog.set_level(logging.WARNING, logger="services.notifier.consumer")
    await nh.start_notifier(stack, settings)
    await nh.publish_scores(settings, [nh.score_state("pitch-deck", 1, **nh.HEALTHY),
                                    nh.score_state("pitch-deck", 2, **nh.DROPPED)])
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
    assert await fetchval(settings, "SELECT revision FROM alert_asset_state") == 2
    resets = [r for r in caplog.records if BEYOND in r.getMessage()]
    assert len(resets) == 12  # once per partition, at WARNING
    assert {r.levelname for r in resets} == {"WARNING"}
    rows = await fetch(settings, "SELECT max(next_offset) AS m FROM notifier_offsets")
    assert rows[0]["m"] < 500


async def test_real_positions_are_kept_when_the_broker_reports_a_lower_end(
    stack: Stack, smtp: SmtpServer, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = nh.for_notifier(stack.settings, smtp.port)
    await stack.add_asset("pitch-deck", title="Pitch Deck")
    notifier = await nh.start_notifier(stack, settings)
    states = [nh.score_state("pitch-deck", 1, **nh.HEALTHY),
              *(nh.score_state("pitch-deck", r, **nh.DROPPED) for r in range(2, 31))]
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:  # all at once: one producer batch, whose end tansu reports as its base + 1
        await publish_keyed(broker, settings.topics.asset_scores.name,
                            [(u.asset_id, u.model_dump_json().encode()) for u in states])
    finally:
        await broker.stop()
    await eventually(lambda: fetchval(settings, "SELECT sum(next_offset) FROM notifier_offsets"),
                     lambda total: total == 30)
    await stack.stop(notifier)
    caplog.set_level(logging.INFO, logger="services.notifier.consumer")
    await nh.start_notifier(stack, settings)
    await eventually(lambda: asyncio.sleep(0, [r.getMessage() for r in caplog.records]),
                     lambda messages: any("0 were reset" in m for m in messages))
    assert not [r for r in caplog.records if BEYOND in r.getMessage()]
    assert await fetchval(settings, "SELECT sum(next_offset) FROM notifier_offsets") == 30
    assert await fetchval(settings, "SELECT count(*) FROM alerts") == 1
