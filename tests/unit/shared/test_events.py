"""The envelope's dates lie in a sane range (2000-01-01 .. now + 1 day), in UTC; dates that
overflow on conversion are validation errors, never OverflowError."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.events import EventEnvelope, RejectedEvent, RejectReason, Source, in_sane_range

NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("field", ["occurred_at", "received_at", "previous_rated_at"])
# "tomorrow+5min" is resolved at run time: a parameter holding the time itself would differ
# between pytest-xdist workers, which must collect the same test ids.
@pytest.mark.parametrize("value", [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1999-12-31T23:59:59Z",
    "tomorrow+5min",
])
def test_dates_outside_the_range_are_validation_errors(field: str, value: str) -> None:
    if value == "tomorrow+5min":
        value = (datetime.now(timezone.utc) + timedelta(days=1, minutes=5)).isoformat()
    body = {"type": "view", "asset_id": "a", "source": "pixel", "occurred_at": NOW.isoformat(),
            field: value}
    with pytest.raises(ValidationError, match="out of range"):
        EventEnvelope.model_validate(body)


def test_dates_inside_the_range_are_kept_in_utc() -> None:
    at = datetime(2000, 1, 1, 5, tzinfo=timezone(timedelta(hours=5)))
    event = EventEnvelope(type="view", asset_id="a", source=Source.PIXEL, occurred_at=at)
    assert event.occurred_at == datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert event.occurred_at.utcoffset() == timedelta(0)
    soon = NOW + timedelta(hours=23)
    assert in_sane_range(soon) == soon


def test_the_range_is_wider_than_what_ingest_accepts() -> None:
    # ingest: at most 31 days old and 5 minutes ahead (services/ingest/incoming.py).
    for at in (NOW - timedelta(days=31), NOW + timedelta(minutes=5)):
        assert in_sane_range(at) == at


def test_a_rejection_with_an_absurd_receipt_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="out of range"):
        RejectedEvent.model_validate({"reason": RejectReason.BOT,
                                      "received_at": "0001-01-01T00:00:00+01:00"})
