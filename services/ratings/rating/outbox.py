"""Relay the rating outbox to Kafka: pending rows in id order, marked once acknowledged.

Several replicas may relay at once: ``FOR UPDATE SKIP LOCKED`` gives each its own rows.
Order across replicas does not matter, because rating events are deltas that commute;
each is applied exactly once by event_id downstream. A crash after publishing and before
marking re-sends a batch, which the aggregator's de-duplication absorbs.
"""

from __future__ import annotations

import json
import logging

import asyncpg
from faststream.kafka import KafkaBroker

from shared.kafka import publish_keyed
from shared.observability import db_timer
from shared.periodic import Drain

from .store import claim_pending, mark_published

__all__ = ["OutboxRelay"]

log = logging.getLogger(__name__)

#: Idle polling period: a rating reaches Kafka within this, well inside the 1 s target.
POLL_SECONDS = 0.05


class OutboxRelay(Drain):
    """``nudge()`` after a local rating publishes it at once rather than at the next poll."""

    def __init__(self, pool: asyncpg.Pool, broker: KafkaBroker, topic: str) -> None:
        super().__init__("rating-outbox-relay", self.relay_once, poll_seconds=POLL_SECONDS)
        self._pool = pool
        self._broker = broker
        self._topic = topic

    async def stop(self) -> None:
        await super().stop()
        await self.relay_once()  # flush what is pending, best effort

    async def relay_once(self) -> int:
        with db_timer("ratings", "outbox_relay"):
            return await self._relay_once()

    async def _relay_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await claim_pending(conn)
            if not rows:
                return 0
            events = [r["event"] for r in rows]  # a dict: the pool's jsonb codec decodes it
            await publish_keyed(self._broker, self._topic,
                                [(e["asset_id"], json.dumps(e).encode()) for e in events])
            await mark_published(conn, [r["id"] for r in rows])
        return len(rows)
