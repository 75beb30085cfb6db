"""The aggregator's consumers: events and the edge's rejected stream, in batches.

Order per batch, chosen for at-least-once in and exactly-once applied:
1. undecodable records go to the dead-letter topic (with the reason header);
2. the batch is applied in ONE PostgreSQL transaction, de-duplicated on ``event_id``;
3. the new state of each touched asset is published to ``asset-scores``, and of each
   share-link visit the batch opened or added dwell to, to ``link-visits``;
4. only then are the Kafka offsets committed.
A crash anywhere replays the batch: step 2 then counts nothing twice, and step 3 re-sends
latest-state messages, which compaction and readers treat as idempotent. A failure that
belongs to one record (shared/dead_letter.py) never replays: the batch is applied again one
record per transaction and the records that fail go to the dead-letter topic. Any other
error (database down, deadlock) seeks the batch back (nack) and retries it after a pause,
so nothing is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.dead_letter import clean_reason, dead_letter, tied_to_record
from shared.events import EventEnvelope, RejectedEvent, RejectReason
from shared.kafka import publish_keyed
from shared.observability import db_timer
from shared.scores import AssetScoreUpdate
from shared.share_links import LinkVisitUpdate
from shared.topics import DLQ_REASON_HEADER, Topics

from . import metrics
from .decoding import decode_pairs, decode_records
from .link_hold import LinkHold
from .peer_sweep import PeerSweeper
from .repo import Applied, apply_events, store_rejected
from .score_state import ScoreContext
from .settings import LinkBurst

__all__ = ["Loops", "register_consumers"]

log = logging.getLogger(__name__)

#: Pause before a failed batch is retried (DB down, deadlock): long enough not to spin.
RETRY_PAUSE_SECONDS = 1.0


class ScoringDays:
    """The score context of each batch. The first batch of a UTC day (and of a process)
    rescores the whole catalog: overnight every window moved on by a day."""

    def __init__(self, prior_weight: float) -> None:
        self.prior_weight = prior_weight
        self._rescored_on: date | None = None

    def context(self) -> ScoreContext:
        today = datetime.now(timezone.utc).date()
        return ScoreContext(today, self.prior_weight, whole_catalog=today != self._rescored_on)

    def committed(self, ctx: ScoreContext) -> None:
        if ctx.whole_catalog:
            self._rescored_on = ctx.today


@dataclass(frozen=True)
class Loops:
    """The background loops beside the consumers, for the caller to start and stop."""

    sweeper: PeerSweeper
    link_hold: LinkHold | None


def register_consumers(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics, max_records: int,
    prior_weight: float, group: Mapping[str, int], burst: LinkBurst | None,
) -> Loops:
    """Subscribe the consumers; returns the loops beside them, not started. ``burst``
    None counts tracked-link hits at once, with no burst rule."""
    days = ScoringDays(prior_weight)

    async def publish_states(updates: Sequence[AssetScoreUpdate]) -> None:
        await publish_keyed(broker, topics.asset_scores.name,
                            [(u.asset_id, u.model_dump_json().encode()) for u in updates])

    async def publish_visits(updates: Sequence[LinkVisitUpdate]) -> None:
        await publish_keyed(broker, topics.link_visits.name,
                            [(u.link_id, u.model_dump_json().encode()) for u in updates])

    sweeper = PeerSweeper(pool, days.context, publish_states)
    hold = (LinkHold(pool, burst.rule, burst.margin, days.context, publish_states)
            if burst else None)
    subscribe = dict(
        batch=True,
        max_records=max_records,
        batch_timeout_ms=50,
        # tansu holds a fetch for the whole fetch_max_wait_ms even when data is there
        # (bench/: the bare round trip is 128 ms at the 500 ms default, 6 ms at 20 ms), so
        # keep it short: a hit reaches asset-scores within two such waits.
        fetch_max_wait_ms=50,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        # FastStream's default decoder parses JSON before the handler runs; one bad record
        # would then fail the whole batch outside our control. We decode ourselves.
        decoder=_skip_decoding,
        **group,
    )

    @broker.subscriber(topics.events.name, group_id=topics.group_aggregator, **subscribe)  # type: ignore[call-overload]
    async def on_events(message: KafkaMessage) -> None:
        await _guarded(message, lambda records: _apply_event_batch(
            broker, pool, topics, days, publish_states, publish_visits, records,
            hold_links=hold is not None))
        sweeper.note_batch()

    @broker.subscriber(
        topics.events_rejected.name, group_id=topics.group_rejected_store, **subscribe
    )  # type: ignore[call-overload]
    async def on_rejected(message: KafkaMessage) -> None:
        await _guarded(message, lambda records: _apply_rejected_batch(broker, pool, topics, records))

    return Loops(sweeper, hold)


async def _skip_decoding(message: Any) -> None:
    return None


async def _guarded(message: Any, apply: Any) -> None:
    records: Sequence[Any] = message.raw_message
    started = time.perf_counter()
    try:
        await apply(records)
    except Exception:  # noqa: BLE001 - any failure replays the batch, never skips it
        log.exception("batch of %d records failed; replaying it", len(records),
                      extra={"first_offset": getattr(records[0], "offset", None) if records
                             else None})
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
        await dead_letter(broker, topics.events_dlq.name, record, rejection.detail,
                          key=rejection.asset_id)
    metrics.DEAD_LETTERED.inc(len(bad))
    for record, rejection in bad:
        log.warning("record dead-lettered: %s", clean_reason(rejection.detail)[:200],
                    extra={"event_id": str(rejection.event_id), "topic": record.topic,
                           "partition": record.partition, "offset": record.offset})


async def _apply_event_batch(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics, days: ScoringDays,
    publish_states: Callable[[Sequence[AssetScoreUpdate]], Awaitable[None]],
    publish_visits: Callable[[Sequence[LinkVisitUpdate]], Awaitable[None]],
    records: Sequence[Any],
    *,
    hold_links: bool,
) -> None:
    events, bad = decode_records(records, EventEnvelope)
    if bad:
        await _dead_letter(broker, topics, bad)
    invalid = [rejection for _, rejection in bad]
    scoring = days.context()
    try:
        with db_timer("aggregator", "apply_batch"):
            async with pool.acquire() as conn, conn.transaction():
                applied = await apply_events(conn, events, invalid, scoring,
                                             hold_links=hold_links)
    except Exception as exc:
        if not tied_to_record(exc):
            raise
        # A value PostgreSQL (or the scoring) refuses although it passed validation must
        # not block the partition: apply one event per transaction, dead-letter the failures.
        log.warning("batch hit a record's fault; isolating the bad events", exc_info=True)
        applied = await _apply_one_by_one(broker, pool, topics, events, invalid, scoring,
                                          hold_links=hold_links)
    days.committed(scoring)
    if applied.visits:
        await publish_visits(applied.visits)
    if applied.scores:
        await publish_states(applied.scores)
        metrics.STATES_PUBLISHED.inc(len(applied.scores))
    metrics.EVENTS_APPLIED.labels("decoded").inc(len(events))
    metrics.EVENTS_APPLIED.labels("invalid").inc(len(bad))


async def _apply_one_by_one(
    broker: KafkaBroker,
    pool: asyncpg.Pool,
    topics: Topics,
    events: Sequence[EventEnvelope],
    invalid: Sequence[RejectedEvent],
    scoring: ScoreContext,
    *,
    hold_links: bool,
) -> Applied:
    latest: dict[str, AssetScoreUpdate] = {}
    visits: dict[str, LinkVisitUpdate] = {}
    async with pool.acquire() as conn:
        async with conn.transaction():
            await store_rejected(conn, invalid)
        for event in events:
            try:
                async with conn.transaction():
                    applied = await apply_events(conn, [event], [], scoring,
                                                 hold_links=hold_links)
            except Exception as exc:
                if not tied_to_record(exc):
                    raise  # an outage: the whole batch replays, counted once by event_id
                rejection = RejectedEvent(
                    event_id=event.event_id, reason=RejectReason.INVALID,
                    detail=clean_reason(f"database refused it: {type(exc).__name__}: {exc}"),
                    asset_id=event.asset_id,
                    source=event.source, payload=event.model_dump(mode="json"),
                )
                if await _store_one_rejected(conn, rejection) is not None:
                    log.warning("refused event not kept in rejected_events either",
                                extra={"event_id": str(event.event_id)})
                await publish_keyed(
                    broker, topics.events_dlq.name,
                    [(event.asset_id, event.model_dump_json().encode())],
                    headers={DLQ_REASON_HEADER: rejection.detail},
                )
                metrics.DEAD_LETTERED.inc()
                log.warning("event dead-lettered: the database refused it",
                            extra={"event_id": str(event.event_id), "asset_id": event.asset_id,
                                   "reason": rejection.detail})
                continue
            latest.update((u.asset_id, u) for u in applied.scores)
            visits.update((u.event_id, u) for u in applied.visits)
    return Applied(list(latest.values()), list(visits.values()))


async def _apply_rejected_batch(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics, records: Sequence[Any]
) -> None:
    rejected, bad = decode_pairs(records, RejectedEvent)
    if bad:
        await _dead_letter(broker, topics, bad)
    rows = [*rejected, *bad]
    try:
        async with pool.acquire() as conn, conn.transaction():
            await store_rejected(conn, [r for _, r in rows])
    except Exception as exc:
        if not tied_to_record(exc):
            raise
        log.warning("rejected batch hit a record's fault; isolating it", exc_info=True)
        await _store_rejected_one_by_one(broker, pool, topics, rows)


async def _store_rejected_one_by_one(
    broker: KafkaBroker, pool: asyncpg.Pool, topics: Topics,
    rows: Sequence[tuple[Any, RejectedEvent]],
) -> None:
    refused: list[tuple[Any, RejectedEvent]] = []
    async with pool.acquire() as conn:
        for record, rejection in rows:
            exc = await _store_one_rejected(conn, rejection)
            if exc is not None:
                refused.append((record, rejection.model_copy(update={
                    "detail": clean_reason(f"database refused it: {type(exc).__name__}: {exc}"),
                })))
    if refused:
        await _dead_letter(broker, topics, refused)


async def _store_one_rejected(conn: asyncpg.Connection, rejection: RejectedEvent) -> Exception | None:
    """Store one rejection in its own savepoint. The record's own fault is returned, to be
    dead-lettered; any other failure (an outage) raises, and the batch replays."""
    try:
        async with conn.transaction():
            await store_rejected(conn, [rejection])
    except Exception as exc:
        if not tied_to_record(exc):
            raise
        return exc
    return None
