"""Composition root of the notifier: rules on the score stream, and the delivery worker.

- ``consumer``: group ``notifier`` on ``asset-scores``, ``events`` and ``link-visits``
  (hot-engagement alerts to reps, ``link_consumer``); decisions and the position commit in
  one PostgreSQL transaction;
- ``sweeper``: fires pending rules whose confirmation delay passed;
- ``deliveries``: sends the outbox over ``channels`` (SMTP, webhooks), exactly once in
  effect. docs/alerts.md has the whole design.
"""

from __future__ import annotations

import logging

import asyncpg

from shared.db import create_pool
from shared.kafka import make_broker
from shared.observability import LagReporter, OpsServer, readiness
from shared.periodic import stop_all

from .channels import Channels, ConsoleEmail, EmailChannel, WebhookChannel
from .config import NotifierConfig
from .consumer import AlertConsumer
from .deliveries import DeliveryWorker
from .settings import NotifierSettings
from .sweeper import PendingSweeper

__all__ = ["NotifierService"]

log = logging.getLogger(__name__)


class NotifierService:
    """Start and stop the notifier in any event loop. A configuration that cannot deliver
    raises ``NotifierConfigError`` here, before anything starts."""

    def __init__(self, settings: NotifierSettings, *, sweep_seconds: float = 15.0) -> None:
        self.config = NotifierConfig.from_settings(settings)
        self.broker = make_broker(settings.kafka_bootstrap_servers, service="notifier")
        self.sweep_seconds = sweep_seconds
        self.pool: asyncpg.Pool | None = None
        self.lag = LagReporter(self.broker)
        # /metrics, /healthz and /readyz on METRICS_PORT (0: not served), as the aggregator.
        self.ops = (
            OpsServer(settings.metrics_host, settings.metrics_port,
                      lambda: readiness(lambda: self.pool, self.broker))
            if settings.metrics_port else None
        )
        self.channels: Channels | None = None
        self.worker: DeliveryWorker | None = None
        self.sweeper: PendingSweeper | None = None

    async def start(self) -> None:
        config, settings = self.config, self.config.settings
        self.pool = await create_pool(settings.database_url, max_size=4)
        email = (EmailChannel(config.smtp, config.public_url) if config.smtp
                 else ConsoleEmail(config.public_url))
        webhook = WebhookChannel(self.pool, config.webhook_secret, config.public_url,
                                 settings.webhook_timeout_seconds, config.production)
        self.channels = Channels(email, webhook)
        # A claimed delivery whose process died is retried after this lease: longer than
        # any one send can take (an SMTP exchange is several timed-out steps).
        lease = 60.0 + 6 * max(settings.smtp_timeout_seconds, settings.webhook_timeout_seconds)
        self.worker = DeliveryWorker(
            self.pool, self.channels, max_attempts=settings.alert_max_attempts,
            retry_base=settings.alert_retry_base_seconds,
            retry_max=settings.alert_retry_max_seconds, lease_seconds=lease,
            hold_seconds=config.hold_deliveries_seconds)
        self.sweeper = PendingSweeper(self.pool, config, interval_seconds=self.sweep_seconds,
                                      on_decided=self.worker.nudge)
        AlertConsumer(self.pool, config, on_decided=self.worker.nudge).register(self.broker)
        await self.broker.start()
        self.sweeper.start()
        self.worker.start()
        self.lag.start()
        if self.ops is not None:
            await self.ops.start()
        log.info("notifier started; email via %s",
                 config.smtp.describe() if config.smtp else "the console (no SMTP_HOST)")

    async def stop(self) -> None:
        """Finish the batch in hand, then stop sending and close the pool."""
        await stop_all(self.lag, self.broker, self.sweeper, self.worker)
        if self.channels is not None:
            await self.channels.close()
        await stop_all(self.ops)
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
