"""The edge's rate limits on the in-memory store: what they allow, what they refuse, and
the Retry-After they give."""

from __future__ import annotations

import pytest
from limits import parse_many

from services.ingest.settings import IngestSettings
from services.ingest.throttle import Bucket, Throttle, client_key


def _throttle(**limits: str) -> Throttle:
    return Throttle(IngestSettings.model_validate(limits))


async def test_a_client_is_refused_past_its_limit_with_the_seconds_to_wait() -> None:
    throttle = _throttle(INGEST_RATE_LIMIT_PIXEL="3/minute")
    assert [await throttle.retry_after(Bucket.PIXEL, "c1") for _ in range(3)] == [None] * 3
    retry = await throttle.retry_after(Bucket.PIXEL, "c1")
    assert retry is not None and 1 <= retry <= 60
    # Another client, and another path of the same client, have their own counts.
    assert await throttle.retry_after(Bucket.PIXEL, "c2") is None
    assert await throttle.retry_after(Bucket.BEACON, "c1") is None


async def test_a_batch_spends_one_per_event_and_a_refused_one_spends_nothing() -> None:
    throttle = _throttle(INGEST_RATE_LIMIT_BEACON="10/minute")
    assert await throttle.retry_after(Bucket.BEACON, "c1", cost=8) is None
    assert await throttle.retry_after(Bucket.BEACON, "c1", cost=5) is not None
    assert await throttle.retry_after(Bucket.BEACON, "c1", cost=2) is None
    assert await throttle.retry_after(Bucket.BEACON, "c1", cost=1) is not None


async def test_every_limit_of_a_bucket_applies() -> None:
    throttle = _throttle(INGEST_RATE_LIMIT_API_KEY="5/second;3/hour")
    assert await throttle.retry_after(Bucket.API_KEY, "key:1", cost=2) is None
    # 4 is within 5 a second but over 3 an hour: refused, and told to wait up to the hour.
    retry = await throttle.retry_after(Bucket.API_KEY, "key:1", cost=2)
    assert retry is not None and retry > 1
    assert await throttle.retry_after(Bucket.API_KEY, "key:1", cost=1) is None


async def test_limited_records_are_capped_per_second() -> None:
    throttle = _throttle()
    allowed = [await throttle.may_record() for _ in range(60)]
    assert allowed.count(True) == 50 and allowed[-1] is False


def test_the_client_key_hides_the_ip_and_changes_with_the_day() -> None:
    today, tomorrow = b"s" * 32, b"t" * 32
    key = client_key(today, "203.0.113.9")
    assert "203.0.113.9" not in key and len(key) == 32
    assert key == client_key(today, "203.0.113.9") != client_key(tomorrow, "203.0.113.9")
    assert key != client_key(today, "203.0.113.10")


def test_a_limit_that_does_not_parse_stops_the_service() -> None:
    with pytest.raises(ValueError, match="INGEST_RATE_LIMIT_PIXEL|rate_limit_pixel"):
        IngestSettings.model_validate({"INGEST_RATE_LIMIT_PIXEL": "lots per minute"})


def test_the_default_limits_leave_room_for_an_office_behind_one_nat() -> None:
    """The arithmetic of settings.py: 500 people, 20 emails an hour, 10 images each."""
    defaults = IngestSettings()
    per = {item.GRANULARITY.name: item.amount for item in
           parse_many(defaults.rate_limit_pixel)}
    office_hour = 500 * 20 * 10
    assert per["hour"] >= 2 * office_hour and per["minute"] >= 1.8 * (office_hour / 3 / 10)


async def test_an_office_peak_minute_passes_the_default_limits_and_a_flood_does_not() -> None:
    throttle = _throttle()
    office = 500 * 20 * 10 // 3 // 10  # a third of an hour's opens in 10 minutes: per minute
    passed = [await throttle.retry_after(Bucket.PIXEL, "office") for _ in range(office)]
    assert passed.count(None) == office == 3333
    # A flood from one address at the 500 views a second is cut within the minute.
    flood = [await throttle.retry_after(Bucket.PIXEL, "flooder") for _ in range(6500)]
    assert flood.count(None) == 6000
