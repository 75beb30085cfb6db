"""Every topic, partition count and consumer group, named once.

Partitions: 6 on the event topics lets up to six aggregator processes share the load,
and one partition keeps ~20k small events/s comfortably (bench/), so 6 leaves headroom
for bursts. Events are always keyed by ``asset_id`` (never by IP), so one asset's events
stay ordered on one partition, which the double-click rule relies on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL_TOPICS",
    "ASSET_SCORES",
    "EVENTS",
    "EVENTS_DLQ",
    "EVENTS_REJECTED",
    "GROUP_AGGREGATOR",
    "GROUP_NOTIFIER",
    "TopicSpec",
]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: tuple[tuple[str, str], ...] = ()


#: Accepted tracking and rating events (views, downloads, dwell, ratings), keyed by asset_id.
EVENTS = TopicSpec("events", 6)
#: The "bad" stream from the edge: hits it refused (unknown asset, bot), with their reason.
EVENTS_REJECTED = TopicSpec("events-rejected", 3)
#: Messages on ``events`` that a consumer could not decode, with the reason in a header.
EVENTS_DLQ = TopicSpec("events-dlq", 1)
#: Latest state per asset after each aggregation batch; compacted, keyed by asset_id.
ASSET_SCORES = TopicSpec("asset-scores", 6, (("cleanup.policy", "compact"),))

ALL_TOPICS: tuple[TopicSpec, ...] = (EVENTS, EVENTS_REJECTED, EVENTS_DLQ, ASSET_SCORES)

GROUP_AGGREGATOR = "aggregator"
GROUP_NOTIFIER = "notifier"

#: Header that carries why a message went to a dead-letter topic.
DLQ_REASON_HEADER = "x-dlq-reason"
