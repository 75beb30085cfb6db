"""The notifier on the real broker and PostgreSQL: hostile records on ``asset-scores`` and
``events`` never stop it (the bad states are dead-lettered, the valid ones decided, the
lag returns to zero); owners and titles come from the catalog, never from a message."""

from __future__ import annotations

import asyncio
import json

from harness.db import fetch, fetchval
from harness.hostile import pick
from harness.notifier import (
    DROPPED,
    HEALTHY,
    SmtpServer,
    for_notifier,
    score_state,
    start_notifier,
)
from harness.stack import Stack, consume_all, eventually
from shared.kafka import make_broker, publish_keyed


def hostile_state(i: int) -> bytes:
    good = json.loads(score_state("hostile", 99).model_dump_json())
    cases: list[object] = [
        b"\x00", b"{", b"null", b"[]", b"\xff", {**good, "revision": "x"},
        {**good, "updated_at": "0001-01-01T00:00:00+01:00"}, {**good, "title": "x" * 200_000},
        {**good, "scores": json.loads("[" * 300 + "]" * 300)}, {**good, "asset_id": None},
        ("{" * 5000).encode(), {**good, "revision": 2**80},
    ]
    return pick(cases, i)


async def test_hostile_records_are_dead_lettered_and_valid_states_still_alert(
    stack: Stack, smtp: SmtpServer,
) -> None:
    settings = for_notifier(stack.settings, smtp.port)
    await stack.add_asset("pitch-deck", title="Pitch Deck")
    await stack.add_asset("hostile")
    await start_notifier(stack, settings)
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        topic = settings.topics.asset_scores.name
        await publish_keyed(broker, topic, [("pitch-deck", score_state(
            "pitch-deck", 1, **HEALTHY).model_dump_json().encode())])
        await publish_keyed(broker, topic, [("pitch-deck", hostile_state(i)) for i in range(120)])
        await publish_keyed(broker, settings.topics.events.name,
                            [("pitch-deck", hostile_state(i) + b'"rating"') for i in range(60)])
        await publish_keyed(broker, topic, [("pitch-deck", score_state(
            "pitch-deck", 2, **DROPPED).model_dump_json().encode())])
    finally:
        await broker.stop()
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
    assert await fetchval(settings, "SELECT count(*) FROM alerts") == 1
    # Lag zero: the stored positions cover every record published on both topics.
    stored = await eventually(
        lambda: fetchval(settings, "SELECT sum(next_offset) FROM notifier_offsets"),
        lambda total: total == 1 + 120 + 60 + 1)
    assert stored == 182
    dead = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events_dlq.name,
                             expect=101, timeout=2)
    # Only asset-scores records (the aggregator dead-letters bad events, not the notifier):
    # 9 of the 12 kinds cannot be decoded; a year-1 date and a huge title are states (of a
    # catalogued asset, with the catalog's title); revision 2**80 PostgreSQL refuses, and
    # that record alone is isolated and dead-lettered.
    assert len(dead) == 100
    assert {dict(r.headers)["x-source-topic"] for r in dead} == {topic.encode()}
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in dead]
    assert sum("could not apply it" in r for r in reasons) == 10


async def test_a_forged_owner_and_title_never_route_the_alert(
    stack: Stack, smtp: SmtpServer,
) -> None:
    settings = for_notifier(stack.settings, smtp.port)
    await stack.add_asset("pricing", title="Pricing Sheet", owner_email="owner@example.com")
    await start_notifier(stack, settings)
    forged = [score_state("pricing", 1, owner="forger@evil.example", title="Click me", **HEALTHY),
              score_state("pricing", 2, owner="forger@evil.example", title="Click me", **DROPPED),
              # An asset the catalog does not hold alerts nobody.
              score_state("ghost", 1, owner="forger@evil.example", **HEALTHY),
              score_state("ghost", 2, owner="forger@evil.example", **DROPPED)]
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        for u in forged:  # raw: not through publish_scores, which fills the catalog
            await publish_keyed(broker, settings.topics.asset_scores.name,
                                [(u.asset_id, u.model_dump_json().encode())])
    finally:
        await broker.stop()
    [mail] = await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
    assert mail["To"] == "owner@example.com"
    assert "Pricing Sheet" in mail["Subject"] and "Click me" not in mail.as_string()
    await eventually(lambda: fetchval(settings, "SELECT sum(next_offset) FROM notifier_offsets"),
                     lambda total: total == 4)
    assert await fetch(settings, "SELECT asset_id FROM alerts") == [{"asset_id": "pricing"}]
    assert len(smtp.messages) == 1
