"""The bus is not trusted with identity (real broker and PostgreSQL): rating commands
produced straight to ``rating-commands`` without ingest's signature, or with a wrong one,
are dead-lettered and rate nothing; a link tapped through ingest still rates exactly once."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import httpx
from aiokafka import AIOKafkaProducer

from harness.db import fetch
from harness.stack import Stack, consume_all, eventually
from shared.command_signing import SIGNATURE_HEADER, command_key, sign_command
from shared.commands import RatingCommand
from shared.signing import rating_link_url


async def test_forged_commands_are_dead_lettered_and_a_tapped_link_rates_once(
    stack: Stack,
) -> None:
    settings = stack.settings
    await stack.add_asset("pricing-sheet")
    rater, _ = await stack.user("rater@example.com", "sales")
    await stack.ingest()
    await stack.ratings()

    def forged(stars: int) -> bytes:
        return RatingCommand(command_id=uuid.uuid4(), asset_id="pricing-sheet", user_id=rater,
                             stars=stars, issued_at=datetime.now(timezone.utc),
                             ).model_dump_json().encode()

    real_key = command_key(settings.signing_secret.get_secret_value())
    unsigned, wrong_key, tampered = forged(1), forged(2), forged(5)
    attacks: list[tuple[bytes, list[tuple[str, bytes]], str]] = [
        (unsigned, [], "unsigned"),
        # Signed, but with a key of the forger's own making.
        (wrong_key, [(SIGNATURE_HEADER, sign_command(command_key("guess"), wrong_key)
                      .encode())], "bad signature"),
        # A genuine signature lifted from another command.
        (tampered, [(SIGNATURE_HEADER, sign_command(real_key, unsigned).encode())],
         "bad signature"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for value, headers, _ in attacks:
            await producer.send_and_wait(settings.topics.rating_commands.name, value,
                                         key=b"pricing-sheet", headers=headers)
    finally:
        await producer.stop()

    # Same partition, after the forgeries: once this rating lands, they were all handled.
    link = rating_link_url(settings.ingest_base_url, settings.signing_secret.get_secret_value(),
                           "pricing-sheet", rater, 3, int(time.time()) + 3600)
    async with httpx.AsyncClient(follow_redirects=True) as web:
        r = await web.post(link)
        assert r.status_code == 200, r.text
    rows = await eventually(
        lambda: fetch(settings, "SELECT user_id, stars FROM ratings"), lambda rs: len(rs) > 0)
    assert rows == [{"user_id": rater, "stars": 3}]

    dead = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events_dlq.name,
                             expect=len(attacks) + 1, timeout=2)
    assert sorted((r.value, dict(r.headers)["x-dlq-reason"].decode()) for r in dead) == sorted(
        (value, reason) for value, _, reason in attacks)
    # One rating event, the tapped link's: the forgeries never reached the outbox.
    events = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events.name,
                               expect=2, timeout=2)
    assert [(json.loads(e.value)["stars"], json.loads(e.value)["previous_stars"])
            for e in events] == [(3, None)]
    # The command ingest published carries a signature over its exact bytes.
    commands = await consume_all(settings.kafka_bootstrap_servers,
                                 settings.topics.rating_commands.name,
                                 expect=len(attacks) + 2, timeout=2)
    assert len(commands) == len(attacks) + 1
    ours = commands[-1]
    assert (json.loads(ours.value)["user_id"], json.loads(ours.value)["stars"]) == (rater, 3)
    assert dict(ours.headers)[SIGNATURE_HEADER].decode() == sign_command(real_key, ours.value)
