"""Share-link visits fanned out live to the reps allowed to see them (SSE).

Every ratings process reads the whole ``link-visits`` topic (no consumer group), from its
end: the stream is a live feed; what happened before it opened is in the list and detail
APIs. Each subscription sees only the visits of links whose creator it may follow (its
user, their reps, or everyone for an admin), and holds at most the newest state per visit,
so a slow client never grows a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timezone

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import Gauge

from shared.share_links import LinkVisitUpdate
from shared.topics import Topics

from ..scores.streams import StreamSlots

__all__ = ["LinkHub", "VisitFeed"]

log = logging.getLogger(__name__)

LINK_STREAMS = Gauge("glassboard_link_visit_streams", "Open share-link visit streams (SSE)")


class VisitFeed:
    """One stream's pending visits. ``creators`` None: every link's (an admin)."""

    def __init__(self, creators: frozenset[int] | None, asset_id: str | None) -> None:
        self.creators = creators
        self.asset_id = asset_id
        self._newest: dict[str, LinkVisitUpdate] = {}
        self._arrived = asyncio.Event()

    def allows(self, update: LinkVisitUpdate) -> bool:
        return ((self.creators is None or update.creator_id in self.creators)
                and self.asset_id in (None, update.asset_id))

    def offer(self, update: LinkVisitUpdate) -> None:
        if not self.allows(update):
            return
        held = self._newest.get(update.event_id)
        if held is None or held.updated_at <= update.updated_at:
            self._newest[update.event_id] = update
            self._arrived.set()

    async def next_batch(self) -> list[LinkVisitUpdate]:
        """The visits that changed since the last batch, oldest change first."""
        await self._arrived.wait()
        self._arrived.clear()
        taken = list(self._newest.values())
        self._newest.clear()
        taken.sort(key=lambda u: u.updated_at)
        return taken


class LinkHub:
    def __init__(self) -> None:
        self._feeds: set[VisitFeed] = set()
        #: Open streams per user (STREAMS_PER_USER, counted apart from score streams).
        self.slots = StreamSlots()

    def apply(self, update: LinkVisitUpdate) -> None:
        if update.updated_at.tzinfo is None:  # compared with aware ones: read it as UTC
            update = update.model_copy(
                update={"updated_at": update.updated_at.replace(tzinfo=timezone.utc)})
        for feed in self._feeds:
            feed.offer(update)

    @contextlib.asynccontextmanager
    async def feed(self, creators: frozenset[int] | None,
                   asset_id: str | None) -> AsyncIterator[VisitFeed]:
        feed = VisitFeed(creators, asset_id)
        self._feeds.add(feed)
        LINK_STREAMS.inc()
        try:
            yield feed
        finally:
            self._feeds.discard(feed)
            LINK_STREAMS.dec()

    def listen(self, broker: KafkaBroker, topics: Topics) -> None:
        """Register the topic reader; call before the broker starts."""

        @broker.subscriber(topics.link_visits.name, auto_offset_reset="latest",
                           ack_policy=AckPolicy.ACK_FIRST, fetch_max_wait_ms=50,
                           include_in_schema=False)
        async def on_link_visit(message: KafkaMessage) -> None:
            try:
                update = LinkVisitUpdate.model_validate_json(message.body or b"")
            except ValueError:
                # Every ratings process reads every record: none dead-letters it.
                log.warning("unreadable link-visits message skipped")
                return
            self.apply(update)
