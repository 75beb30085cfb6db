"""Hostile records on ``rating-commands`` among valid ones, on the real broker and
PostgreSQL: each goes to the dead-letter topic with its reason, every valid command is
applied exactly once, and group ``ratings`` commits past every record (lag zero). Every
record is signed as ingest signs it, so each one reaches decoding and the database."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import datetime, timezone

from harness.db import fetch
from harness.hostile import pick
from harness.lag import lag_is_zero
from harness.stack import Stack, consume_all, eventually
from shared.command_signing import command_key, signature_headers
from shared.commands import RatingCommand
from shared.kafka import make_broker


def hostile(i: int, rater: int) -> bytes:
    good = {"asset_id": "pricing-sheet", "user_id": rater, "stars": 3,
            "issued_at": datetime.now(timezone.utc).isoformat()}
    cases: list[object] = [
        b"\x00", b"{not json", b"null", b"[]", b"\xff", {**good, "stars": 9},
        {**good, "issued_at": "0001-01-01T00:00:00+01:00"},
        {**good, "issued_at": "1970-01-01T00:00:00Z"}, {**good, "comment": "a\x00b"},
        {**good, "comment": "x" * 100_000}, {**good, "user_id": "me"},
        {**good, "asset_id": json.loads("[" * 300 + "]" * 300)}, ("[" * 20_000).encode(),
        # Valid to pydantic, refused by PostgreSQL (bigint): isolated, dead-lettered.
        {**good, "user_id": 2**70},
    ]
    return pick(cases, i)


async def test_hostile_commands_are_dead_lettered_and_valid_ones_applied_once(
    stack: Stack,
) -> None:
    await stack.add_asset("pricing-sheet")
    raters = [(await stack.user(f"rater{i}@example.com", "sales"))[0] for i in range(12)]
    await stack.ratings()
    valid = [RatingCommand(command_id=uuid.uuid4(), asset_id="pricing-sheet", user_id=r,
                           stars=1 + i % 5, issued_at=datetime.now(timezone.utc))
             for i, r in enumerate(raters)]
    bodies = [c.model_dump_json().encode() for c in valid]
    bodies += [c.model_dump_json().encode() for c in valid[:4]]  # redelivered: applied once
    bad = [hostile(i, raters[0]) for i in range(140)]
    mixed = bodies + bad
    random.Random(5).shuffle(mixed)
    settings = stack.settings
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        key = command_key(settings.signing_secret.get_secret_value())
        acks = [await broker.publish(v, settings.topics.rating_commands.name,
                                     key=b"pricing-sheet", headers=signature_headers(key, v),
                                     no_confirm=True)
                for v in mixed]
        await asyncio.gather(*acks)
    finally:
        await broker.stop()

    await lag_is_zero(settings, settings.topics.group_ratings,
                      settings.topics.rating_commands.name, len(mixed))
    rows = await eventually(
        lambda: fetch(settings, "SELECT user_id, stars FROM ratings ORDER BY user_id"),
        lambda r: len(r) == len(valid))
    assert rows == sorted(({"user_id": c.user_id, "stars": c.stars} for c in valid),
                          key=lambda r: r["user_id"])
    dead = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events_dlq.name,
                             expect=len(bad) + 1, timeout=2)
    assert len(dead) == len(bad)
    assert sorted(r.value for r in dead) == sorted(bad)
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in dead]
    assert sum("refused by the database" in r for r in reasons) == 10
    assert sum("unreadable rating command" in r for r in reasons) == 130
