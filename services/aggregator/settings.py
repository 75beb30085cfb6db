"""The aggregator's settings: the shared base, the scoring prior and its batch size."""

from __future__ import annotations

from pydantic import Field

from shared.settings import MetricsServerSettings, ScoringSettings

__all__ = ["AggregatorSettings"]


class AggregatorSettings(ScoringSettings, MetricsServerSettings):
    #: Batch size: bigger batches amortise one transaction over more events.
    aggregator_max_records: int = Field(5000, ge=1, alias="AGGREGATOR_MAX_RECORDS")
