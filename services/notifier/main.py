"""Composition root of the notifier.

Issue 2 lays the pipe: the notifier joins group ``notifier`` on ``asset-scores`` and keeps
the latest state per asset. The alert rules, channels and exactly-once delivery are
issue 5; until then it only logs what it sees, at DEBUG.
"""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage

from shared.kafka import make_broker
from shared.scores import AssetScoreUpdate
from shared.settings import Settings

__all__ = ["NotifierService"]

log = logging.getLogger(__name__)


class NotifierService:
    def __init__(self, settings: Settings) -> None:
        self.broker = make_broker(settings.kafka_bootstrap_servers)
        self.latest: dict[str, AssetScoreUpdate] = {}

        @self.broker.subscriber(
            settings.topics.asset_scores.name,
            group_id=settings.topics.group_notifier,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )
        async def on_score(message: KafkaMessage) -> None:
            try:
                update = AssetScoreUpdate.model_validate_json(message.body)
            except ValueError:
                log.warning("unreadable asset-scores message skipped")
                return
            self.latest[update.asset_id] = update
            log.debug("score update for %s: %s", update.asset_id, update.totals)

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
