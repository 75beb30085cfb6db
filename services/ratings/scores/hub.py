"""The ratings app's live copy of every asset's score state, fanned out to SSE clients.

Two inputs keep it current:
- the ``asset-scores`` topic, read by every ratings process in full (no consumer group:
  each process needs every state), for sub-second updates;
- a poll of ``asset_score_state`` for revisions above the highest seen, at start-up and
  every few seconds, which repairs anything the topic path missed (a process that started
  between a commit and its publish, a broker hiccup). Revisions are commit-ordered, so the
  poll never skips a state.

A state replaces the held one only when its revision is higher. Slow clients never grow a
queue: each subscription holds at most the newest pending state per asset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import Gauge

from shared.periodic import Periodic
from shared.scores import AssetScoreUpdate
from shared.topics import Topics

from ..reads.aggregator import fetch_newer_states
from .listing import ScoreFilter
from .streams import StreamSlots

__all__ = ["ScoreHub", "Subscription", "decode_state"]

log = logging.getLogger(__name__)

SSE_CLIENTS = Gauge("glassboard_sse_clients", "Open score streams (SSE connections)")


def decode_state(body: bytes | None) -> AssetScoreUpdate | None:
    """The state in ``body``, or None for anything else (never an exception: the reader
    must move on whatever the bytes)."""
    try:
        return AssetScoreUpdate.model_validate_json(body or b"")
    except Exception:  # noqa: BLE001 - a hostile record is skipped, not raised
        return None


class Subscription:
    """One stream client's pending states: the newest per asset, sent in revision order."""

    def __init__(self, where: ScoreFilter) -> None:
        self.where = where
        self._pending: dict[str, AssetScoreUpdate] = {}
        self._ready = asyncio.Event()

    def offer(self, state: AssetScoreUpdate) -> None:
        if self.where.matches(state):
            self._pending[state.asset_id] = state
            self._ready.set()

    async def next_batch(self) -> list[AssetScoreUpdate]:
        await self._ready.wait()
        self._ready.clear()
        batch, self._pending = self._pending, {}
        return sorted(batch.values(), key=lambda s: s.revision)


class ScoreHub:
    def __init__(self, poll_seconds: float = 5.0) -> None:
        self.states: dict[str, AssetScoreUpdate] = {}
        self.revision = 0
        self.poll_seconds = poll_seconds
        self._subscriptions: set[Subscription] = set()
        #: Open streams per user (the per-user cap, STREAMS_PER_USER).
        self.slots = StreamSlots()
        self._poller: Periodic | None = None

    def apply(self, state: AssetScoreUpdate) -> bool:
        """Hold and fan out ``state`` if it is newer than what is held for its asset."""
        held = self.states.get(state.asset_id)
        if held is not None and held.revision >= state.revision:
            return False
        self.states[state.asset_id] = state
        self.revision = max(self.revision, state.revision)
        for subscription in self._subscriptions:
            subscription.offer(state)
        return True

    def since(self, revision: int, where: ScoreFilter) -> list[AssetScoreUpdate]:
        """Held states newer than ``revision`` that match, oldest first (a resume)."""
        return sorted(
            (s for s in self.states.values() if s.revision > revision and where.matches(s)),
            key=lambda s: s.revision,
        )

    @contextlib.asynccontextmanager
    async def subscribe(self, where: ScoreFilter) -> AsyncIterator[Subscription]:
        subscription = Subscription(where)
        self._subscriptions.add(subscription)
        SSE_CLIENTS.inc()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            SSE_CLIENTS.dec()

    # --- inputs ------------------------------------------------------------------------

    def listen(self, broker: KafkaBroker, topics: Topics) -> None:
        """Register the topic reader; call before the broker starts."""

        @broker.subscriber(
            topics.asset_scores.name,
            # No group: every ratings process reads every partition, from the end; the
            # database poll supplies what was published before it started.
            auto_offset_reset="latest",
            ack_policy=AckPolicy.ACK_FIRST,
            fetch_max_wait_ms=50,
            include_in_schema=False,
        )
        async def on_score_state(message: KafkaMessage) -> None:
            state = decode_state(message.body)
            if state is None:
                # Every ratings process reads every record, so none dead-letters it: the
                # notifier's group does, once.
                log.warning("unreadable asset-scores message at offset %s skipped",
                            getattr(message.raw_message, "offset", "?"))
                return
            self.apply(state)

    async def catch_up(self, pool: asyncpg.Pool) -> int:
        """Apply every stored state newer than the newest held; returns how many."""
        states = await fetch_newer_states(pool, self.revision)
        return sum(self.apply(AssetScoreUpdate.model_validate(s)) for s in states)

    def start_polling(self, pool: asyncpg.Pool) -> None:
        self._poller = Periodic("score-state-poll", self.poll_seconds,
                                lambda: self.catch_up(pool))
        self._poller.start()

    async def stop(self) -> None:
        if self._poller is not None:
            await self._poller.stop()
