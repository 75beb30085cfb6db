"""Every topic, partition count and consumer group, named once.

Partitions: 6 on ``events`` lets up to six aggregator processes share the load; one
partition carries several thousand events/s (bench/), so 6 leaves headroom for bursts.
Events are always keyed by ``asset_id`` (never by IP), so one asset's events stay ordered
on one partition, which the double-click rule relies on.

An optional prefix (``KAFKA_TOPIC_PREFIX``) namespaces every topic and group, so several
stacks (or tests) can share one cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DLQ_REASON_HEADER", "TopicSpec", "Topics"]

#: Header that carries why a message went to a dead-letter topic.
DLQ_REASON_HEADER = "x-dlq-reason"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    @property
    def events(self) -> TopicSpec:
        """Accepted tracking and rating events (view, download, dwell, rating)."""
        return TopicSpec(f"{self.prefix}events", 6)

    @property
    def events_rejected(self) -> TopicSpec:
        """The edge's "bad" stream: hits it refused (unknown asset, bot), with the reason."""
        return TopicSpec(f"{self.prefix}events-rejected", 3)

    @property
    def events_dlq(self) -> TopicSpec:
        """Records a consumer could not decode, with the reason in a header."""
        return TopicSpec(f"{self.prefix}events-dlq", 1)

    @property
    def asset_scores(self) -> TopicSpec:
        """Latest state per asset after each aggregation batch; compacted, keyed by asset_id."""
        return TopicSpec(f"{self.prefix}asset-scores", 6, (("cleanup.policy", "compact"),))

    @property
    def rating_commands(self) -> TopicSpec:
        """Ratings given through one-tap links at the edge, for the ratings service to apply."""
        return TopicSpec(f"{self.prefix}rating-commands", 3)

    @property
    def link_visits(self) -> TopicSpec:
        """Each share-link visit's latest state (shared/share_links.py), keyed by link_id:
        for the rep's live feed and the notifier's hot-engagement alerts."""
        return TopicSpec(f"{self.prefix}link-visits", 3)

    @property
    def all(self) -> tuple[TopicSpec, ...]:
        return (
            self.events, self.events_rejected, self.events_dlq, self.asset_scores,
            self.rating_commands, self.link_visits,
        )

    @property
    def group_aggregator(self) -> str:
        return f"{self.prefix}aggregator"

    @property
    def group_rejected_store(self) -> str:
        """Its own group, so its members never force a rebalance of ``aggregator``."""
        return f"{self.prefix}aggregator-rejected"

    @property
    def group_ratings(self) -> str:
        return f"{self.prefix}ratings"

    @property
    def group_notifier(self) -> str:
        return f"{self.prefix}notifier"
