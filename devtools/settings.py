"""Every service's settings in one object, for what runs the whole stack at once: the dev
runner, the demo, the benchmarks and the tests. Services never see this class: each takes
its own, and this one is a subclass of all four, so it can be handed to any of them."""

from __future__ import annotations

from services.aggregator.settings import AggregatorSettings
from services.ingest.settings import IngestSettings
from services.notifier.settings import NotifierSettings
from services.ratings.settings import RatingsSettings

__all__ = ["StackSettings"]


class StackSettings(RatingsSettings, NotifierSettings, IngestSettings, AggregatorSettings):
    """The union of the four services' settings, read from one environment."""
