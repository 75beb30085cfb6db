"""Group ``notifier`` on ``asset-scores`` (level rules), ``events`` (the comment rule) and
``link-visits`` (hot-engagement alerts to reps: ``link_consumer``).

The position lives in PostgreSQL. One batch is one transaction that
1. locks the stored offsets of the batch's partitions and drops records below them;
2. keeps the newest state per asset, skipping revisions at or below the stored one;
3. runs the rules, writes the rule states, the alerts and their deliveries;
4. stores the next offsets;
and commits. Only then are Kafka's offsets committed, as a hint for lag monitoring: on
every partition assignment the consumer seeks to the stored offsets, so a crash anywhere
replays exactly what was not committed to PostgreSQL, and nothing twice.

A stored offset beyond a partition's end (a fresh broker under an old database: the
embedded broker keeps topics in memory) is reset to the partition's start, or every new
record would be skipped. A record that cannot be decoded, or whose values fail the batch
(shared/dead_letter.py), goes to the dead-letter topic and its offset is stored past it;
other failures replay the batch. Owners and titles come from the catalog, never from the
message: the bus is not trusted with who gets an alert.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import OffsetOutOfRangeError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.alert_rules import with_overrides
from shared.dead_letter import dead_letter, tied_to_record
from shared.events import EventEnvelope, utcnow
from shared.kafka import group_options
from shared.scores import AssetScoreUpdate

from .config import NotifierConfig
from .link_consumer import apply_link_visits, decode_link_visit
from .metrics import ALERTS, DEAD_LETTERED
from .reads.ratings import asset_catalog, owner_settings, rating_comments
from .rules import (
    LEVEL_RULES,
    Outcome,
    RuleState,
    evaluate_rating_event,
    evaluate_scores,
)
from .state_repo import (
    DecisionWriter,
    lock_asset_revisions,
    lock_offsets,
    lock_rule_states,
    reset_offsets_beyond,
    save_asset_states,
    save_offsets,
    stored_offsets,
)

__all__ = ["AlertConsumer", "decode_rating", "decode_score"]

log = logging.getLogger(__name__)

#: Pause before a failed batch is retried (database down): long enough not to spin.
RETRY_PAUSE_SECONDS = 1.0
#: Most rating events are views: those records are skipped without parsing.
_RATING_MARK = b'"rating"'
_RATER_PREFIX = "user:"
#: How long a stored position past the reported end may take to show its record: tansu
#: answers a fetch of an existing record in ~15 ms and of a missing one after the 50 ms wait.
PROBE_SECONDS = 1.0


def decode_score(value: bytes | None) -> AssetScoreUpdate | None:
    """The state, or None for anything that is not one (the caller dead-letters it)."""
    try:
        return AssetScoreUpdate.model_validate_json(value or b"")
    except Exception:  # noqa: BLE001 - whatever the bytes, the partition must move on
        return None


def decode_rating(value: bytes | None) -> EventEnvelope | None:
    """A rating event with low stars and a comment, or None (anything else; the aggregator
    dead-letters what is invalid)."""
    if not value or _RATING_MARK not in value:
        return None
    try:
        event = EventEnvelope.model_validate_json(value)
    except Exception:  # noqa: BLE001 - the aggregator dead-letters it; here it is no rating
        return None
    if event.type != "rating" or event.stars is None or not event.has_comment:
        return None
    return event


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, start each partition where PostgreSQL says the notifier is, unless
    that lies beyond the partition's last record: then from the partition's start."""

    def __init__(self, pool: asyncpg.Pool, group: str, bootstrap: str) -> None:
        self.pool = pool
        self.group = group
        self.bootstrap = bootstrap
        self.subscriber: Any = None

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        consumer = self.subscriber.consumer if self.subscriber is not None else None
        if consumer is None or not assigned:
            return
        stored = await stored_offsets(self.pool, self.group)
        mine = [tp for tp in assigned if (tp.topic, tp.partition) in stored]
        ends = await consumer.end_offsets(mine) if mine else {}
        suspects = {tp: stored[(tp.topic, tp.partition)] for tp in mine
                    if stored[(tp.topic, tp.partition)] > ends[tp]}
        beyond = await past_last_record(self.bootstrap, suspects) if suspects else set()
        starts = await consumer.beginning_offsets(list(beyond)) if beyond else {}
        if beyond:
            await reset_offsets_beyond(self.pool, self.group, {
                (tp.topic, tp.partition): (suspects[tp] - 1, starts[tp]) for tp in beyond})
        for tp in sorted(beyond):
            log.warning("stored position %d of %s[%d] lies beyond its end (a new broker?); "
                        "reading it from offset %d", stored[(tp.topic, tp.partition)],
                        tp.topic, tp.partition, starts[tp])
            stored[(tp.topic, tp.partition)] = starts[tp]
        for tp in mine:
            consumer.seek(tp, stored[(tp.topic, tp.partition)])
        log.info("assigned %d partitions; %d resume from their position in PostgreSQL, "
                 "%d were reset", len(assigned), len(mine) - len(beyond), len(beyond))


async def past_last_record(bootstrap: str, positions: Mapping[Any, int]) -> set[Any]:
    """The partitions whose ``positions`` lie beyond their last record.

    A position p is real when the record p - 1 exists, so it is fetched. The end offset
    alone cannot tell: tansu reports the base offset of the last batch + 1 (40 records
    published as one batch read as an end of 1), and answers a fetch beyond the end with
    nothing rather than OFFSET_OUT_OF_RANGE. A partition that yields no record within
    ``PROBE_SECONDS`` counts as beyond: a wrong guess re-reads, it never skips.
    """
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="none",
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=64 * 1024)
    await probe.start()
    try:
        probe.assign(list(positions))
        for tp, position in positions.items():
            probe.seek(tp, max(position - 1, 0))
        pending, out_of_range = set(positions), set()
        deadline = time.monotonic() + PROBE_SECONDS
        while pending and time.monotonic() < deadline:
            try:
                fetched = await probe.getmany(*pending, timeout_ms=100)
            except OffsetOutOfRangeError as exc:  # a real Kafka says so at once
                gone = set(exc.args[0]) if exc.args and isinstance(exc.args[0], dict) else set()
                if not gone:
                    break
                out_of_range |= gone
                pending -= gone
                probe.pause(*gone)
                continue
            pending -= {tp for tp, records in fetched.items() if records}
        return pending | out_of_range
    finally:
        await probe.stop()


class AlertConsumer:
    def __init__(self, pool: asyncpg.Pool, config: NotifierConfig,
                 on_decided: Callable[[], None] = lambda: None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.pool = pool
        self.config = config
        self.on_decided = on_decided
        self.clock = clock
        topics = config.settings.topics
        self.group = topics.group_notifier
        self.scores_topic = topics.asset_scores.name
        self.events_topic = topics.events.name
        self.links_topic = topics.link_visits.name

    def register(self, broker: KafkaBroker) -> None:
        listener = _SeekToStoredOffsets(self.pool, self.group,
                                        self.config.settings.kafka_bootstrap_servers)
        subscriber = broker.subscriber(  # type: ignore[call-overload]
            self.scores_topic, self.events_topic, self.links_topic,
            group_id=self.group,
            batch=True,
            max_records=self.config.settings.notifier_max_records,
            batch_timeout_ms=50,
            fetch_max_wait_ms=50,  # tansu holds a fetch this long even with data (bench/)
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_skip_decoding,
            **group_options(self.config.settings.kafka_session_timeout_ms),
            listener=listener,
        )
        listener.subscriber = subscriber

        @subscriber
        async def on_batch(message: KafkaMessage) -> None:
            records: Sequence[Any] = message.raw_message  # type: ignore[assignment]
            try:
                alerts = await self.apply_isolating(broker, records)
            except Exception:  # noqa: BLE001 - an outage replays the batch, never skips it
                log.exception("notifier batch of %d records failed; replaying it", len(records))
                await message.nack()
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
                return
            try:
                await message.ack()
            except Exception:  # noqa: BLE001 - the position that counts is in PostgreSQL
                log.info("Kafka offset commit failed (a rebalance?); PostgreSQL has the position")
            if alerts:
                ALERTS.labels("raised").inc(alerts)
                self.on_decided()

    async def apply_isolating(self, broker: KafkaBroker, records: Sequence[Any]) -> int:
        """Apply the batch; if one record's values fail it, apply one record per
        transaction and dead-letter each that fails. Returns the number of new alerts."""
        try:
            alerts, unreadable = await self.apply(records)
        except Exception as exc:
            if not tied_to_record(exc):
                raise
            log.warning("notifier batch hit a record's fault; isolating it", exc_info=True)
            alerts, unreadable = 0, []
            for record in records:
                try:
                    one, bad = await self.apply([record])
                except Exception as exc:
                    if not tied_to_record(exc):
                        raise
                    await self._dead_letter(broker, record,
                                            f"notifier could not apply it: "
                                            f"{type(exc).__name__}: {exc}")
                    await self._step_past(record)
                    continue
                alerts += one
                unreadable.extend(bad)
        for record in unreadable:
            await self._dead_letter(broker, record, "not a link-visits update"
                                    if record.topic == self.links_topic
                                    else "not an asset-scores state")
        return alerts

    async def _dead_letter(self, broker: KafkaBroker, record: Any, reason: str) -> None:
        await dead_letter(broker, self.config.settings.topics.events_dlq.name, record, reason)
        DEAD_LETTERED.inc()
        log.warning("record dead-lettered: %s", reason[:200],
                    extra={"topic": record.topic, "partition": record.partition,
                           "offset": record.offset})

    async def _step_past(self, record: Any) -> None:
        key = (record.topic, record.partition)
        async with self.pool.acquire() as conn, conn.transaction():
            positions = await lock_offsets(conn, self.group, [key])
            if record.offset >= positions[key]:
                await save_offsets(conn, self.group, {key: record.offset + 1})

    async def apply(self, records: Sequence[Any]) -> tuple[int, list[Any]]:
        """Apply one batch in one transaction; returns the number of new alerts and the
        fresh ``asset-scores`` and ``link-visits`` records that are no state (to
        dead-letter)."""
        now = self.clock()
        scores = [(r, decode_score(r.value)) for r in records if r.topic == self.scores_topic]
        ratings = [(r, decode_rating(r.value)) for r in records if r.topic == self.events_topic]
        visits = [(r, decode_link_visit(r.value)) for r in records if r.topic == self.links_topic]
        async with self.pool.acquire() as conn, conn.transaction():
            positions = await lock_offsets(conn, self.group,
                                           {(r.topic, r.partition) for r in records})

            def fresh(record: Any) -> bool:
                return bool(record.offset >= positions[(record.topic, record.partition)])

            newest: dict[str, AssetScoreUpdate] = {}
            for record, update in scores:
                if update is not None and fresh(record):
                    seen = newest.get(update.asset_id)
                    if seen is None or update.revision > seen.revision:
                        newest[update.asset_id] = update
            events = [e for r, e in ratings if e is not None and fresh(r)]
            writer = await self._apply_scores(conn, list(newest.values()), now)
            alerts = writer.alerts if writer else 0
            alerts += await self._apply_ratings(conn, events, now)
            alerts += await apply_link_visits(
                conn, [u for r, u in visits if u is not None and fresh(r)], now)
            next_offsets: dict[tuple[str, int], int] = {}
            for record in records:
                if fresh(record):
                    key = (record.topic, record.partition)
                    next_offsets[key] = max(next_offsets.get(key, 0), record.offset + 1)
            await save_offsets(conn, self.group, next_offsets)
        return alerts, [r for r, update in [*scores, *visits] if update is None and fresh(r)]

    async def _apply_scores(self, conn: asyncpg.Connection, updates: list[AssetScoreUpdate],
                            now: datetime) -> DecisionWriter | None:
        if not updates:
            return None
        stored = await lock_asset_revisions(conn, [u.asset_id for u in updates])
        newer = await _as_catalogued(
            conn, [u for u in updates if u.revision > stored.get(u.asset_id, -1)])
        if not newer:
            return None
        await save_asset_states(conn, newer)
        owners = await owner_settings(conn, [u.owner_email for u in newer])
        states = await lock_rule_states(conn, [(u.asset_id, rule) for u in newer
                                               for rule in LEVEL_RULES])
        outcomes: list[Outcome] = []
        for update in newer:
            rules = with_overrides(self.config.rules, owners.overrides_for(update.owner_email))
            mine = {rule: states[(update.asset_id, rule)] for rule in LEVEL_RULES
                    if (update.asset_id, rule) in states}
            outcomes.extend(evaluate_scores(update, rules, mine, now))
        writer = DecisionWriter(conn, owners, now, self.config.settings.alert_digest_hour)
        await writer.write(outcomes)
        return writer

    async def _apply_ratings(self, conn: asyncpg.Connection, events: list[EventEnvelope],
                             now: datetime) -> int:
        if not events:
            return 0
        catalog = await asset_catalog(conn, sorted({e.asset_id for e in events}))
        events = [e for e in events if e.asset_id in catalog]
        if not events:
            return 0
        owners = await owner_settings(conn, [owner for _, owner in catalog.values()])
        raters = sorted({(e.asset_id, rater) for e in events
                         if (rater := _rater_id(e)) is not None})
        comments = await rating_comments(conn, raters)
        rule = "low_rating_comment"
        states = await lock_rule_states(conn, [(e.asset_id, rule) for e in events])
        latest: dict[str, RuleState] = {}
        outcomes: list[Outcome] = []
        for event in events:
            title, owner = catalog[event.asset_id]
            params = with_overrides(self.config.rules,
                                    owners.overrides_for(owner)).low_rating_comment
            state = latest.get(event.asset_id) or states.get((event.asset_id, rule), RuleState())
            comment = comments.get((event.asset_id, _rater_id(event) or 0))
            outcome = evaluate_rating_event(event, params, state, now, title=title,
                                            owner_email=owner, comment=comment)
            if outcome is not None:
                latest[event.asset_id] = outcome.after
                outcomes.append(outcome)
        writer = DecisionWriter(conn, owners, now, self.config.settings.alert_digest_hour)
        await writer.write(outcomes)
        return writer.alerts


async def _as_catalogued(conn: asyncpg.Connection,
                         updates: list[AssetScoreUpdate]) -> list[AssetScoreUpdate]:
    """Each state with the catalog's title and owner; states of assets the catalog does
    not hold are dropped (nobody could be told, and a forger must not be)."""
    if not updates:
        return []
    catalog = await asset_catalog(conn, sorted({u.asset_id for u in updates}))
    return [u.model_copy(update={"title": catalog[u.asset_id][0],
                                 "owner_email": catalog[u.asset_id][1]})
            for u in updates if u.asset_id in catalog]


def _rater_id(event: EventEnvelope) -> int | None:
    """The user id in a rating event's ``user:<id>`` actor, if it is one (and fits a bigint)."""
    value = (event.viewer_id or "").removeprefix(_RATER_PREFIX)
    if event.viewer_id and event.viewer_id.startswith(_RATER_PREFIX) and value.isascii() \
            and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


async def _skip_decoding(message: Any) -> None:
    return None
