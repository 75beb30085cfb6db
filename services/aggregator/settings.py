"""The aggregator's settings: the shared base, the scoring prior, its batch size, and how
long it keeps raw and refused events (docs/pipeline.md, "Retention")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from pydantic import Field, model_validator

from shared.scanners import BurstRule
from shared.settings import MetricsServerSettings, ScoringSettings

__all__ = ["AggregatorSettings", "DAY_MS", "LinkBurst", "REDELIVERY_MARGIN_DAYS",
           "redelivery_days"]

DAY_MS = 86_400_000

#: Kafka deletes a whole segment once its newest record is older than ``retention.ms``,
#: and rolls a segment every ``segment.ms`` (7 days by default): a record can outlive its
#: retention by one segment. Plus one day for the outbox, producer retries, the broker's
#: retention check and clock skew.
REDELIVERY_MARGIN_DAYS = 8


def redelivery_days(topic_retention_ms: int) -> int:
    """The longest a record of ``events`` can still be delivered after ingest received it,
    in whole days: the least ``EVENTS_RETENTION_DAYS`` may be."""
    return math.ceil(topic_retention_ms / DAY_MS) + REDELIVERY_MARGIN_DAYS


@dataclass(frozen=True)
class LinkBurst:
    """The burst rule for tracked links, and how much longer than its window a hit waits."""

    rule: BurstRule
    margin: timedelta


class AggregatorSettings(ScoringSettings, MetricsServerSettings):
    #: Batch size: bigger batches amortise one transaction over more events.
    aggregator_max_records: int = Field(5000, ge=1, alias="AGGREGATOR_MAX_RECORDS")
    #: Raw rows of ``events`` (the de-duplication record) older than this, by received_at,
    #: are deleted. Never below the topics' redelivery window (validated below).
    events_retention_days: int = Field(400, ge=1, le=36_500, alias="EVENTS_RETENTION_DAYS")
    #: Rows of ``rejected_events`` older than this (by received_at) are deleted.
    rejected_retention_days: int = Field(
        120, ge=1, le=36_500, alias="REJECTED_RETENTION_DAYS")
    #: ``retention.ms`` of the ``events`` and ``events-rejected`` topics: none is set in
    #: shared/topics.py or deploy/k8s/kafka-topics.yaml, so Kafka's default of 7 days.
    #: Raise it together with the topics' ``retention.ms`` (-1, infinite, is refused).
    events_topic_retention_ms: int = Field(
        7 * DAY_MS, ge=1, alias="EVENTS_TOPIC_RETENTION_MS")
    #: How often the retention job runs, and how many rows one of its deletes takes.
    retention_interval_seconds: float = Field(
        3600.0, gt=0, le=86_400, alias="RETENTION_INTERVAL_SECONDS")
    retention_batch_rows: int = Field(5000, ge=1, le=100_000, alias="RETENTION_BATCH_ROWS")

    # The burst rule for tracked links (docs/tracking.md, "Machine opens and scanners"):
    # links to LINK_BURST_LINKS distinct assets from one client within
    # LINK_BURST_WINDOW_SECONDS are a scanner's. Each tracked-link download waits the window
    # plus LINK_HOLD_MARGIN_SECONDS before it counts. LINK_BURST_LINKS=0 turns the rule off.
    link_burst_links: int = Field(3, ge=0, le=100, alias="LINK_BURST_LINKS")
    link_burst_window_seconds: float = Field(
        10.0, gt=0, le=300, alias="LINK_BURST_WINDOW_SECONDS")
    link_hold_margin_seconds: float = Field(2.0, ge=0, le=300, alias="LINK_HOLD_MARGIN_SECONDS")

    @property
    def link_burst(self) -> LinkBurst | None:
        if self.link_burst_links < 2:
            return None
        return LinkBurst(
            BurstRule(timedelta(seconds=self.link_burst_window_seconds), self.link_burst_links),
            timedelta(seconds=self.link_hold_margin_seconds))

    @model_validator(mode="after")
    def _retention_outlives_redelivery(self) -> AggregatorSettings:
        least = redelivery_days(self.events_topic_retention_ms)
        too_short = [
            f"{name}={days}" for name, days in (
                ("EVENTS_RETENTION_DAYS", self.events_retention_days),
                ("REJECTED_RETENTION_DAYS", self.rejected_retention_days),
            ) if days < least
        ]
        if too_short:
            raise ValueError(
                f"{' and '.join(too_short)} {'is' if len(too_short) == 1 else 'are'} "
                f"shorter than the redelivery window of "
                f"{least} days (EVENTS_TOPIC_RETENTION_MS={self.events_topic_retention_ms} "
                f"+ {REDELIVERY_MARGIN_DAYS} days): a record redelivered after its id was "
                "pruned would count twice"
            )
        return self
