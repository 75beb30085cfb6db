"""Bare limits: what the raw clients do with the same payloads, no Glassboard code between.

They bound what the aggregator could reach on this machine: it must consume every record,
decode it, write it to PostgreSQL and publish scores, so none of these alone can be beaten.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from shared.events import EventEnvelope
from shared.topics import TopicSpec

from .kafka_io import ArrivalWatcher, assigned_consumer, bulk_producer
from .stats import Latencies

__all__ = [
    "Throughput",
    "copy_rows",
    "decode_payloads",
    "kafka_round_trip",
    "produce",
    "consume",
]


@dataclass(frozen=True)
class Throughput:
    items: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


async def produce(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> Throughput:
    """Send every (key, value), then await all acks together, as ingest's batch path does."""
    producer = bulk_producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        acks = [await producer.send(topic, value, key=key) for key, value in messages]
        await asyncio.gather(*acks)
        return Throughput(len(messages), time.perf_counter() - started)
    finally:
        await producer.stop()


async def consume(bootstrap: str, spec: TopicSpec, expect: int, max_records: int,
                  timeout: float = 120.0) -> Throughput:
    """``getmany`` the topic from the start until ``expect`` records came back."""
    consumer = await assigned_consumer(bootstrap, spec, max_partition_fetch_bytes=4 << 20)
    try:
        seen = 0
        started = time.perf_counter()
        deadline = started + timeout
        while seen < expect and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=max_records)
            seen += sum(len(records) for records in batch.values())
        return Throughput(seen, time.perf_counter() - started)
    finally:
        await consumer.stop()


def decode_payloads(messages: Sequence[tuple[bytes, bytes]]) -> Throughput:
    """The aggregator's unavoidable per-record CPU: validating each envelope."""
    started = time.perf_counter()
    for _, value in messages:
        EventEnvelope.model_validate_json(value)
    return Throughput(len(messages), time.perf_counter() - started)


async def copy_rows(dsn: str, rows: Sequence[tuple[object, ...]]) -> Throughput:
    """COPY the rows into a plain table with ``events``' columns (no keys, no indexes)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE bench_copy (LIKE events)")
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=rows)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy")
        return Throughput(len(rows), elapsed)
    finally:
        await conn.close()


async def kafka_round_trip(
    bootstrap: str, spec: TopicSpec, *, rate: float, seconds: float, payload_size: int = 450
) -> Latencies:
    """Produce one keyed record at a time at ``rate``; latency is send() to the record
    reaching an assigned consumer. Same pacing and consumer as the pipeline probe."""
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    count = int(rate * seconds)
    done = asyncio.Event()

    def arrived(record: object, at: float) -> None:
        started = sent.get(record.key)  # type: ignore[attr-defined]
        if started is not None:
            latencies.append(at - started)
            if len(latencies) == count:
                done.set()

    watcher = ArrivalWatcher(bootstrap, spec, arrived)
    producer = bulk_producer(bootstrap, linger_ms=0, max_batch_size=16384)
    await producer.start()
    await watcher.start()
    try:
        padding = b"x" * payload_size
        acks = []
        started = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            key = f"rtt-{i}".encode()
            sent[key] = time.perf_counter()
            acks.append(await producer.send(spec.name, padding, key=key))
        await asyncio.gather(*acks)
        try:
            await asyncio.wait_for(done.wait(), 15)
        except TimeoutError:
            pass
    finally:
        await watcher.stop()
        await producer.stop()
    return Latencies(latencies, count)
