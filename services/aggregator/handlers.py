"""The aggregator's consumers: events and the edge's rejected stream, in batches.

Order per batch, chosen for at-least-once in and exactly-once applied:
1. undecodable records go to the dead-letter topic (with the reason header);
2. the batch is applied in ONE PostgreSQL transaction, de-duplicated on ``event_id``;
3. the new state of each touched asset is published to ``asset-scores``;
4. only then are the Kafka offsets committed.
A crash anywhere replays the batch: step 2 then counts nothing twice, and step 3 re-sends
latest-state messages, which compaction and readers treat as idempotent. On an error the
batch is sought back (nack) and retried after a pause, so nothing is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.topics import DLQ_REASON_HEADER, Topics
from shared.events import EventEnvelope, RejectedEvent
from shared.kafka import publish_keyed

from . import metrics
from .decoding import decode_records
from .repo import apply_events, store_rejected

__all__ = ["register_consumers"]

log = logging.getLogger(__name__)

#: Pause before a failed batch is retried (DB down, deadlock): long enough not to spin.
RETRY_PAUSE_SECONDS = 1.0


def register_consumers(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics, max_records: int
) -> None:
    subscribe = dict(
        batch=True,
        max_records=max_records,
        batch_timeout_ms=50,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
    )

    @broker.subscriber(topics.events.name, group_id=topics.group_aggregator, **subscribe)  # type: ignore[call-overload]
    async def on_events(message: KafkaMessage) -> None:
        await _guarded(message, lambda records: _apply_event_batch(broker, pool, topics, records))

    @broker.subscriber(
        topics.events_rejected.name, group_id=topics.group_rejected_store, **subscribe
    )  # type: ignore[call-overload]
    async def on_rejected(message: KafkaMessage) -> None:
        await _guarded(message, lambda records: _apply_rejected_batch(broker, pool, topics, records))


async def _guarded(message: Any, apply: Any) -> None:
    records: Sequence[Any] = message.raw_message
    started = time.perf_counter()
    try:
        await apply(records)
    except Exception:  # noqa: BLE001 - any failure replays the batch, never skips it
        log.exception("batch of %d records failed; replaying it", len(records))
        await message.nack()
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
        return
    await message.ack()
    metrics.BATCH_SIZE.observe(len(records))
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)


async def _dead_letter(
    broker: KafkaBroker, topics: Topics, bad: list[tuple[Any, RejectedEvent]]
) -> None:
    for record, rejection in bad:
        await publish_keyed(
            broker,
            topics.events_dlq.name,
            [(rejection.asset_id, record.value or b"")],
            headers={
                DLQ_REASON_HEADER: rejection.detail[:500],
                "x-source-topic": record.topic,
                "x-source-partition": str(record.partition),
                "x-source-offset": str(record.offset),
            },
        )
    metrics.DEAD_LETTERED.inc(len(bad))


async def _apply_event_batch(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics, records: Sequence[Any]
) -> None:
    events, bad = decode_records(records, EventEnvelope)
    if bad:
        await _dead_letter(broker, topics, bad)
    async with pool.acquire() as conn, conn.transaction():
        updates = await apply_events(conn, events, [rejection for _, rejection in bad])
    if updates:
        await publish_keyed(
            broker,
            topics.asset_scores.name,
            [(u.asset_id, u.model_dump_json().encode()) for u in updates],
        )
    metrics.EVENTS_APPLIED.labels("decoded").inc(len(events))
    metrics.EVENTS_APPLIED.labels("invalid").inc(len(bad))


async def _apply_rejected_batch(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics, records: Sequence[Any]
) -> None:
    rejected, bad = decode_records(records, RejectedEvent)
    if bad:
        await _dead_letter(broker, topics, bad)
    async with pool.acquire() as conn, conn.transaction():
        await store_rejected(conn, [*rejected, *(r for _, r in bad)])
