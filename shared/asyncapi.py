"""The AsyncAPI document of Glassboard's topics, as FastStream generates it.

The services publish through ``shared.kafka.publish_keyed`` (keyed, batched), not through
declared FastStream publishers, so this module declares each topic once, with its message
model, on a broker that is never started: it exists only to be described.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from .commands import RatingCommand
from .events import EventEnvelope, RejectedEvent
from .scores import AssetScoreUpdate
from .topics import Topics

__all__ = ["asyncapi_json"]


def _describe(topics: Topics, bootstrap_servers: str) -> KafkaBroker:
    broker = KafkaBroker(bootstrap_servers)
    documented = (
        (topics.events, EventEnvelope, "ingest, ratings (outbox relay)"),
        (topics.events_rejected, RejectedEvent, "ingest"),
        (topics.asset_scores, AssetScoreUpdate, "aggregator"),
        (topics.rating_commands, RatingCommand, "ingest (one-tap rating links)"),
    )
    for spec, model, producer in documented:
        configs = ", ".join(f"{k}={v}" for k, v in spec.config)
        broker.publisher(
            spec.name,
            schema=model,
            title=spec.name,
            description=(
                f"{spec.partitions} partitions, keyed by asset_id"
                f"{'; ' + configs if configs else ''}. Produced by {producer}. "
                "See docs/score-stream.md and docs/pipeline.md."
            ),
        )
    return broker


def asyncapi_json(topics: Topics, bootstrap_servers: str, version: str) -> str:
    spec = AsyncAPI(
        _describe(topics, bootstrap_servers),
        title="Glassboard event streams",
        version=version,
        description="Usage and rating events in, per-asset score states out.",
    )
    return spec.to_specification().to_json()
