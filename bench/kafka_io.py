"""Raw aiokafka helpers shared by the baselines and the latency probe.

Consumers here are assigned partitions directly (no consumer group), so they read from
the first poll with no join or rebalance delay in what they measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.topics import TopicSpec

__all__ = ["ArrivalWatcher", "assigned_consumer", "bulk_producer", "count_events"]


def bulk_producer(bootstrap: str, **overrides: Any) -> AIOKafkaProducer:
    """A producer tuned for throughput: big batches, a short linger."""
    options: dict[str, Any] = {"linger_ms": 5, "max_batch_size": 1 << 20, "acks": 1}
    options.update(overrides)
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **options)


async def assigned_consumer(bootstrap: str, spec: TopicSpec, **overrides: Any) -> AIOKafkaConsumer:
    """A started consumer positioned at the beginning of every partition of ``spec``."""
    options: dict[str, Any] = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
    options.update(overrides)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **options)
    await consumer.start()
    partitions = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer


async def count_events(bootstrap: str, spec: TopicSpec, idle_ms: int = 1000) -> tuple[int, int]:
    """(records, distinct ``event_id``s) on the topic, read until it stays quiet.

    Read rather than summed from end offsets: tansu's ListOffsets answers the base offset
    of a partition's last batch, which undercounts whenever producers batch.
    """
    consumer = await assigned_consumer(bootstrap, spec)
    records, ids = 0, set[str]()
    try:
        while batch := await consumer.getmany(timeout_ms=idle_ms, max_records=10_000):
            for partition_records in batch.values():
                records += len(partition_records)
                ids.update(json.loads(r.value)["event_id"] for r in partition_records)
        return records, len(ids)
    finally:
        await consumer.stop()


class ArrivalWatcher:
    """Polls a topic in the background and hands each record, with the time its batch
    arrived, to ``on_record``. Used by both latency probes, so both pay the same polling."""

    def __init__(
        self, bootstrap: str, spec: TopicSpec, on_record: Callable[[Any, float], None]
    ) -> None:
        self._bootstrap = bootstrap
        self._spec = spec
        self._on_record = on_record
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = await assigned_consumer(self._bootstrap, self._spec)
        self._task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            arrived = time.perf_counter()
            for records in batch.values():
                for record in records:
                    self._on_record(record, arrived)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
