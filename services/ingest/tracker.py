"""Turns a hit into an event envelope (or a rejection with its reason) and publishes it.

The edge stays dumb and fast: the catalog and the salt are cached, so a hit costs one
Kafka round trip and no database one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from faststream.kafka import KafkaBroker

from shared.events import (
    Device,
    DeviceClass,
    EventEnvelope,
    RejectedEvent,
    RejectReason,
    Source,
)
from shared.kafka import publish_keyed
from shared.topics import Topics

from . import metrics
from .catalog import CatalogCache
from .enrich import device_from_user_agent, referrer_host
from .visitors import DailySalts, anonymous_viewer_id

__all__ = ["HitContext", "Tracker"]

#: Never kept in rejected events: who it was (DNT or not) and where they came from.
_IDENTIFYING = frozenset({"viewer", "viewer_id", "referrer", "user_agent"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HitContext:
    """What one HTTP request tells us about who sent a hit. ``ip`` is only ever hashed."""

    ip: str
    user_agent: str
    tracking_refused: bool
    referrer: str | None
    now: datetime


class Tracker:
    def __init__(
        self,
        broker: KafkaBroker,
        catalog: CatalogCache,
        salts: DailySalts,
        topics: Topics,
        publish_timeout: float = 5.0,
    ) -> None:
        self.topics = topics
        self.broker = broker
        self.catalog = catalog
        self.salts = salts
        self.publish_timeout = publish_timeout

    def device(self, ctx: HitContext, user_agent: str | None = None) -> Device:
        return device_from_user_agent(user_agent if user_agent is not None else ctx.user_agent)

    async def viewer(self, ctx: HitContext, viewer_id: str | None, user_agent: str) -> str | None:
        """The viewer's id, a daily-salted anonymous hash, or None under DNT/GPC."""
        if ctx.tracking_refused:
            return None
        if viewer_id:
            return viewer_id
        salt = await self.salts.for_day(ctx.now.date())
        return anonymous_viewer_id(salt, ctx.ip, user_agent)

    async def hit(
        self,
        ctx: HitContext,
        *,
        event_type: str,
        source: Source,
        asset_id: str,
        viewer_id: str | None = None,
        page: int | None = None,
    ) -> EventEnvelope | RejectedEvent:
        """Build the envelope for a pixel, download or link hit, or the reason it is refused."""
        raw = {"type": event_type, "asset_id": asset_id, "page": page}
        if await self.catalog.url_for(asset_id) is None:
            return self.reject(RejectReason.UNKNOWN_ASSET, "no asset with this id", asset_id, source, raw)
        device = self.device(ctx)
        if device.device_class is DeviceClass.BOT:
            return self.reject(RejectReason.BOT, device.browser or "bot", asset_id, source, raw)
        return EventEnvelope(
            type=event_type,
            asset_id=asset_id,
            viewer_id=await self.viewer(ctx, viewer_id, ctx.user_agent),
            occurred_at=ctx.now,
            received_at=ctx.now,
            device=device,
            page=page,
            referrer_host=referrer_host(ctx.referrer),
            source=source,
        )

    @staticmethod
    def reject(
        reason: RejectReason,
        detail: str,
        asset_id: str | None,
        source: Source | None,
        raw: Mapping[str, object],
    ) -> RejectedEvent:
        return RejectedEvent(
            reason=reason,
            detail=detail[:500],
            asset_id=(asset_id or "")[:200] or None,
            source=source,
            payload={k: v for k, v in raw.items() if v is not None and k not in _IDENTIFYING},
        )

    async def publish(self, outcomes: list[EventEnvelope | RejectedEvent]) -> None:
        """Publish accepted events and rejections; returns once the broker acknowledged all."""
        accepted = [o for o in outcomes if isinstance(o, EventEnvelope)]
        rejected = [o for o in outcomes if isinstance(o, RejectedEvent)]
        sends = []
        if accepted:
            sends.append(
                publish_keyed(
                    self.broker,
                    self.topics.events.name,
                    [(e.asset_id, e.model_dump_json().encode()) for e in accepted],
                )
            )
        if rejected:
            sends.append(
                publish_keyed(
                    self.broker,
                    self.topics.events_rejected.name,
                    [(r.asset_id, r.model_dump_json().encode()) for r in rejected],
                )
            )
        await asyncio.wait_for(asyncio.gather(*sends), self.publish_timeout)
        for event in accepted:
            metrics.EVENTS_PUBLISHED.labels(event.type, event.source.value).inc()
        for rejection in rejected:
            metrics.EVENTS_REJECTED.labels(rejection.reason.value).inc()
