"""Ingest's Prometheus metrics, declared once. No label ever carries an IP or a user id."""

from prometheus_client import Counter

__all__ = ["EVENTS_PUBLISHED", "EVENTS_REJECTED", "PUBLISH_FAILURES", "RATE_LIMITED"]

EVENTS_PUBLISHED = Counter(
    "glassboard_ingest_events_published_total",
    "Events acknowledged by the broker, by type and source",
    ["type", "source"],
)
EVENTS_REJECTED = Counter(
    "glassboard_ingest_events_rejected_total",
    "Hits refused at the edge (published to events-rejected or answered 4xx), by reason",
    ["reason"],
)
PUBLISH_FAILURES = Counter(
    "glassboard_ingest_publish_failures_total",
    "Hits that could not be handed to the broker in time",
    ["endpoint"],
)
RATE_LIMITED = Counter(
    "glassboard_ingest_rate_limited_total",
    "Hits refused with 429 (also in events_rejected_total as rate_limited), by limit",
    ["limit"],
)
