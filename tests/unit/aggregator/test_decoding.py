"""Decoding never raises, whatever the bytes: thousands of hostile records each become a
valid model or one rejection, and valid envelopes among them decode unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.hostile import generated, hand_made
from services.aggregator.decoding import decode_pairs, decode_records
from shared.events import EARLIEST_EVENT_TIME, EventEnvelope, RejectedEvent

NOW = datetime.now(timezone.utc)
VIEW: dict[str, Any] = {"type": "view", "asset_id": "asset", "source": "pixel",
                        "occurred_at": NOW.isoformat(), "viewer_id": "v1"}
REJECTION: dict[str, Any] = {"reason": "bot", "received_at": NOW.isoformat(),
                             "asset_id": "asset", "detail": "crawler"}


@dataclass
class Record:
    value: bytes | None
    key: bytes | None = b"asset"
    topic: str = "events"
    partition: int = 0
    offset: int = 0


HOSTILE_EVENTS = [*hand_made(VIEW, "occurred_at", "viewer_id"),
                  *hand_made(VIEW, "received_at", "referrer_host"),
                  *hand_made(VIEW, "previous_rated_at", "asset_id")]


def test_every_hand_made_hostile_record_becomes_one_rejection_and_valid_ones_decode() -> None:
    records = [Record(json.dumps(VIEW).encode(), offset=0)]
    records += [Record(v, offset=i + 1) for i, v in enumerate(HOSTILE_EVENTS)]
    records.append(Record(json.dumps({**VIEW, "viewer_id": "v2"}).encode(), offset=len(records)))
    valid, invalid = decode_pairs(records, EventEnvelope)
    assert [r.offset for r, _ in valid] == [0, len(records) - 1]
    assert [e.viewer_id for _, e in valid] == ["v1", "v2"]
    assert len(invalid) == len(HOSTILE_EVENTS)
    for _, rejection in invalid:
        assert rejection.reason == "invalid" and 0 < len(rejection.detail) <= 500
        assert "\x00" not in rejection.model_dump_json()


def test_hand_made_hostile_rejections_never_raise() -> None:
    bodies = hand_made(REJECTION, "received_at", "asset_id")
    valid, invalid = decode_pairs([Record(v) for v in bodies], RejectedEvent)
    # A NUL is scrubbed (the rejection stays storable); everything else is refused.
    assert [r.asset_id for _, r in valid] == ["a\ufffdb"]
    assert len(invalid) == len(bodies) - 1


def test_an_overflowing_date_is_a_rejection_that_names_the_field() -> None:
    body = json.dumps({**VIEW, "occurred_at": "0001-01-01T00:00:00+01:00"}).encode()
    events, [(_, rejection)] = decode_records([Record(body)], EventEnvelope)
    assert events == []
    assert "occurred_at" in rejection.detail and "out of range" in rejection.detail


def test_a_rejection_has_the_same_id_on_replay() -> None:
    one = decode_records([Record(b"{", offset=7)], EventEnvelope)[1][0][1]
    again = decode_records([Record(b"{", offset=7)], EventEnvelope)[1][0][1]
    assert one.event_id == again.event_id


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(generated(VIEW), generated(REJECTION)))
def test_generated_records_never_raise_and_always_split(value: bytes) -> None:
    for model in (EventEnvelope, RejectedEvent):
        valid, invalid = decode_pairs([Record(value)], model)
        assert len(valid) + len(invalid) == 1
        for _, rejection in invalid:
            assert rejection.detail and "\x00" not in rejection.model_dump_json()
        for _, event in valid:
            if isinstance(event, EventEnvelope):
                assert event.occurred_at.tzinfo == timezone.utc
                assert event.occurred_at >= EARLIEST_EVENT_TIME
