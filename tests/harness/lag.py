"""A consumer group's lag on the real broker, read as an operator would: the group's
committed offsets against the partitions' end offsets (aiokafka)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from devtools.settings import StackSettings
from harness.stack import eventually

__all__ = ["committed_and_end", "lag_is_zero"]


async def committed_and_end(settings: StackSettings, group: str, topic: str) -> tuple[int, int]:
    """The group's committed offsets and the end offsets, each summed over ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        assert tps
        ends = await consumer.end_offsets(tps)
        committed = 0
        for tp in tps:
            committed += (await consumer.committed(tp)) or 0
        return committed, sum(ends.values())
    finally:
        await consumer.stop()


async def lag_is_zero(settings: StackSettings, group: str, topic: str, published: int) -> None:
    """Lag zero: the group committed past every record published. (tansu's end offsets can
    read a few records short of the true end after large records, so the committed offsets
    are held against the count published, and must not trail the reported end either.)"""
    committed, end = await eventually(lambda: committed_and_end(settings, group, topic),
                                      lambda c: c[0] == published)
    assert committed >= end
