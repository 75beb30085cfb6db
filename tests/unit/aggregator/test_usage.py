"""The pure usage rules: double-click filtering and per-bucket folding. No IO."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from services.aggregator.usage import (
    ALL_DEVICES,
    double_clicks,
    first_of_each_id,
    split_countable,
    summarize,
)
from shared.events import Device, DeviceClass, EventEnvelope, RejectReason, Source

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def event(type_: str = "view", *, at: datetime = T0, viewer: str | None = "v1",
          asset: str = "a1", device: DeviceClass = DeviceClass.DESKTOP, **extra: object) -> EventEnvelope:
    return EventEnvelope(type=type_, asset_id=asset, viewer_id=viewer, occurred_at=at,
                         device=Device(device_class=device), source=Source.PIXEL, **extra)


def test_repeat_view_within_30_seconds_counts_once() -> None:
    first, second = event(at=T0), event(at=T0 + timedelta(seconds=30))
    suppressed, changed = double_clicks([first, second], {})
    assert suppressed == {second.event_id}
    assert changed == {("a1", "v1", "view"): T0}


def test_repeat_view_after_30_seconds_counts_again() -> None:
    first, second = event(at=T0), event(at=T0 + timedelta(seconds=31))
    suppressed, changed = double_clicks([first, second], {})
    assert suppressed == frozenset()
    assert changed[("a1", "v1", "view")] == T0 + timedelta(seconds=31)


def test_window_is_anchored_on_the_last_counted_hit() -> None:
    # 0 s counts, 20 s is a double-click, 40 s is 40 s after the last *counted* hit: counts.
    hits = [event(at=T0 + timedelta(seconds=s)) for s in (0, 20, 40)]
    suppressed, _ = double_clicks(hits, {})
    assert suppressed == {hits[1].event_id}


def test_rule_remembers_hits_from_earlier_batches() -> None:
    later = event(at=T0 + timedelta(seconds=10))
    suppressed, changed = double_clicks([later], {("a1", "v1", "view"): T0})
    assert suppressed == {later.event_id} and changed == {}


def test_rule_is_per_viewer_per_type_and_ignores_anonymous_and_dwell() -> None:
    hits = [
        event(at=T0), event(at=T0, viewer="v2"), event("download", at=T0),
        event(at=T0, viewer=None), event(at=T0, viewer=None),
        event("dwell", at=T0, engaged_ms=5, wall_ms=5), event("dwell", at=T0, engaged_ms=5, wall_ms=5),
    ]
    suppressed, _ = double_clicks(hits, {})
    assert suppressed == frozenset()


def test_rule_applies_in_event_time_order_whatever_the_arrival_order() -> None:
    late_arrival = event(at=T0)
    early_arrival = event(at=T0 + timedelta(seconds=5))
    suppressed, _ = double_clicks([early_arrival, late_arrival], {})
    assert suppressed == {early_arrival.event_id}


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=40))
def test_counted_hits_are_always_more_than_30_seconds_apart(offsets: list[int]) -> None:
    hits = [event(at=T0 + timedelta(seconds=s)) for s in offsets]
    suppressed, _ = double_clicks(hits, {})
    counted = sorted(h.occurred_at for h in hits if h.event_id not in suppressed)
    assert all(b - a > timedelta(seconds=30) for a, b in zip(counted, counted[1:]))
    # ...and every suppressed hit lies within 30 s of a counted one.
    for hit in hits:
        if hit.event_id in suppressed:
            assert any(abs(hit.occurred_at - c) <= timedelta(seconds=30) for c in counted)


def test_split_countable_refuses_unknown_assets_and_bots() -> None:
    good, unknown, bot = event(), event(asset="ghost"), event(device=DeviceClass.BOT)
    countable, refused = split_countable([good, unknown, bot], {"a1"})
    assert countable == [good]
    assert refused == [(unknown, RejectReason.UNKNOWN_ASSET), (bot, RejectReason.BOT)]


def test_summarize_folds_events_into_device_and_all_buckets() -> None:
    view_id = uuid4()
    events = [
        event(at=T0, device=DeviceClass.PHONE),
        event(at=T0, viewer="v2", device=DeviceClass.DESKTOP),
        event("download", at=T0, device=DeviceClass.PHONE),
        event("dwell", at=T0, view_id=view_id, engaged_ms=4000, wall_ms=6000),
        event("dwell", at=T0 + timedelta(days=1), view_id=view_id, engaged_ms=1000, wall_ms=1000),
    ]
    suppressed = frozenset({events[1].event_id})
    usage = summarize(events, suppressed)
    day = date(2026, 3, 2)
    assert usage.daily[("a1", day, "phone")].views == 1
    assert usage.daily[("a1", day, "phone")].downloads == 1
    assert ("a1", day, "desktop") in usage.daily  # the dwell slice, not the suppressed view
    assert usage.daily[("a1", day, "desktop")].views == 0
    assert usage.daily[("a1", day, ALL_DEVICES)].views == 1
    assert usage.totals["a1"].engaged_ms == 5000 and usage.totals["a1"].wall_ms == 7000
    assert usage.viewer_days == {("a1", day, "phone", "v1"), ("a1", day, ALL_DEVICES, "v1")}
    assert usage.asset_viewers == {("a1", "v1")}
    # Dwell of one view stays on the day and device of its first slice.
    assert usage.dwell_by_view == {view_id: ("a1", day, "desktop", 5000, 7000)}
    assert usage.last_event_at["a1"] == T0 + timedelta(days=1)


def test_repeats_of_an_event_id_inside_one_batch_are_dropped() -> None:
    original = event()
    retry = original.model_copy()
    other = event(viewer="v2")
    assert first_of_each_id([original, retry, other]) == [original, other]


def test_pages_of_one_document_are_not_double_clicks_of_each_other() -> None:
    slides = [event(at=T0, page=1), event(at=T0 + timedelta(seconds=5), page=2),
              event(at=T0 + timedelta(seconds=10), page=1)]
    suppressed, _ = double_clicks(slides, {})
    assert suppressed == {slides[2].event_id}


def test_event_times_are_normalised_to_utc_so_days_are_utc_days() -> None:
    from datetime import timezone as tz

    late_evening_in_new_york = datetime(2026, 3, 2, 22, 0, tzinfo=tz(timedelta(hours=-5)))
    e = event(at=late_evening_in_new_york)
    assert e.occurred_at.tzinfo == timezone.utc and e.occurred_at.date() == date(2026, 3, 3)


def test_unknown_event_types_count_nowhere() -> None:
    usage = summarize([event("share")], frozenset())
    assert not usage.daily and not usage.totals and not usage.last_event_at
