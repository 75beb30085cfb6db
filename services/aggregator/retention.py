"""Retention: delete raw ``events`` rows past the de-duplication horizon and old
``rejected_events``, in bounded batches.

The counts (usage_daily, viewer_days, view_dwell, asset_totals, asset_viewers,
rating_daily, asset_score_state) are never touched: they already hold what the raw rows
said. An event id deleted here would count again if it were redelivered, so the horizon is
validated to outlive the topic's redelivery window (settings.py; the arithmetic is in
docs/pipeline.md, "Retention").

Each batch is its own short statement that takes at most ``batch_rows`` rows, skipping
rows another transaction holds (an aggregator batch marking a double click), so the job
never blocks the consumers for long; a run stops after ``max_batches`` and the next one
continues.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg

from shared.periodic import Periodic

from .reads.ratings import forget_erased_gate_emails
from .settings import AggregatorSettings

__all__ = ["Pruned", "RetentionJob", "RetentionPolicy", "start_retention"]

log = logging.getLogger(__name__)

# received_at is set by ingest and never changes; migration 0008 indexes it.
DELETE_OLD_EVENTS = """
DELETE FROM events WHERE event_id = any(ARRAY(
    SELECT event_id FROM events WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))
"""

DELETE_OLD_REJECTED = """
DELETE FROM rejected_events WHERE event_id = any(ARRAY(
    SELECT event_id FROM rejected_events WHERE received_at < $1 LIMIT $2
    FOR UPDATE SKIP LOCKED))
"""

# A held link hit's row is its de-duplication record too (link_hold.py): it goes with the
# raw events, and only once decided.
DELETE_OLD_HELD = """
DELETE FROM held_link_hits WHERE event_id = any(ARRAY(
    SELECT event_id FROM held_link_hits WHERE received_at < $1 AND decision IS NOT NULL
    LIMIT $2 FOR UPDATE SKIP LOCKED))
"""


@dataclass(frozen=True)
class Pruned:
    """What one run deleted, and in how many statements."""

    events: int = 0
    rejected: int = 0
    batches: int = 0
    held_link_hits: int = 0
    #: Visits whose erased recipient's gate email was cleared.
    erased_gate_emails: int = 0


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each table keeps its rows (in days after received_at), and how the job
    takes them: ``batch_rows`` per delete, at most ``max_batches`` deletes per table a run."""

    events_days: int
    rejected_days: int
    batch_rows: int = 5000
    max_batches: int = 200

    def cutoffs(self, now: datetime) -> tuple[datetime, datetime]:
        """Rows received before these instants are deleted: (events, rejected_events)."""
        return now - timedelta(days=self.events_days), now - timedelta(days=self.rejected_days)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RetentionJob(Periodic):
    def __init__(self, pool: asyncpg.Pool, policy: RetentionPolicy, *, interval: float = 3600.0,
                 clock: Callable[[], datetime] = _now) -> None:
        super().__init__("retention", interval, self.prune)
        self._pool = pool
        self.policy = policy
        self._clock = clock

    async def prune(self) -> Pruned:
        events_before, rejected_before = self.policy.cutoffs(self._clock())
        events, batches_e = await self._delete(DELETE_OLD_EVENTS, events_before)
        rejected, batches_r = await self._delete(DELETE_OLD_REJECTED, rejected_before)
        held, batches_h = await self._delete(DELETE_OLD_HELD, events_before)
        erased = await forget_erased_gate_emails(self._pool)
        if erased:
            log.info("retention cleared the gate emails of %d visits of erased recipients",
                     erased)
        if events or rejected or held:
            log.info("retention deleted %d events and %d held link hits received before %s "
                     "and %d rejected events received before %s", events, held,
                     events_before.isoformat(), rejected, rejected_before.isoformat())
        return Pruned(events, rejected, batches_e + batches_r + batches_h, held, erased)

    async def _delete(self, statement: str, before: datetime) -> tuple[int, int]:
        deleted = batches = 0
        while batches < self.policy.max_batches:
            status = await self._pool.execute(statement, before, self.policy.batch_rows)
            batches += 1
            n = int(status.rsplit(" ", 1)[-1])  # "DELETE <n>"
            deleted += n
            if n < self.policy.batch_rows:
                break
        return deleted, batches


def start_retention(pool: asyncpg.Pool, settings: AggregatorSettings) -> RetentionJob:
    """The job of ``settings``, started: main.py's one line."""
    policy = RetentionPolicy(settings.events_retention_days, settings.rejected_retention_days,
                             batch_rows=settings.retention_batch_rows)
    job = RetentionJob(pool, policy, interval=settings.retention_interval_seconds)
    job.start()
    return job
