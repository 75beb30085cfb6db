"""Hands decided hits (and rating commands) to the broker, and waits for its acknowledgement.

Accepted envelopes go to ``events``, drops to ``events-rejected``, each keyed by asset id;
both are sent at once and awaited together, under one timeout, before the client is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from shared.events import EventEnvelope, RejectedEvent
from shared.kafka import publish_keyed
from shared.topics import Topics

from . import metrics
from .pipeline import Drop

__all__ = ["Publisher"]

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, broker: KafkaBroker, topics: Topics, timeout: float = 5.0) -> None:
        self.broker = broker
        self.topics = topics
        self.timeout = timeout
        self._later: set[asyncio.Task[None]] = set()

    async def publish(self, decided: Sequence[EventEnvelope | Drop]) -> None:
        """Publish accepted events and rejections; returns once the broker acknowledged all."""
        accepted = [d for d in decided if isinstance(d, EventEnvelope)]
        rejected = [d.record for d in decided if isinstance(d, Drop)]
        sends = []
        if accepted:
            sends.append(publish_keyed(
                self.broker, self.topics.events.name,
                [(e.asset_id, e.model_dump_json().encode()) for e in accepted],
            ))
        if rejected:
            sends.append(publish_keyed(
                self.broker, self.topics.events_rejected.name,
                [(r.asset_id, r.model_dump_json().encode()) for r in rejected],
            ))
        await asyncio.wait_for(asyncio.gather(*sends), self.timeout)
        for event in accepted:
            metrics.EVENTS_PUBLISHED.labels(event.type, event.source.value).inc()
        for record in rejected:
            metrics.EVENTS_REJECTED.labels(record.reason.value).inc()

    async def send(self, topic: str, asset_id: str, value: bytes,
                   headers: dict[str, str] | None = None) -> None:
        """One record, keyed by its asset, acknowledged within the timeout."""
        await asyncio.wait_for(
            publish_keyed(self.broker, topic, [(asset_id, value)], headers=headers),
            self.timeout,
        )

    def reject_later(self, records: Sequence[RejectedEvent]) -> None:
        """Send rejections to ``events-rejected`` without waiting: a rate-limited client is
        answered at once. The caller has counted them in the metrics already."""
        if not records:
            return
        task = asyncio.create_task(self._reject(records))
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _reject(self, records: Sequence[RejectedEvent]) -> None:
        try:
            await asyncio.wait_for(publish_keyed(
                self.broker, self.topics.events_rejected.name,
                [(r.asset_id, r.model_dump_json().encode()) for r in records],
            ), self.timeout)
        except Exception:  # noqa: BLE001 - a lost record of a refusal; the metric has it
            log.warning("rate-limited hits not recorded on events-rejected", exc_info=True)

    async def drain(self) -> None:
        """Wait for the rejections still being sent (before the broker stops)."""
        await asyncio.gather(*self._later, return_exceptions=True)
