"""Kafka plumbing: topic creation (tansu does not auto-create) and broker construction."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from .topics import TopicSpec

__all__ = ["create_topics", "group_options", "make_broker", "publish_keyed"]

log = logging.getLogger(__name__)

FASTSTREAM_LOG = logging.getLogger("glassboard.faststream")
#: How long stopping waits for a handler in flight (FastStream's default is 15 s).
GRACEFUL_STOP_SECONDS = 7.0


async def create_topics(
    bootstrap_servers: str, specs: tuple[TopicSpec, ...], *, timeout: float = 30.0
) -> list[str]:
    """Create any missing topics; returns the names it created. Safe to run repeatedly."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(s.name, s.partitions, 1, topic_configs=dict(s.config))
                    for s in missing
                ]
            )
        return [s.name for s in missing]
    finally:
        await admin.close()


def make_broker(bootstrap_servers: str, *, service: str | None = None,
                **kwargs: object) -> KafkaBroker:
    """A broker with FastStream's own per-message logging quietened to DEBUG and, for a
    named service, FastStream's Prometheus middleware (messages received, published and
    their processing time, labelled ``app_name=service``)."""
    middlewares = (
        [KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service)] if service else []
    )
    # On stop, a subscriber waits this long for the message (batch) in hand to finish, so
    # SIGTERM finishes the batch, commits and still exits within 10 s.
    kwargs.setdefault("graceful_timeout", GRACEFUL_STOP_SECONDS)
    # Our own logger, so FastStream's lines go through the service's (JSON) handler
    # instead of FastStream's coloured one.
    return KafkaBroker(bootstrap_servers, log_level=logging.DEBUG, logger=FASTSTREAM_LOG,
                       middlewares=middlewares, **kwargs)  # type: ignore[arg-type]


def group_options(session_timeout_ms: int) -> dict[str, int]:
    """Consumer-group timing for a subscriber. tansu makes a joining member wait about half
    the session timeout (measured: 10 s -> 5.0 s, 2 s -> 1.0 s), so tests and
    ``glassboard dev`` shorten it (KAFKA_SESSION_TIMEOUT_MS). Heartbeats go five times per
    session: aiokafka wants them under a third of it."""
    return {"session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": max(100, session_timeout_ms // 5)}


async def publish_keyed(
    broker: KafkaBroker,
    topic: str,
    messages: list[tuple[str | None, bytes]],
    *,
    headers: dict[str, str] | None = None,
) -> None:
    """Publish (key, value) pairs and return once the broker acknowledged every one.

    Sending all first and awaiting the acks together lets aiokafka batch them; awaiting
    each publish in turn caps out near 1.5k messages/s.
    """
    acks = [
        await broker.publish(
            value,
            topic,
            key=key.encode() if key is not None else None,
            headers=headers or {"content-type": "application/json"},
            no_confirm=True,
        )
        for key, value in messages
    ]
    await asyncio.gather(*acks)
