"""Composition root of the aggregator: consumers in group ``aggregator`` over a DB pool."""

from __future__ import annotations

import gc

import asyncpg

from shared.db import create_pool
from shared.kafka import group_options, make_broker
from shared.observability import LagReporter, OpsServer, readiness
from shared.periodic import stop_all

from .handlers import Loops, register_consumers
from .retention import RetentionJob, start_retention
from .settings import AggregatorSettings

__all__ = ["AggregatorService"]


def _tune_gc_for_batches() -> None:
    """Each batch allocates thousands of short-lived objects; with the default thresholds a
    full collection (~50 ms) ran about once per batch, 16% of the aggregator's time (bench/).
    Freeze what start-up built and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


class AggregatorService:
    """Start and stop the aggregator in any event loop: the CLI's, or a test's."""

    def __init__(self, settings: AggregatorSettings) -> None:
        self.settings = settings
        self.broker = make_broker(settings.kafka_bootstrap_servers, service="aggregator",
                                  linger_ms=1)
        self.pool: asyncpg.Pool | None = None
        self.loops: Loops | None = None
        self.retention: RetentionJob | None = None
        self.lag = LagReporter(self.broker)
        self.ops = (
            OpsServer(settings.metrics_host, settings.metrics_port,
                      lambda: readiness(lambda: self.pool, self.broker))
            if settings.metrics_port else None
        )

    async def start(self) -> None:
        _tune_gc_for_batches()
        self.pool = await create_pool(self.settings.database_url, max_size=4)
        self.loops = register_consumers(
            self.broker, self.pool, self.settings.topics, self.settings.aggregator_max_records,
            self.settings.rating_prior_weight,
            group_options(self.settings.kafka_session_timeout_ms), self.settings.link_burst,
        )
        await self.broker.start()
        self.loops.sweeper.start()
        if self.loops.link_hold is not None:
            self.loops.link_hold.start()
        self.retention = start_retention(self.pool, self.settings)
        self.lag.start()
        if self.ops is not None:
            await self.ops.start()

    async def stop(self) -> None:
        """Finish the batch in hand, commit, leave the group, then close the pool."""
        loops = (self.loops.sweeper, self.loops.link_hold) if self.loops else ()
        await stop_all(self.lag, *loops, self.retention, self.broker, self.ops)
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
