"""The AsyncAPI document of Glassboard's topics, as FastStream generates it.

The services publish through ``shared.kafka.publish_keyed`` (keyed, batched), not through
declared FastStream publishers, so this module declares each topic once, with its message
model, on a broker that is never started: it exists only to be described.

Production documents no servers: the document is public, and where the brokers are is
nobody's business outside the cluster.
"""

from __future__ import annotations

import json

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


def asyncapi_json(topics: Topics, bootstrap_servers: str | None, version: str) -> str:
    """The document; with ``bootstrap_servers`` None (production) it names no server."""
    spec = AsyncAPI(
        # FastStream documents a channel only on a broker with a server: describe one,
        # then drop it.
        _describe(topics, bootstrap_servers or "kafka"),
        title="Glassboard event streams",
        version=version,
        description="Usage and rating events in, per-asset score states out.",
    )
    document = spec.to_specification().to_json()
    if bootstrap_servers is not None:
        return document
    parsed = json.loads(document)
    parsed.pop("servers", None)
    for channel in parsed.get("channels", {}).values():
        channel.pop("servers", None)
    return json.dumps(parsed, separators=(",", ":"))
