"""Aggregator metrics, declared once."""

from prometheus_client import Counter, Histogram

__all__ = ["BATCH_SECONDS", "BATCH_SIZE", "DEAD_LETTERED", "EVENTS_APPLIED", "STATES_PUBLISHED"]

EVENTS_APPLIED = Counter(
    "glassboard_aggregator_events_total", "Events read from Kafka, by outcome", ["outcome"]
)
DEAD_LETTERED = Counter(
    "glassboard_aggregator_dead_lettered_total", "Records sent to a dead-letter topic"
)
BATCH_SIZE = Histogram(
    "glassboard_aggregator_batch_size", "Records per consumed batch",
    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000),
)
BATCH_SECONDS = Histogram(
    "glassboard_aggregator_batch_seconds", "Time to apply one batch, DB commit included"
)
STATES_PUBLISHED = Counter(
    "glassboard_aggregator_states_published_total", "Score states published to asset-scores"
)
