"""Hostile records among valid ones on the real broker and PostgreSQL: each goes to the
dead-letter topic, every valid event around them counts exactly once, and both aggregator
groups' lag returns to zero (their committed offsets reach the end of every partition)."""

from __future__ import annotations

import json
import random

from harness.db import fetchval, refuse_rows
from harness.events import NOW, make_events
from harness.hostile import pick
from harness.lag import lag_is_zero
from harness.stack import Stack, consume_all, eventually
from shared.kafka import make_broker, publish_keyed


def hostile(i: int) -> bytes:
    """One of many kinds of bad record, by ``i``: bad JSON, wrong types, overflowing and
    absurd dates, huge fields, deep nesting, NUL bytes, lone surrogates."""
    view = {"type": "view", "asset_id": "hostile", "source": "pixel",
            "occurred_at": NOW.isoformat(), "viewer_id": f"h{i}"}
    cases: list[object] = [
        b"\x00not json", b"{", b"null", b"[]", b"\xff\xfe", b"",
        {**view, "occurred_at": "0001-01-01T00:00:00+01:00"},
        {**view, "occurred_at": "9999-12-31T23:59:59-01:00"},
        {**view, "occurred_at": "1970-01-01T00:00:00Z"},
        {**view, "received_at": "0001-01-01T00:00:00+14:00"},
        {**view, "asset_id": 7}, {**view, "page": 2**70}, {**view, "stars": "x"},
        {**view, "viewer_id": "x" * 200_000}, {**view, "viewer_id": "a\x00b"},
        {**view, "device": json.loads("[" * 300 + "]" * 300)},
        ("[" * 20_000 + "]" * 20_000).encode(),
        {**view, "viewer_id": "\ud800"},
    ]
    return pick(cases, i)


def hostile_rejection(i: int) -> bytes:
    cases: list[object] = [
        b"\x00", b"{", {"reason": "nope"}, {"reason": "bot", "received_at": "0001-01-01T00:00:00+01:00"},
        {"reason": "bot", "payload": {"ua": "\ud800"}}, {"reason": "bot", "detail": "x" * 10_000},
        {"reason": "bot", "payload": {"k": "\x00"}},
    ]
    return pick(cases, i)


async def test_hostile_records_are_dead_lettered_and_every_valid_event_counts_once(
    stack: Stack,
) -> None:
    await stack.add_asset("hostile")
    await stack.ratings()
    await stack.aggregator()
    settings = stack.settings
    valid = make_events("hostile", 120)
    bad = [hostile(i) for i in range(300)]
    mixed: list[bytes] = [e.model_dump_json().encode() for e in valid] + bad
    random.Random(11).shuffle(mixed)
    rejections = [hostile_rejection(i) for i in range(70)]
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        await publish_keyed(broker, settings.topics.events.name, [("hostile", v) for v in mixed])
        await publish_keyed(broker, settings.topics.events_rejected.name,
                            [("hostile", v) for v in rejections])
    finally:
        await broker.stop()

    usage = await eventually(lambda: stack.usage("hostile"), lambda u: u["views"] == 120,
                             timeout=30)
    assert usage["unique_viewers"] == 120
    assert usage["dwell"]["engaged_ms_total"] == 30 * 1000
    await lag_is_zero(settings, settings.topics.group_aggregator, settings.topics.events.name,
                      len(mixed))
    await lag_is_zero(settings, settings.topics.group_rejected_store,
                      settings.topics.events_rejected.name, len(rejections))
    assert await fetchval(settings, "SELECT count(*) FROM events") == len(valid)
    # Every bad record once, with its reason and origin; the NUL in a rejection's payload
    # is scrubbed and stored, so that one is no dead letter.
    expected_dead = 300 + sum(1 for i in range(70) if i % 7 != 6)
    dead = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events_dlq.name,
                             expect=expected_dead + 1, timeout=2)
    assert len(dead) == expected_dead
    headers = [dict(r.headers) for r in dead]
    assert all(h["x-dlq-reason"] for h in headers)
    assert sum(h["x-source-topic"] == settings.topics.events.name.encode() for h in headers) == 300
    reasons = [h["x-dlq-reason"].decode() for h in headers]
    assert sum("occurred_at" in r and "out of range" in r for r in reasons) == 3 * 300 // 18 + 1
    # Every hostile record is also kept as a rejection with its reason, once.
    assert await fetchval(settings, "SELECT count(*) FROM rejected_events") == 300 + 70


async def test_a_rejection_the_database_refuses_is_isolated_and_the_rest_are_kept(
    stack: Stack,
) -> None:
    settings = stack.settings
    await refuse_rows(stack.settings, "rejected_events", "detail", "poisoned rejection")
    await stack.aggregator()
    bodies = [json.dumps({"reason": "bot", "detail": d, "asset_id": "a"}).encode()
              for d in ("crawler", "crawler", "poison", "crawler")]
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        await publish_keyed(broker, settings.topics.events_rejected.name,
                            [("a", v) for v in bodies])
    finally:
        await broker.stop()
    await lag_is_zero(settings, settings.topics.group_rejected_store,
                      settings.topics.events_rejected.name, len(bodies))
    assert await fetchval(settings, "SELECT count(*) FROM rejected_events") == 3
    [dead] = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events_dlq.name,
                               expect=2, timeout=2)
    assert dead.value == bodies[2]
    assert "poisoned rejection" in dict(dead.headers)["x-dlq-reason"].decode()
