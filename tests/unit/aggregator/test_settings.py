"""The retention settings refuse a horizon shorter than the topics' redelivery window."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.aggregator.retention import RetentionPolicy
from services.aggregator.settings import DAY_MS, AggregatorSettings, redelivery_days
from shared.settings import SettingsError, load_settings


def test_defaults_outlive_kafkas_default_retention_by_a_segment_and_a_day() -> None:
    settings = AggregatorSettings()
    assert redelivery_days(settings.events_topic_retention_ms) == 7 + 7 + 1
    assert settings.events_retention_days == 400 and settings.rejected_retention_days == 120


def test_the_least_accepted_horizon_is_the_redelivery_window() -> None:
    assert AggregatorSettings(EVENTS_RETENTION_DAYS=15, REJECTED_RETENTION_DAYS=15)
    with pytest.raises(SettingsError) as refused:
        load_settings(AggregatorSettings, "aggregator", EVENTS_RETENTION_DAYS=14)
    assert str(refused.value) == (
        "the aggregator cannot start: EVENTS_RETENTION_DAYS=14 is shorter than the "
        "redelivery window of 15 days (EVENTS_TOPIC_RETENTION_MS=604800000 + 8 days): a "
        "record redelivered after its id was pruned would count twice")


def test_a_longer_topic_retention_raises_the_floor_of_both_horizons() -> None:
    with pytest.raises(SettingsError, match="EVENTS_RETENTION_DAYS=30 and "
                                            "REJECTED_RETENTION_DAYS=30 are .* 38 days"):
        load_settings(AggregatorSettings, "aggregator", EVENTS_TOPIC_RETENTION_MS=30 * DAY_MS,
                      EVENTS_RETENTION_DAYS=30, REJECTED_RETENTION_DAYS=30)
    # A partial day of retention counts as a whole one.
    assert redelivery_days(30 * DAY_MS + 1) == 39


def test_cutoffs_are_whole_days_before_now() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    assert RetentionPolicy(400, 120).cutoffs(now) == (datetime(2025, 10, 27, 12, tzinfo=timezone.utc),
                                     datetime(2026, 8, 3, 12, tzinfo=timezone.utc))
