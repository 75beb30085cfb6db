"""services/aggregator/usage.py's rating deltas and summaries, pure: how rating events
move the per-day histograms, in any order and any batching."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aggregator.usage import (
    double_clicks,
    guard_key,
    rating_deltas,
    rating_summary,
    split_countable,
    summarize,
)
from shared.events import EventEnvelope, RejectReason, Source

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
DAY0 = date(2026, 3, 10)


def rating(stars: int | None, *, at: datetime = T0, previous: int | None = None,
           previous_at: datetime | None = None, asset: str = "a1",
           rater: str = "user:1") -> EventEnvelope:
    return EventEnvelope(type="rating", asset_id=asset, viewer_id=rater, occurred_at=at,
                         source=Source.API, stars=stars, previous_stars=previous,
                         previous_rated_at=previous_at)


def test_a_first_rating_adds_one_on_its_day() -> None:
    assert rating_deltas([rating(4)]) == {("a1", DAY0, 4): 1}


def test_a_re_rating_moves_one_unit_from_the_old_day_and_stars() -> None:
    ten_days_ago = T0 - timedelta(days=10)
    moved = rating(5, previous=3, previous_at=ten_days_ago)
    assert rating_deltas([moved]) == {("a1", DAY0 - timedelta(days=10), 3): -1,
                                      ("a1", DAY0, 5): 1}


def test_a_withdrawal_removes_one_and_adds_nothing() -> None:
    assert rating_deltas([rating(None, previous=2, previous_at=T0)]) == {("a1", DAY0, 2): -1}


def test_deltas_that_cancel_out_leave_no_row() -> None:
    first = rating(4)
    same_again = rating(4, at=T0 + timedelta(hours=1), previous=4, previous_at=T0)
    assert rating_deltas([first, same_again]) == {("a1", DAY0, 4): 1}
    assert rating_deltas([same_again]) == {}


def test_days_are_utc_days_whatever_offset_the_event_carries() -> None:
    paris = timezone(timedelta(hours=2))
    early_in_paris = datetime(2026, 3, 11, 1, 0, tzinfo=paris)  # still the 10th in UTC
    assert rating_deltas([rating(3, at=early_in_paris)]) == {("a1", DAY0, 3): 1}
    assert rating_deltas([rating(None, at=T0, previous=1, previous_at=early_in_paris)]) == {
        ("a1", DAY0, 1): -1
    }


def test_ratings_never_touch_usage_counters_nor_the_double_click_rule() -> None:
    events = [rating(5), rating(4, at=T0 + timedelta(seconds=1), previous=5, previous_at=T0)]
    usage = summarize(events, frozenset())
    assert not usage.daily and not usage.totals and not usage.last_event_at
    assert not usage.viewer_days and not usage.asset_viewers and not usage.dwell_by_view
    assert all(guard_key(e) is None for e in events)
    assert double_clicks(events, {}) == (frozenset(), {})
    assert rating_deltas(events) == {("a1", DAY0, 4): 1}


def test_unknown_assets_and_replacements_without_a_date_are_refused() -> None:
    good = rating(5)
    ghost = rating(5, asset="ghost")
    undated = rating(5, previous=3)
    countable, refused = split_countable([good, ghost, undated], {"a1"})
    assert countable == [good]
    assert refused == [(ghost, RejectReason.UNKNOWN_ASSET), (undated, RejectReason.INVALID)]


def test_rating_summary_for_the_score_stream() -> None:
    s = rating_summary({5: 2, 4: 1})
    assert s.count == 3 and s.mean == pytest.approx(14 / 3)
    assert s.histogram == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}
    assert rating_summary({}).mean is None
    # A transiently negative bucket (a replacement overtook its original) reads as zero.
    assert rating_summary({3: -1, 5: 1}).count == 1


actions = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3),                # rater
              st.one_of(st.none(), st.integers(min_value=1, max_value=5)),  # stars or withdraw
              st.integers(min_value=0, max_value=20)),              # day offset
    max_size=40,
)


@settings(max_examples=300)
@given(actions, st.randoms(use_true_random=False))
def test_summed_deltas_in_any_order_equal_the_current_ratings(
    steps: list[tuple[int, int | None, int]], rng: random.Random
) -> None:
    """Replay what the ratings service emits; the deltas, applied in any order, always add
    up to one unit per current rating at its (day, stars)."""
    current: dict[int, tuple[int, datetime]] = {}
    events: list[EventEnvelope] = []
    for rater, stars, offset in steps:
        at = T0 + timedelta(days=offset)
        previous = current.get(rater)
        if stars is None and previous is None:
            continue  # withdrawing nothing emits nothing
        events.append(rating(stars, at=at, rater=f"user:{rater}",
                             previous=previous[0] if previous else None,
                             previous_at=previous[1] if previous else None))
        if stars is None:
            del current[rater]
        else:
            current[rater] = (stars, at)
    rng.shuffle(events)
    totals: Counter[tuple[str, date, int]] = Counter()
    for batch_start in range(0, len(events), 3):  # several batches, like the aggregator
        totals.update(rating_deltas(events[batch_start:batch_start + 3]))
    expected = Counter(("a1", at.date(), stars) for stars, at in current.values())
    assert +totals == expected and not -totals
